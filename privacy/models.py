"""The audit log: django-auditlog's entry, extended with the processing activity, the
organisation it concerns, the objects a read returned, and a hash chain."""

from __future__ import annotations

import uuid
from typing import ClassVar

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.db import models

from privacy.classification import DataCategory
from privacy.fields import EncryptedTextField


class AuditEntry(AbstractLogEntry):
    """One audited write or read. Never changed after it is chained; the API has no write to it."""

    activity = models.CharField(max_length=60, blank=True, db_index=True)  # type: ignore[var-annotated]
    organisation_id = models.UUIDField(null=True, blank=True, db_index=True)  # type: ignore[var-annotated]
    object_ids = models.JSONField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)  # type: ignore[var-annotated]
    prev_hash = models.CharField(max_length=64, blank=True)  # type: ignore[var-annotated]
    hash = models.CharField(max_length=64, blank=True)  # type: ignore[var-annotated]

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "actor": DataCategory.ACCOUNT,
        "actor_email": DataCategory.ACCOUNT,
        "remote_addr": DataCategory.ACCOUNT,
        "remote_port": DataCategory.ACCOUNT,
        "object_pk": DataCategory.CASE_ADMINISTRATION,
        "object_id": DataCategory.CASE_ADMINISTRATION,
        "object_ids": DataCategory.CASE_ADMINISTRATION,
        "changes": DataCategory.CASE_ADMINISTRATION,
        "changes_text": DataCategory.CASE_ADMINISTRATION,
        "serialized_data": DataCategory.CASE_ADMINISTRATION,
        "additional_data": DataCategory.CASE_ADMINISTRATION,
        "timestamp": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "content_type",
        "object_repr",
        "action",
        "cid",
        "activity",
        "organisation_id",
        "seq",
        "prev_hash",
        "hash",
    )

    class Meta(AbstractLogEntry.Meta):
        abstract = False
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = (models.Index(fields=("organisation_id", "timestamp"), name="audit_org_time"),)


class AuditChainHead(models.Model):
    """The end of the hash chain: locked while a new entry is appended, so links never fork."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    # Retention prunes the oldest links; the chain is then verified from this anchor on.
    floor_seq = models.BigIntegerField(default=0)
    floor_hash = models.CharField(max_length=64, default="0" * 64)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "seq", "hash", "floor_seq", "floor_hash")

    def __str__(self) -> str:
        return f"audit chain at {self.seq}"


class Restriction(models.Model):
    """Restriction of processing (Art. 18): while active, only the DPO reads the person's data,
    and nobody changes or shares it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("casemgmt.Person", on_delete=models.CASCADE, related_name="restrictions")
    reason = EncryptedTextField(max_length=2000)
    restricted_at = models.DateTimeField()
    restricted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.CASE_ADMINISTRATION,
        "reason": DataCategory.CASE_NOTES,
        "restricted_by": DataCategory.ACCOUNT,
        "lifted_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "restricted_at", "lifted_at")
    ORGANISATION_PATH: ClassVar[str] = "person.family.organisation_id"

    class Meta:
        ordering = ("-restricted_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("person",), condition=models.Q(lifted_at__isnull=True), name="one_active_restriction"
            ),
        )

    def __str__(self) -> str:
        return f"Restriction {self.pk}"

    def get_additional_data(self) -> dict[str, str] | None:
        return {"organisation": str(self.person.family.organisation_id)}


class ErasureRequest(models.Model):
    """A request to erase a person's or a family's data (Art. 17), kept without personal data:
    the subject's id, who asked, the decision and counts of what was anonymised."""

    class Subject(models.TextChoices):
        PERSON = "person", "Person"
        FAMILY = "family", "Family"

    class Outcome(models.TextChoices):
        PREVIEWED = "previewed", "Dry run"
        REFUSED = "refused", "Refused"
        EXECUTED = "executed", "Executed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_type = models.CharField(max_length=10, choices=Subject.choices)
    subject_id = models.UUIDField()
    organisation_id = models.UUIDField(db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    refusal_code = models.CharField(max_length=40, blank=True)
    summary = models.JSONField(default=dict)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "subject_id": DataCategory.CASE_ADMINISTRATION,
        "requested_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "subject_type",
        "organisation_id",
        "requested_at",
        "outcome",
        "refusal_code",
        "summary",
    )

    class Meta:
        ordering = ("-requested_at",)

    def __str__(self) -> str:
        return f"Erasure request {self.pk} ({self.outcome})"
