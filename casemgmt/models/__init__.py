"""Domain models, one module per aggregate; import them from here."""

from casemgmt.models.access import (
    Caseload,
    Deputyship,
    EmergencyAccess,
    EmergencyAccessRequest,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
)
from casemgmt.models.accounts import AccessGrant, SetPasswordToken
from casemgmt.models.casework import (
    Agency,
    CaseConference,
    ConferenceParticipant,
    Consent,
    Contact,
    Goal,
    GoalReview,
    Referral,
    ReferralTransition,
)
from casemgmt.models.catalogue import DEFAULT_FIELDS_OF_ACTION, Course, FieldOfAction, Provider
from casemgmt.models.documents import DOCUMENT_TARGETS, Document
from casemgmt.models.families import (
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    RESIDENCE_CATEGORY_OF,
    BenefitStatus,
    DuplicateReview,
    Family,
    FamilyReferenceCounter,
    Person,
    PersonSearchTerm,
    ResidenceCategory,
    district_of,
    not_before_1900,
    not_in_future,
    validate_language_codes,
)
from casemgmt.models.handover import Handover
from casemgmt.models.organisations import Membership, Organisation, Role, User
from casemgmt.models.plans import Assessment, IntegrationPlan, PlanVersion
from casemgmt.models.reporting import ReportIndicator

__all__ = [
    "DEFAULT_FIELDS_OF_ACTION",
    "DOCUMENT_TARGETS",
    "NAME_MAX_LENGTH",
    "NOTES_MAX_LENGTH",
    "RESIDENCE_CATEGORY_OF",
    "AccessGrant",
    "Agency",
    "Assessment",
    "BenefitStatus",
    "CaseConference",
    "Caseload",
    "ConferenceParticipant",
    "Consent",
    "Contact",
    "Course",
    "Deputyship",
    "Document",
    "DuplicateReview",
    "EmergencyAccess",
    "EmergencyAccessRequest",
    "Family",
    "FamilyGroupObjectPermission",
    "FamilyReferenceCounter",
    "FamilyUserObjectPermission",
    "FieldOfAction",
    "Goal",
    "GoalReview",
    "Handover",
    "IntegrationPlan",
    "Membership",
    "Organisation",
    "Person",
    "PersonSearchTerm",
    "PlanVersion",
    "Provider",
    "Referral",
    "ReferralTransition",
    "ReportIndicator",
    "ResidenceCategory",
    "Role",
    "SetPasswordToken",
    "User",
    "district_of",
    "not_before_1900",
    "not_in_future",
    "validate_language_codes",
]
