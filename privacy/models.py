"""The audit log: django-auditlog's entry, extended with the processing activity, the
organisation it concerns, the objects a read returned, and its place in the Merkle tree;
the signed checkpoints and pruning statements of that tree; the worker's heartbeat."""

from __future__ import annotations

import uuid
from typing import ClassVar

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.db import models

from casemgmt.models.base import FamilyOwned
from privacy.classification import DataCategory
from privacy.fields import EncryptedTextField


class AuditEntry(AbstractLogEntry):
    """One audited write or read: inserted once, then only its leaf position recorded by the sealer."""

    PROCESSING_ACTIVITY = "audit_logging"

    activity = models.CharField(max_length=60, blank=True, db_index=True)  # type: ignore[var-annotated]
    organisation_id = models.UUIDField(null=True, blank=True, db_index=True)  # type: ignore[var-annotated]
    object_ids = models.JSONField(null=True, blank=True)
    # Leaf index in the Merkle tree (0-based) and the leaf hash, both set once by the sealer.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)  # type: ignore[var-annotated]
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
        "hash",
    )

    class Meta(AbstractLogEntry.Meta):
        abstract = False
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = (models.Index(fields=("organisation_id", "timestamp"), name="audit_org_time"),)


class AuditCheckpoint(models.Model):
    """A signed tree head: the first ``tree_size`` leaves have root ``root_hash`` (RFC 9162 STH)."""

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    # The sealer's working state (perfect subtrees of the prefix); not signed, so the verifier
    # recomputes it from the leaves instead of trusting it.
    frontier = models.JSONField(default=list)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "tree_size",
        "root_hash",
        "timestamp",
        "key_id",
        "signature",
        "frontier",
    )

    class Meta:
        ordering = ("tree_size",)

    def __str__(self) -> str:
        return f"audit checkpoint {self.tree_size}"


class AuditPruning(models.Model):
    """A signed statement that retention removed leaves [previous_floor, floor) of the log."""

    floor = models.BigIntegerField(unique=True)
    statement = models.JSONField()
    signature = models.CharField(max_length=100)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "floor", "statement", "signature")

    class Meta:
        ordering = ("floor",)

    def __str__(self) -> str:
        return f"audit pruning up to {self.floor}"


class WorkerHeartbeat(models.Model):
    """Written by the job worker's scheduler every few seconds: readiness checks and verify_audit read it."""

    name = models.CharField(max_length=40, primary_key=True)
    beat_at = models.DateTimeField()
    last_retention_on = models.DateField(null=True, blank=True)
    last_reminders_on = models.DateField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("name", "beat_at", "last_retention_on", "last_reminders_on")

    def __str__(self) -> str:
        return f"worker {self.name}"


class Restriction(FamilyOwned, models.Model):
    """Restriction of processing (Art. 18): while active, only the DPO reads the person's data,
    and nobody changes or shares it."""

    FAMILY_PATH = "person__family_id"
    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "data_subject_rights"
    ANONYMISE: ClassVar[dict[str, str]] = {"reason": "mark"}

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

    PROCESSING_ACTIVITY = "data_subject_rights"

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
