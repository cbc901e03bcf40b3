"""The v1 API: one router, every resource registered here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.access.views import DeputyshipViewSet, EmergencyAccessViewSet
from api.administration.views import MembershipViewSet, OrganisationViewSet, UserViewSet
from api.auth.views import LoginView, LogoutAllView, LogoutView, MeView
from api.families.views import CaseOverviewViewSet, FamilyViewSet
from api.persons.views import PersonViewSet

router = SimpleRouter()
router.register("families", FamilyViewSet, basename="family")
router.register("persons", PersonViewSet, basename="person")
router.register("case-overview", CaseOverviewViewSet, basename="case-overview")
router.register("deputies", DeputyshipViewSet, basename="deputy")
router.register("emergency-access", EmergencyAccessViewSet, basename="emergency-access")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("memberships", MembershipViewSet, basename="membership")

urlpatterns = [
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]
