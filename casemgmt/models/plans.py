"""The integration plan (Förderplan / Integrationsplan) of a family and its members.

A family has one plan; its goals link to it (``Goal.plan``). What was agreed is frozen in
numbered versions: a version lists the goals it covers, a supervisor approves (or
returns) a submitted version, and the family's agreement to a version is recorded with
date and who agreed. Assessments rate each field of action on a simple scale, a baseline
at intake and follow-ups after; statistics compare the latest follow-up with the baseline.

The signed agreement form is a document: the documents work (issue 19, item 4) attaches
it to the plan version (its ``plan_version`` target); nothing here stores a file.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt.models.base import CaseRecord, FamilyOwned, SubjectExport, field_of_action_label, own
from casemgmt.models.catalogue import FieldOfAction
from casemgmt.models.families import Family, Person
from casemgmt.models.organisations import User
from privacy.cipher.fields import EncryptedCharField, EncryptedTextField
from privacy.classification import DataCategory
from privacy.perturbation import new_record_key

TEXT_MAX_LENGTH = 10_000
#: The assessment scale: 1 (acute need) to 5 (self-reliant), as in common KIM rating sheets.
SCORE_MIN, SCORE_MAX = 1, 5


class IntegrationPlan(CaseRecord):
    """A family's integration plan: the frame its goals, versions and review date hang on."""

    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="plans",
        label={"en": "Integration plan", "de": "Integrationsplan"},
        fields={"review_on": "review_on", "recorded_on": "created_at"},
    )

    family = models.OneToOneField(Family, on_delete=models.PROTECT, related_name="plan")
    review_on = models.DateField(null=True, blank=True, help_text="Next review of the plan (a deadline).")

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "review_on": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ()

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"Integration plan {self.pk}"


class PlanVersion(FamilyOwned, models.Model):
    """One numbered version of a plan: the goals it covers, approval and the family's agreement."""

    ORGANISATION_PATH = "plan.family.organisation_id"
    FAMILY_PATH = "plan__family_id"
    # Household-level: a member's restriction does not hide the plan (the others' work goes
    # on); the member's own goals and assessments are hidden through their own paths.
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="versions",
        label={"en": "Versions", "de": "Fassungen"},
        within="plans",
        parent="plan",
        with_id=False,
        household_flag=False,
        household_text=("summary",),
        fields=own("number", "status", "summary", "submitted_at", "decided_at", "agreed_on"),
    )
    ANONYMISE: ClassVar[dict[str, str]] = {"summary": "clear", "agreed_by_representative": "clear"}

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    summary = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    #: Ids of the goals this version covers, frozen when it was created.
    goal_ids = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    agreed_on = models.DateField(null=True, blank=True)
    agreed_by_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agreed_by_representative = EncryptedCharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "plan": DataCategory.CASE_ADMINISTRATION,
        "number": DataCategory.CASE_ADMINISTRATION,
        "status": DataCategory.CASE_ADMINISTRATION,
        "summary": DataCategory.CASE_NOTES,
        "goal_ids": DataCategory.CASE_ADMINISTRATION,
        "submitted_at": DataCategory.CASE_ADMINISTRATION,
        "decided_at": DataCategory.CASE_ADMINISTRATION,
        "agreed_on": DataCategory.CASE_ADMINISTRATION,
        "agreed_by_person": DataCategory.CASE_ADMINISTRATION,
        "agreed_by_representative": DataCategory.IDENTIFICATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "decided_by", "created_by", "created_at")

    class Meta:
        ordering = ("plan", "number")
        constraints = (models.UniqueConstraint(fields=("plan", "number"), name="plan_version_number_unique"),)

    def __str__(self) -> str:
        return f"Plan version {self.pk}"


class Assessment(CaseRecord):
    """A rating of one field of action for a family member (or the household) on a 1-5 scale."""

    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="assessments",
        label={
            "en": "Assessments (1 = acute need, 5 = self-reliant)",
            "de": "Einschätzungen (1 = akuter Bedarf, 5 = selbstständig)",
        },
        household_text=("notes",),
        fields={
            "field_of_action": "field_of_action.code",
            "field_of_action_label": field_of_action_label,
            **own("kind", "assessed_on", "score", "notes"),
        },
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics",)
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": ("family", "person", "field_of_action", "kind", "assessed_on", "score"),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {"notes": "clear"}

    class Kind(models.TextChoices):
        BASELINE = "baseline", _("Baseline at intake")
        FOLLOW_UP = "follow_up", _("Follow-up")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="assessments")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    field_of_action = models.ForeignKey(FieldOfAction, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    assessed_on = models.DateField()
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text="1 (acute need) to 5 (self-reliant)",
    )
    notes = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    # Cell key method: a random key fixed at creation; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "field_of_action": DataCategory.CASE_ADMINISTRATION,
        "kind": DataCategory.CASE_ADMINISTRATION,
        "assessed_on": DataCategory.CASE_ADMINISTRATION,
        "score": DataCategory.CASE_ADMINISTRATION,
        "notes": DataCategory.CASE_NOTES,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key",)

    class Meta:
        ordering = ("assessed_on", "created_at")
        indexes = (
            models.Index(fields=("field_of_action", "kind", "assessed_on"), name="assessment_field_kind"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(score__gte=SCORE_MIN) & Q(score__lte=SCORE_MAX), name="assessment_score_range"
            ),
        )

    def __str__(self) -> str:
        return f"Assessment {self.pk}"
