"""Account records: one-time set-password tokens and the ledger of case-access grants."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models

from casemgmt.models.base import AuditContextMixin, FamilyOwned
from casemgmt.models.families import Family
from casemgmt.models.organisations import Organisation, User
from privacy.classification import DataCategory


class SetPasswordToken(AuditContextMixin, models.Model):
    """A one-time token with which a user sets their own password (new account, forgotten one).

    Issued by an administrator instead of a password they would know; only its SHA-256 digest
    is stored, it expires, and it is spent by its first use.
    """

    ORGANISATION_PATH = "organisation_id"
    PROCESSING_ACTIVITY = "account_management"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="set_password_tokens")
    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.SET_NULL, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"user": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "digest",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
    )

    def __str__(self) -> str:
        return f"Set-password token {self.pk}"


class AccessGrant(FamilyOwned, models.Model):
    """One grant of case access (an assignment or a deputyship), kept after it ends.

    The live permission rows are replaced on transfer and deleted when a deputy leaves; this
    ledger keeps who granted what to whom and when, for the DPO's report of access grants.
    Emergency access is listed from its own table, which already keeps every opening.
    """

    ORGANISATION_PATH = "organisation_id"
    # Ids only (who was granted which family, by whom): kept with the family, nothing to anonymise.
    FAMILY_PATH = "family_id"
    PROCESSING_ACTIVITY = "account_management"

    class Kind(models.TextChoices):
        ASSIGNMENT = "assignment", "Assignment of a family"
        DEPUTY = "deputy", "Deputy for a caseload"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    principal = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "principal": DataCategory.ACCOUNT,
        "grantee": DataCategory.ACCOUNT,
        "granted_by": DataCategory.ACCOUNT,
        "revoked_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "kind",
        "organisation",
        "family",
        "granted_at",
        "ends_at",
        "revoked_at",
    )

    class Meta:
        ordering = ("granted_at",)
        indexes = (models.Index(fields=("organisation", "granted_at"), name="access_grant_org_time"),)

    def __str__(self) -> str:
        return f"Access grant {self.pk} ({self.kind})"
