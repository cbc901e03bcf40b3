"""The audit log: django-auditlog's entry, extended with the processing activity, the
organisation it concerns, the objects a read returned, and its place in the Merkle tree;
the signed checkpoints and pruning statements of that tree; the worker's heartbeat."""

from __future__ import annotations

import uuid
from typing import ClassVar

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.db import models

from casemgmt.models.base import AuditContextMixin, FamilyOwned, SubjectExport, own
from casemgmt.models.casework import Agency
from privacy.cipher.fields import EncryptedCharField, EncryptedTextField
from privacy.classification import DataCategory


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
    SUBJECT_EXPORT = SubjectExport(
        section="restrictions",
        label={"en": "Restrictions (Art. 18)", "de": "Einschränkungen (Art. 18)"},
        with_id=False,
        household_flag=False,
        fields=own("restricted_at", "lifted_at"),
    )
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


class ControllerProfile(AuditContextMixin, models.Model):
    """Who is the controller for an organisation's processing (Art. 30(1)(a)), as data.

    Each town is its own controller; a district/town setup states its arrangement (joint
    controllers under Art. 26 or processing on behalf under Art. 28) and the record shows it.
    Organisational measures are text per organisation; a key left out falls back to the
    German default in ``privacy.registry.ORGANISATIONAL_MEASURES``.
    """

    PROCESSING_ACTIVITY = "account_management"
    ORGANISATION_PATH = "organisation_id"

    class Arrangement(models.TextChoices):
        SOLE = "sole", "Sole controller"
        JOINT = "joint", "Joint controllers (Art. 26 GDPR)"
        PROCESSOR = "processor", "Processing on behalf of the partner (Art. 28 GDPR)"

    organisation = models.OneToOneField(
        "casemgmt.Organisation", on_delete=models.CASCADE, related_name="controller_profile"
    )
    name = models.CharField(max_length=200, help_text="Legal name of the controller.")
    address = models.TextField(max_length=500)
    representative = models.CharField(max_length=200, help_text="Head of administration representing it.")
    dpo_contact = models.TextField(max_length=500, help_text="Contact of the data protection officer.")
    arrangement = models.CharField(max_length=10, choices=Arrangement.choices, default=Arrangement.SOLE)
    arrangement_partner = models.ForeignKey(
        "casemgmt.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    arrangement_reference = models.CharField(
        max_length=300, blank=True, help_text="Where the Art. 26/28 agreement is filed."
    )
    processors = models.TextField(
        max_length=2000, blank=True, help_text="Processors (Art. 28), one per line: name – service."
    )
    third_country_transfers = models.TextField(max_length=1000, blank=True)
    organisational_measures = models.JSONField(default=dict, blank=True)
    #: Per activity code: {"responsible_unit": ..., "dpia_reference": ...} (Art. 30, Art. 35).
    activity_details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "name",
        "address",
        "representative",
        "dpo_contact",
        "arrangement",
        "arrangement_partner",
        "arrangement_reference",
        "processors",
        "third_country_transfers",
        "organisational_measures",
        "activity_details",
        "updated_at",
    )

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(arrangement="sole") | models.Q(arrangement_partner__isnull=False),
                name="controller_arrangement_names_partner",
            ),
        )

    def __str__(self) -> str:
        return f"controller profile {self.pk}"


class _SubjectRecord(FamilyOwned, models.Model):
    """A DPO's record about one person (rectification, objection, notice): goes with the person."""

    FAMILY_PATH = "person__family_id"
    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "data_subject_rights"
    ORGANISATION_PATH: ClassVar[str] = "person.family.organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("casemgmt.Person", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    def get_additional_data(self) -> dict[str, str] | None:
        return {"organisation": str(self.person.family.organisation_id)}


class Rectification(_SubjectRecord):
    """Art. 16: a corrected field of a person, with the previous value kept encrypted as proof."""

    class Field(models.TextChoices):
        GIVEN_NAME = "given_name", "Given name"
        FAMILY_NAME = "family_name", "Family name"
        DATE_OF_BIRTH = "date_of_birth", "Date of birth"
        SEX = "sex", "Sex"
        RESIDENCE_STATUS = "residence_status", "Residence status"
        COUNTRY_OF_ORIGIN = "country_of_origin", "Country of origin"

    ANONYMISE: ClassVar[dict[str, str]] = {"previous_value": "clear", "reason": "clear"}
    SUBJECT_EXPORT = SubjectExport(
        section="rectifications",
        label={"en": "Rectifications (Art. 16)", "de": "Berichtigungen (Art. 16)"},
        with_id=False,
        household_flag=False,
        fields=own("field", "previous_value", "reason", "rectified_at"),
    )

    field = models.CharField(max_length=30, choices=Field.choices)
    previous_value = EncryptedTextField(max_length=500, blank=True)
    reason = EncryptedTextField(max_length=2000)
    rectified_at = models.DateTimeField()
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.CASE_ADMINISTRATION,
        "previous_value": DataCategory.IDENTIFICATION,
        "reason": DataCategory.CASE_NOTES,
        "rectified_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "field", "rectified_at")

    class Meta:
        ordering = ("-rectified_at",)

    def __str__(self) -> str:
        return f"Rectification {self.pk} ({self.field})"


class RecipientNotice(_SubjectRecord):
    """Art. 19: a recipient who received a person's data and is to be told of a change."""

    class Cause(models.TextChoices):
        RECTIFICATION = "rectification", "Rectification (Art. 16)"
        RESTRICTION = "restriction", "Restriction (Art. 18)"
        ERASURE = "erasure", "Erasure (Art. 17)"

    class Via(models.TextChoices):
        CASE_CONFERENCE = "case_conference", "Case conference"
        REFERRAL = "referral", "Referral"

    ANONYMISE: ClassVar[dict[str, str]] = {"recipient_name": "clear"}
    SUBJECT_EXPORT = SubjectExport(
        section="recipient_notices",
        label={
            "en": "Recipients to be told of a rectification, restriction or erasure (Art. 19)",
            "de": "Empfänger, die über Berichtigung, Einschränkung oder Löschung zu unterrichten sind "
            "(Art. 19)",
        },
        with_id=False,
        household_flag=False,
        fields={
            **own("cause", "recipient_kind", "recipient_name", "received_via"),
            "recorded_on": "created_at",
            "informed_at": "informed_at",
        },
    )

    cause = models.CharField(max_length=20, choices=Cause.choices)
    cause_id = models.UUIDField()
    recipient_kind = models.CharField(max_length=30, choices=Agency.choices)
    # Encrypted: a named office at an agency points to the family's case.
    recipient_name = EncryptedCharField(max_length=200, blank=True)
    received_via = models.CharField(max_length=20, choices=Via.choices)
    created_at = models.DateTimeField()
    informed_at = models.DateTimeField(null=True, blank=True)
    informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.CASE_ADMINISTRATION,
        "recipient_name": DataCategory.IDENTIFICATION,
        "informed_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "cause",
        "cause_id",
        "recipient_kind",
        "received_via",
        "created_at",
        "informed_at",
    )

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"Recipient notice {self.pk} ({self.cause})"


class Objection(_SubjectRecord):
    """Art. 21: an objection to processing, with the DPO's decision and its reason."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending"
        UPHELD = "upheld", "Upheld: processing stops (restricted)"
        REJECTED = "rejected", "Rejected: compelling legitimate grounds"

    ANONYMISE: ClassVar[dict[str, str]] = {"reason": "clear", "decision_reason": "clear"}
    SUBJECT_EXPORT = SubjectExport(
        section="status.objections",
        label={"en": "Objections (Art. 21)", "de": "Widersprüche (Art. 21)"},
        with_id=False,
        household_flag=False,
        fields=own("received_at", "decision", "decision_reason", "decided_at"),
    )

    reason = EncryptedTextField(max_length=2000)
    received_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decision_reason = EncryptedTextField(max_length=2000, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.CASE_ADMINISTRATION,
        "reason": DataCategory.CASE_NOTES,
        "decision_reason": DataCategory.CASE_NOTES,
        "decided_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "received_at", "decision", "decided_at")

    class Meta:
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return f"Objection {self.pk} ({self.decision})"


class Breach(AuditContextMixin, models.Model):
    """Art. 33(5): a personal data breach as documented by the DPO, whether notified or not."""

    PROCESSING_ACTIVITY = "audit_logging"
    ORGANISATION_PATH = "organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("casemgmt.Organisation", on_delete=models.PROTECT, related_name="+")
    # Encrypted: what happened may name people or cases.
    description = EncryptedTextField(max_length=4000)
    occurred_from = models.DateTimeField()
    occurred_to = models.DateTimeField()
    discovered_at = models.DateTimeField()
    categories = models.JSONField(default=list, blank=True)
    approximate_persons = models.PositiveIntegerField(default=0)
    measures = EncryptedTextField(max_length=4000, blank=True)
    notified_authority_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "description": DataCategory.CASE_NOTES,
        "measures": DataCategory.CASE_NOTES,
        "recorded_by": DataCategory.ACCOUNT,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "occurred_from",
        "occurred_to",
        "discovered_at",
        "categories",
        "approximate_persons",
        "notified_authority_at",
        "recorded_at",
    )

    class Meta:
        ordering = ("-discovered_at",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(occurred_to__gte=models.F("occurred_from")), name="breach_window_ordered"
            ),
        )

    def __str__(self) -> str:
        return f"Breach {self.pk}"


class RecordVersion(AuditContextMixin, models.Model):
    """One stored version of an organisation's Art. 30 record, with what changed since the last."""

    PROCESSING_ACTIVITY = "audit_logging"
    ORGANISATION_PATH = "organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("casemgmt.Organisation", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.JSONField()
    diff = models.JSONField(default=list)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"created_by": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "number",
        "created_at",
        "content",
        "diff",
    )

    class Meta:
        ordering = ("-number",)
        constraints = (
            models.UniqueConstraint(fields=("organisation", "number"), name="record_version_number_unique"),
        )

    def __str__(self) -> str:
        return f"record version {self.number}"


class RetentionPeriod(AuditContextMixin, models.Model):
    """An organisation's own period for one retention rule (``privacy.retention.RULES``).

    Without a row the rule's default applies (the processing activity's period in the
    registry). The DPO sets it within the rule's documented minimum and maximum, so a
    controller can follow its own state law without a code change, but cannot switch
    retention off or keep data without limit.
    """

    PROCESSING_ACTIVITY = "data_subject_rights"
    ORGANISATION_PATH = "organisation_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("casemgmt.Organisation", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=40)
    days = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {"updated_by": DataCategory.ACCOUNT}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "rule", "days", "updated_at")

    class Meta:
        ordering = ("organisation", "rule")
        constraints = (
            models.UniqueConstraint(fields=("organisation", "rule"), name="retention_period_unique"),
        )

    def __str__(self) -> str:
        return f"retention period {self.rule}: {self.days} days"


class RetentionReport(AuditContextMixin, models.Model):
    """What one retention run did (or, as a dry run, would do) for one organisation: counts only.

    One row per run and organisation; rules that are not per organisation (the audit log,
    set-password tokens) report under no organisation. The lines hold rule codes, periods
    and counts, never an id or a name, so the DPO can keep and share the report.
    """

    PROCESSING_ACTIVITY = "data_subject_rights"
    ORGANISATION_PATH = "organisation_id"

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly job"
        COMMAND = "command", "Management command"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run_id = models.UUIDField(db_index=True)
    organisation = models.ForeignKey(
        "casemgmt.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ran_at = models.DateTimeField()
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    #: [{"rule", "period_days", "due", "kept", "applied"}]
    lines = models.JSONField(default=list)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "run_id",
        "organisation",
        "ran_at",
        "dry_run",
        "trigger",
        "lines",
    )

    class Meta:
        ordering = ("-ran_at", "id")
        indexes = (models.Index(fields=("organisation", "-ran_at"), name="retention_report_org_time"),)

    def __str__(self) -> str:
        return f"retention report {self.pk}"
