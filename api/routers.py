"""The v1 API: one router, every resource registered here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.auth.views import LoginView, LogoutAllView, LogoutView, MeView
from api.families.views import FamilyViewSet
from api.persons.views import PersonViewSet

router = SimpleRouter()
router.register("families", FamilyViewSet, basename="family")
router.register("persons", PersonViewSet, basename="person")

urlpatterns = [
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]
