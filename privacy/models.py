"""The audit log: django-auditlog's entry, extended with the processing activity, the
organisation it concerns, the objects a read returned, and a hash chain."""

from __future__ import annotations

from typing import ClassVar

from auditlog.models import AbstractLogEntry
from django.db import models

from privacy.classification import DataCategory


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

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "seq", "hash")

    def __str__(self) -> str:
        return f"audit chain at {self.seq}"
