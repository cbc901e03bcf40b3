"""The shared catalogue: fields of action, providers and courses.

Nothing here is personal data: it describes the offer, not the families. The catalogue of
a district is shared with its member towns.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from casemgmt.models.organisations import Organisation
from privacy.classification import DataCategory

DEFAULT_FIELDS_OF_ACTION = (
    ("language", "Language", "Sprache"),
    ("education", "Education and school", "Bildung und Schule"),
    ("work", "Work and training", "Arbeit und Ausbildung"),
    ("recognition", "Recognition of qualifications", "Anerkennung von Abschlüssen"),
    ("health", "Health", "Gesundheit"),
    ("housing", "Housing", "Wohnen"),
    ("parenting", "Parenting and family", "Erziehung und Familie"),
    ("participation", "Social participation", "Gesellschaftliche Teilhabe"),
    ("residence", "Residence matters", "Aufenthaltsrechtliche Fragen"),
    ("finances", "Finances and debts", "Finanzen und Schulden"),
)


class FieldOfAction(models.Model):
    """A field of action (Handlungsfeld); defaults have no organisation, towns add their own."""

    PROCESSING_ACTIVITY = "course_referrals"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="fields_of_action"
    )
    code = models.CharField(
        max_length=40, validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", "Use lower-case letters, digits, _.")]
    )
    name = models.CharField(max_length=120)
    name_de = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "code", "name", "name_de", "is_active")

    class Meta:
        ordering = ("code",)
        constraints = (
            models.UniqueConstraint(
                fields=("code",), condition=Q(organisation__isnull=True), name="field_of_action_default_code"
            ),
            models.UniqueConstraint(fields=("organisation", "code"), name="field_of_action_org_code"),
        )

    def __str__(self) -> str:
        return self.code


class Provider(models.Model):
    """A provider (Träger) in a district's catalogue."""

    PROCESSING_ACTIVITY = "course_referrals"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="providers")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "name", "address", "phone", "created_at")

    class Meta:
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=("organisation", "name"), name="provider_name_unique"),)

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    """A course or other offer of a provider, with a capacity that enrolment never exceeds."""

    PROCESSING_ACTIVITY = "course_referrals"

    class Type(models.TextChoices):
        INTEGRATION_COURSE = "integration_course", "Integration course (Integrationskurs)"
        LANGUAGE_COURSE = "language_course", "Language course"
        VOCATIONAL = "vocational", "Vocational training or qualification"
        COUNSELLING = "counselling", "Counselling"
        MENTORING = "mentoring", "Mentoring"
        PARENTING = "parenting", "Parenting course"
        OTHER = "other", "Other"

    class CefrLevel(models.TextChoices):
        A1 = "A1"
        A2 = "A2"
        B1 = "B1"
        B2 = "B2"
        C1 = "C1"
        C2 = "C2"

    LANGUAGE_TYPES: ClassVar[frozenset[str]] = frozenset({"integration_course", "language_course"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="courses")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="courses")
    title = models.CharField(max_length=200)
    course_type = models.CharField(max_length=30, choices=Type.choices)
    cefr_level = models.CharField(max_length=2, choices=CefrLevel.choices, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    place = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "provider",
        "organisation",
        "title",
        "course_type",
        "cefr_level",
        "starts_on",
        "ends_on",
        "place",
        "capacity",
        "created_at",
    )

    class Meta:
        ordering = ("starts_on", "title")
        constraints = (
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="course_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="course_capacity_positive"),
        )

    def __str__(self) -> str:
        return self.title
