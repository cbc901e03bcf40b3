from rest_framework.routers import SimpleRouter

from bench.views import PlainFamilyViewSet, UnscopedFamilyViewSet

router = SimpleRouter()
router.register("plain-families", PlainFamilyViewSet, basename="bench-plain-family")
router.register("families-unscoped", UnscopedFamilyViewSet, basename="bench-unscoped-family")
urlpatterns = router.urls
