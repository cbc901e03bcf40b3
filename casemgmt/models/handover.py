"""Handing a case over inside a district tree (town -> district or district -> town).

Until the receiving organisation accepts, the offer is all the receiver sees: the offering
organisation, a reason category, the household size and the dates. No name, no reference,
no free text: the receiving office may also be a control authority (immigration, benefits),
and a declined offer must leave nothing behind there. The sender's note is encrypted and
shown to the sending side only.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from casemgmt.models.base import CaseRecord, SubjectExport
from casemgmt.models.casework import Consent
from casemgmt.models.families import Family
from casemgmt.models.organisations import Organisation, User
from privacy.cipher.fields import EncryptedTextField
from privacy.classification import DataCategory

HANDOVER_NOTE_MAX_LENGTH = 2000


def default_offer_expiry() -> datetime.datetime:
    """An offer lapses after ``HANDOVER_OFFER_DAYS`` (default 14) days without a decision."""
    return timezone.now() + datetime.timedelta(days=getattr(settings, "HANDOVER_OFFER_DAYS", 14))


class Handover(CaseRecord):
    """An offer to hand a family's case to another organisation of the same district tree."""

    ORGANISATION_PATH = "from_organisation_id"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="handovers",
        label={"en": "Handovers between offices", "de": "Übergaben zwischen Stellen"},
        with_id=False,
        household_flag=False,
        fields={
            "from": "from_organisation.name",
            "to": "to_organisation.name",
            "status": "effective_status",
            "legal_basis": "legal_basis",
            "offered_on": "created_at",
            "decided_on": "decided_at",
        },
    )
    ANONYMISE: ClassVar[dict[str, str]] = {"note": "clear"}

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    class Reason(models.TextChoices):
        MOVED = "moved", "The family moved into the receiver's area"
        SPECIALISED_SERVICE = "specialised_service", "The receiver offers the service the family needs"
        CAPACITY = "capacity", "Capacity or caseload"
        FAMILY_REQUEST = "family_request", "The family asked for it"
        OTHER = "other", "Other"

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", "Consent of the family (Art. 6(1)(a) GDPR, § 67b(2) SGB X)"
        STATUTORY_TASK = (
            "statutory_task",
            "Transmission for a statutory task (Art. 6(1)(e) GDPR, § 69(1) no. 1 SGB X)",
        )

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="handovers")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Encrypted and shown only to the sending side: free text may name people.
    note = EncryptedTextField(max_length=HANDOVER_NOTE_MAX_LENGTH, blank=True)
    legal_basis = models.CharField(max_length=20, choices=LegalBasis.choices)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household_size = models.PositiveSmallIntegerField(default=0)
    offered_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(default=default_offer_expiry)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    case_manager = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Assigned on acceptance.",
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "from_organisation": DataCategory.CASE_ADMINISTRATION,
        "to_organisation": DataCategory.CASE_ADMINISTRATION,
        "status": DataCategory.CASE_ADMINISTRATION,
        "reason": DataCategory.CASE_ADMINISTRATION,
        "note": DataCategory.CASE_NOTES,
        "legal_basis": DataCategory.CASE_ADMINISTRATION,
        "consent": DataCategory.CASE_ADMINISTRATION,
        "household_size": DataCategory.DEMOGRAPHIC,
        "case_manager": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("offered_by", "expires_at", "decided_by", "decided_at")

    class Meta:
        ordering = ("-created_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=("family",), condition=Q(status="offered"), name="handover_one_open_offer_per_family"
            ),
            models.CheckConstraint(
                condition=~Q(from_organisation=models.F("to_organisation")),
                name="handover_to_another_organisation",
            ),
        )

    def __str__(self) -> str:
        return f"Handover {self.pk} ({self.status})"

    @property
    def effective_status(self) -> str:
        """``expired`` for an offer past its expiry that nobody decided (no job needed to see it)."""
        if self.status == self.Status.OFFERED and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status
