"""Who may open which family: guardian grants, caseloads, deputies, emergency access.

Grants are made on the family only (direct foreign-key permission tables, not guardian's
generic ones); persons and every later child object are authorised through their family.
A family is granted to the *caseload* group of its case manager; the case manager and
the deputies they name are the members of that group, so naming or removing a deputy is
one membership change and a transfer moves one grant.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casemgmt.models.base import AuditContextMixin, FamilyOwned
from casemgmt.models.families import Family
from casemgmt.models.organisations import Organisation, User
from privacy.cipher.fields import EncryptedTextField
from privacy.classification import DataCategory


class FamilyUserObjectPermission(AuditContextMixin, UserObjectPermissionBase):
    """A permission on one family for one user (direct foreign key: fast, no orphans)."""

    PROCESSING_ACTIVITY = "account_management"

    ORGANISATION_PATH = "content_object.organisation_id"

    content_object = models.ForeignKey(Family, on_delete=models.CASCADE)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"user": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "permission", "content_object")

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False  # guardian's base Meta already makes (grantee, permission, family) unique


class FamilyGroupObjectPermission(AuditContextMixin, GroupObjectPermissionBase):
    """A permission on one family for a group (a caseload)."""

    PROCESSING_ACTIVITY = "account_management"

    ORGANISATION_PATH = "content_object.organisation_id"

    content_object = models.ForeignKey(Family, on_delete=models.CASCADE)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "group", "permission", "content_object")

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False  # guardian's base Meta already makes (grantee, permission, family) unique


class Caseload(AuditContextMixin, models.Model):
    """A case manager's caseload: the group that holds the grants of their families."""

    PROCESSING_ACTIVITY = "account_management"

    owner = models.OneToOneField(User, on_delete=models.CASCADE, related_name="caseload")
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="caseload")

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"owner": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "group")

    def __str__(self) -> str:
        return f"Caseload {self.pk}"


class Deputyship(AuditContextMixin, models.Model):
    """``deputy`` stands in for ``principal`` (absence cover) until it is ended."""

    PROCESSING_ACTIVITY = "account_management"

    ORGANISATION_PATH = "organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    principal = models.ForeignKey(User, on_delete=models.CASCADE, related_name="deputies_named")
    deputy = models.ForeignKey(User, on_delete=models.CASCADE, related_name="deputy_for")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Absence cover ends: access through the principal's caseload stops at this time even if
    # nobody removes the deputy (policies.family_access checks it on every query).
    ends_at = models.DateTimeField(null=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "principal": DataCategory.ACCOUNT,
        "deputy": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "created_by", "created_at", "ends_at")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("principal", "deputy"), name="deputyship_unique"),
            models.CheckConstraint(condition=~Q(principal=models.F("deputy")), name="deputyship_not_self"),
        )

    def __str__(self) -> str:
        return f"Deputyship {self.pk}"


class EmergencyAccess(FamilyOwned, models.Model):
    """Break the glass: time-limited access to a family not assigned to the user.

    The reason is encrypted because it usually describes the family's situation ("child
    at risk, mother in hospital"). Every opening stays listed for supervisor and DPO review.
    """

    ORGANISATION_PATH = "family.organisation_id"
    FAMILY_PATH = "family_id"
    PROCESSING_ACTIVITY = "account_management"
    ANONYMISE: ClassVar[dict[str, str]] = {"reason": "mark", "review_note": "clear"}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="emergency_accesses")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = EncryptedTextField(max_length=2000)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(max_length=2000, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "reason": DataCategory.CASE_NOTES,
        "review_note": DataCategory.CASE_NOTES,
        "user": DataCategory.ACCOUNT,
        "reviewed_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "family",
        "opened_at",
        "expires_at",
        "ended_at",
        "reviewed_at",
    )

    class Meta:
        ordering = ("-opened_at",)
        indexes = (models.Index(fields=("user", "expires_at"), name="emergency_access_user_expiry"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("opened_at")), name="emergency_access_expires"
            ),
        )

    def __str__(self) -> str:
        return f"Emergency access {self.pk}"


class EmergencyAccessRequest(FamilyOwned, models.Model):
    """A request to break the glass again, which a supervisor must approve before access opens.

    Ending an emergency access and reopening it at once would reset its clock and slip past
    review; so a second opening by the same user on the same family within the reopen
    window is a request, and the access opens only when a supervisor approves it.
    """

    ORGANISATION_PATH = "family.organisation_id"
    FAMILY_PATH = "family_id"
    PROCESSING_ACTIVITY = "account_management"
    ANONYMISE: ClassVar[dict[str, str]] = {"reason": "mark"}

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="emergency_access_requests")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="emergency_access_requests")
    reason = EncryptedTextField(max_length=2000)
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    access = models.OneToOneField(
        EmergencyAccess, null=True, blank=True, on_delete=models.CASCADE, related_name="approval"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "reason": DataCategory.CASE_NOTES,
        "user": DataCategory.ACCOUNT,
        "decided_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "family",
        "requested_at",
        "status",
        "decided_at",
        "access",
    )

    class Meta:
        ordering = ("-requested_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("family", "user"),
                condition=Q(status="pending"),
                name="emergency_request_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, access__isnull=True)
                | Q(status="declined", decided_at__isnull=False, access__isnull=True)
                | Q(status="approved", decided_at__isnull=False, access__isnull=False),
                name="emergency_request_decided",
            ),
        )

    def __str__(self) -> str:
        return f"Emergency access request {self.pk}"
