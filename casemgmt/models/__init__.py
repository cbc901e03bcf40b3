"""Domain models, one module per aggregate; import them from here."""

from casemgmt.models.access import (
    Caseload,
    Deputyship,
    EmergencyAccess,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
)
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
from casemgmt.models.families import (
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    BenefitStatus,
    Family,
    FamilyReferenceCounter,
    Person,
    not_before_1900,
    not_in_future,
    validate_language_codes,
)
from casemgmt.models.organisations import Membership, Organisation, Role, User

__all__ = [
    "DEFAULT_FIELDS_OF_ACTION",
    "NAME_MAX_LENGTH",
    "NOTES_MAX_LENGTH",
    "Agency",
    "BenefitStatus",
    "CaseConference",
    "Caseload",
    "ConferenceParticipant",
    "Consent",
    "Contact",
    "Course",
    "Deputyship",
    "EmergencyAccess",
    "Family",
    "FamilyGroupObjectPermission",
    "FamilyReferenceCounter",
    "FamilyUserObjectPermission",
    "FieldOfAction",
    "Goal",
    "GoalReview",
    "Membership",
    "Organisation",
    "Person",
    "Provider",
    "Referral",
    "ReferralTransition",
    "Role",
    "User",
    "not_before_1900",
    "not_in_future",
    "validate_language_codes",
]
