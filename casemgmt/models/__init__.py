"""Domain models, one module per aggregate; import them from here."""

from casemgmt.models.access import (
    Caseload,
    Deputyship,
    EmergencyAccess,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
)
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
    "NAME_MAX_LENGTH",
    "NOTES_MAX_LENGTH",
    "BenefitStatus",
    "Caseload",
    "Deputyship",
    "EmergencyAccess",
    "Family",
    "FamilyGroupObjectPermission",
    "FamilyReferenceCounter",
    "FamilyUserObjectPermission",
    "Membership",
    "Organisation",
    "Person",
    "Role",
    "User",
    "not_before_1900",
    "not_in_future",
    "validate_language_codes",
]
