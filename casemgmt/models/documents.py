"""Encrypted documents (attachments) on a family's records.

A document belongs to one record of a case: the family itself, a member, a consent (the
signed form), a case conference or the integration plan (the family's signed agreement).
Which kinds exist is declared once in
``DOCUMENT_TARGETS`` (kind -> model and the paths to the family and the person); a new
target is one entry there and one choice. The row always
names the family (access, erasure, retention run through it) and, where the target
concerns one member, that person (Art. 15 export, restriction, erasure of one person).

The file itself lives in the ``documents`` storage as ciphertext only
(``privacy.streaming``); its per-file data key is stored here, wrapped by the field key.
The original file name may name people and is encrypted; the content type is sniffed
from the file, never taken from the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.db import models

from casemgmt.models.base import CaseRecord, SubjectExport, own
from casemgmt.models.families import Family, Person
from privacy.cipher.fields import EncryptedCharField
from privacy.classification import DataCategory


@dataclass(frozen=True)
class DocumentTarget:
    """How a kind of record that can carry documents reaches its family and person."""

    model: str  # app label.Model
    family_attr: str  # attribute path from the record to the family id
    person_attr: str  # attribute path to the person id ("" for household-level records)


#: Records that carry documents (each also one choice of ``Document.TargetKind``).
DOCUMENT_TARGETS: dict[str, DocumentTarget] = {
    "family": DocumentTarget("casemgmt.Family", "pk", ""),
    "person": DocumentTarget("casemgmt.Person", "family_id", "pk"),
    "consent": DocumentTarget("casemgmt.Consent", "family_id", "person_id"),
    "conference": DocumentTarget("casemgmt.CaseConference", "family_id", ""),
    "plan": DocumentTarget("casemgmt.IntegrationPlan", "family_id", ""),
}


class Document(CaseRecord):
    """An encrypted file attached to a record of a family's case."""

    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "case_management"
    # A list; the files themselves on request, through the download endpoint.
    SUBJECT_EXPORT = SubjectExport(
        section="documents",
        label={"en": "Documents (files on request)", "de": "Dokumente (Dateien auf Anfrage)"},
        household_flag=False,
        where={"anonymised_at__isnull": True},
        fields={
            "attached_to": "target_kind",
            **own("filename", "content_type", "size"),
            "recorded_on": "created_at",
        },
    )
    # Erasure deletes the stored file and the wrapped key (privacy.erasure); the row keeps
    # only the coarse facts (kind, type, size, dates).
    ANONYMISE: ClassVar[dict[str, str]] = {"filename": "clear", "data_key": "clear", "storage_name": "clear"}

    class TargetKind(models.TextChoices):
        FAMILY = "family", "Family"
        PERSON = "person", "Family member"
        CONSENT = "consent", "Consent (signed form)"
        CONFERENCE = "conference", "Case conference"
        PLAN = "plan", "Integration plan"

    class ContentType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG image"
        JPEG = "image/jpeg", "JPEG image"

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="documents")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    target_kind = models.CharField(max_length=20, choices=TargetKind.choices)
    target_id = models.UUIDField()
    content_type = models.CharField(max_length=40, choices=ContentType.choices)
    size = models.PositiveBigIntegerField(help_text="Plaintext size in bytes.")
    filename = EncryptedCharField(max_length=255, blank=True)
    # The per-file data key (base64), wrapped by the field key: encrypted like any field.
    data_key = EncryptedCharField(max_length=64, blank=True)
    # A random name in the storage: it reveals nothing about the family or the file.
    storage_name = models.CharField(max_length=100, blank=True, editable=False)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "target_kind": DataCategory.CASE_ADMINISTRATION,
        "target_id": DataCategory.CASE_ADMINISTRATION,
        "content_type": DataCategory.CASE_ADMINISTRATION,
        "size": DataCategory.CASE_ADMINISTRATION,
        "filename": DataCategory.CASE_NOTES,
        "data_key": DataCategory.CASE_NOTES,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("storage_name", "anonymised_at")

    class Meta:
        ordering = ("-created_at", "id")
        indexes = (models.Index(fields=("target_kind", "target_id"), name="document_target"),)

    def __str__(self) -> str:
        return f"Document {self.pk} ({self.target_kind})"
