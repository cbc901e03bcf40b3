"""The v1 API: one router, every resource registered here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.access.views import (
    DeputyshipViewSet,
    EmergencyAccessRequestViewSet,
    EmergencyAccessViewSet,
    EmergencyOpeningViewSet,
)
from api.administration.views import MembershipViewSet, OrganisationViewSet, UserViewSet
from api.auth.views import LoginView, LogoutAllView, LogoutView, MeView, PasswordChangeView, PasswordSetView
from api.casework.conferences import ConferenceViewSet
from api.casework.consents import ConsentViewSet
from api.casework.contacts import ContactViewSet
from api.casework.dashboard import CaseloadCountsView, DashboardView
from api.casework.goals import GoalViewSet
from api.casework.plans import AssessmentViewSet, PlanApprovalViewSet, PlanVersionViewSet, PlanViewSet
from api.casework.referrals import ReferralViewSet
from api.catalogue.views import CourseViewSet, FieldOfActionViewSet, ProviderViewSet
from api.documents.views import DocumentViewSet
from api.families.views import CaseOverviewViewSet, FamilyViewSet
from api.handovers.views import HandoverViewSet
from api.persons.duplicates import DuplicateReviewViewSet
from api.persons.views import PersonViewSet
from api.privacy.access_grants import AccessGrantReportView
from api.privacy.audit_events import AuditEventViewSet
from api.privacy.breaches import BreachViewSet
from api.privacy.controllers import ControllerProfileView
from api.privacy.erasure import ErasureRequestViewSet
from api.privacy.registry import RecordVersionsView, RegistryView
from api.privacy.retention import RetentionPreviewView, RetentionReportsView, RetentionSettingsView
from api.privacy.rights import ObjectionViewSet, RecipientNoticeViewSet, RectificationView
from api.privacy.subjects import LegalHoldView, RestrictionView, SubjectExportView
from api.reports.views import LandReportView, ReportIndicatorViewSet
from api.stats.views import OutcomeChartView, OutcomeStatisticsView

router = SimpleRouter()
router.register("families", FamilyViewSet, basename="family")
router.register("persons", PersonViewSet, basename="person")
router.register("duplicate-reviews", DuplicateReviewViewSet, basename="duplicate-review")
router.register("goals", GoalViewSet, basename="goal")
router.register("plans", PlanViewSet, basename="plan")
router.register("plan-versions", PlanVersionViewSet, basename="plan-version")
router.register("plan-approvals", PlanApprovalViewSet, basename="plan-approval")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("consents", ConsentViewSet, basename="consent")
router.register("conferences", ConferenceViewSet, basename="conference")
router.register("contacts", ContactViewSet, basename="contact")
router.register("fields-of-action", FieldOfActionViewSet, basename="field-of-action")
router.register("providers", ProviderViewSet, basename="provider")
router.register("courses", CourseViewSet, basename="course")
router.register("case-overview", CaseOverviewViewSet, basename="case-overview")
router.register("audit/events", AuditEventViewSet, basename="audit-event")
router.register("privacy/erasure-requests", ErasureRequestViewSet, basename="erasure-request")
router.register("privacy/recipient-notices", RecipientNoticeViewSet, basename="recipient-notice")
router.register("privacy/objections", ObjectionViewSet, basename="objection")
router.register("privacy/breaches", BreachViewSet, basename="breach")
router.register("deputies", DeputyshipViewSet, basename="deputy")
router.register("emergency-access", EmergencyAccessViewSet, basename="emergency-access")
router.register(
    "emergency-access-requests", EmergencyAccessRequestViewSet, basename="emergency-access-request"
)
router.register("emergency-openings", EmergencyOpeningViewSet, basename="emergency-opening")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("handovers", HandoverViewSet, basename="handover")
router.register("documents", DocumentViewSet, basename="document")
router.register("report-indicators", ReportIndicatorViewSet, basename="report-indicator")

urlpatterns = [
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("auth/password/", PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/password/set/", PasswordSetView.as_view(), name="auth-password-set"),
    path("privacy/access-grants/", AccessGrantReportView.as_view(), name="privacy-access-grants"),
    path("privacy/registry/", RegistryView.as_view(), name="privacy-registry"),
    path("privacy/registry/versions/", RecordVersionsView.as_view(), name="privacy-registry-versions"),
    path(
        "privacy/controllers/<str:organisation_id>/",
        ControllerProfileView.as_view(),
        name="privacy-controller",
    ),
    path(
        "privacy/retention/<str:organisation_id>/",
        RetentionSettingsView.as_view(),
        name="privacy-retention",
    ),
    path(
        "privacy/retention/<str:organisation_id>/reports/",
        RetentionReportsView.as_view(),
        name="privacy-retention-reports",
    ),
    path(
        "privacy/retention/<str:organisation_id>/preview/",
        RetentionPreviewView.as_view(),
        name="privacy-retention-preview",
    ),
    path("privacy/subjects/<str:person_id>/export/", SubjectExportView.as_view(), name="subject-export"),
    path(
        "privacy/subjects/<str:person_id>/restriction/", RestrictionView.as_view(), name="subject-restriction"
    ),
    path(
        "privacy/subjects/<str:person_id>/rectifications/",
        RectificationView.as_view(),
        name="subject-rectifications",
    ),
    path("privacy/families/<str:family_id>/legal-hold/", LegalHoldView.as_view(), name="family-legal-hold"),
    path("stats/outcomes/", OutcomeStatisticsView.as_view(), name="stats-outcomes"),
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("dashboard/caseloads/", CaseloadCountsView.as_view(), name="dashboard-caseloads"),
    path("reports/land/", LandReportView.as_view(), name="report-land"),
    path("stats/outcomes/chart.svg", OutcomeChartView.as_view(), name="stats-outcomes-chart"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]
