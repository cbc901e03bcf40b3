from django.urls import path
from rest_framework.routers import SimpleRouter

from bench.views import BareFamilyList, PlainFamilyViewSet, UnscopedFamilyViewSet

router = SimpleRouter()
router.register("plain-families", PlainFamilyViewSet, basename="bench-plain-family")
router.register("families-unscoped", UnscopedFamilyViewSet, basename="bench-unscoped-family")
urlpatterns = [path("bare-families/", BareFamilyList.as_view(), name="bench-bare-families"), *router.urls]
