"""Tenants, staff accounts and their roles."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from casemgmt.models.base import AuditContextMixin
from privacy.classification import DataCategory


class User(AuditContextMixin, AbstractUser):
    """A staff account; what it may do comes from its memberships."""

    PROCESSING_ACTIVITY = "account_management"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Set by an administrator instead of a password they would know: the current password
    # then only lets the user choose a new one (POST /auth/password/), no token is issued.
    must_change_password = models.BooleanField(
        default=False, help_text="The user must choose a new password at their next login."
    )
    # Until when the user may hold a running emergency access (set when one opens). Lets
    # the audit tag break-the-glass work without a query for every other user's entries.
    emergency_access_until = models.DateTimeField(null=True, blank=True, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "username": DataCategory.ACCOUNT,
        "emergency_access_until": DataCategory.ACCOUNT,
        "first_name": DataCategory.ACCOUNT,
        "last_name": DataCategory.ACCOUNT,
        "email": DataCategory.ACCOUNT,
        "last_login": DataCategory.ACCOUNT,
        "date_joined": DataCategory.ACCOUNT,
        # caseload groups (which families a user works on) and individual permissions
        "groups": DataCategory.ACCOUNT,
        "user_permissions": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "password",
        "is_superuser",
        "is_staff",
        "is_active",
        "must_change_password",
    )

    def __str__(self) -> str:
        return self.username


class Organisation(AuditContextMixin, models.Model):
    """A tenant: a district with its member towns as children, or a provider."""

    PROCESSING_ACTIVITY = "account_management"

    ORGANISATION_PATH = "id"

    class Kind(models.TextChoices):
        DISTRICT = "district", "District (Landkreis)"
        TOWN = "town", "Member town (kreisangehörige Gemeinde)"
        CITY = "city", "Independent city (kreisfreie Stadt)"
        PROVIDER = "provider", "Provider (Träger)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    reference_prefix = models.CharField(
        max_length=8,
        default="F",
        help_text="Prefix of family reference numbers, e.g. F-2026-00042.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "name",
        "kind",
        "parent",
        "reference_prefix",
        "created_at",
    )

    class Meta:
        ordering = ("name",)
        constraints = (
            models.UniqueConstraint(fields=("name",), name="organisation_name_unique"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="organisation_not_own_parent"),
        )

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CASE_MANAGER = "case_manager", "Case manager"
    SUPERVISOR = "supervisor", "Supervisor"
    DPO = "dpo", "Data protection officer"
    ADMIN = "admin", "Administrator"


class Membership(AuditContextMixin, models.Model):
    """A user's role in one organisation: being a member grants no case access by itself."""

    PROCESSING_ACTIVITY = "account_management"

    ORGANISATION_PATH = "organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"user": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "role", "created_at")

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("user", "organisation"), name="membership_one_role_per_organisation"
            ),
        )

    def __str__(self) -> str:
        return f"Membership {self.pk} ({self.role})"
