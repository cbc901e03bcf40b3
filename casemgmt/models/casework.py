"""The case work of a family: goals and reviews, referrals, consents, conferences, contacts.

Every object here belongs to exactly one family and is authorised through it. Free text is
encrypted; what statistics need (field of action, dates, statuses, kinds) stays in clear.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casemgmt.models.base import (
    CaseRecord,
    ExportContext,
    FamilyOwned,
    SubjectExport,
    field_of_action_label,
    own,
)
from casemgmt.models.catalogue import Course, FieldOfAction, Provider
from casemgmt.models.families import Family, Person
from casemgmt.models.organisations import User
from privacy.cipher.fields import EncryptedCharField, EncryptedTextField
from privacy.classification import DataCategory
from privacy.perturbation import new_record_key

TEXT_MAX_LENGTH = 10_000


class Agency(models.TextChoices):
    """Recipients of shared case information (consent) and external conference participants."""

    JOBCENTER = "jobcenter", _("Jobcenter")
    IMMIGRATION_OFFICE = "immigration_office", _("Immigration office (Ausländerbehörde)")
    YOUTH_OFFICE = "youth_office", _("Youth office (Jugendamt)")
    SCHOOL = "school", _("School")
    COURSE_PROVIDER = "course_provider", _("Course provider")
    HEALTH_OFFICE = "health_office", _("Health office (Gesundheitsamt)")
    SOCIAL_WELFARE_OFFICE = "social_welfare_office", _("Social welfare office (Sozialamt)")
    # Integration management of another organisation of the district tree (case handover).
    INTEGRATION_MANAGEMENT = "integration_management", _("Integration management (handover in the district)")
    OTHER = "other", _("Other")


class SharedCategory(models.TextChoices):
    """Kinds of a member's data that a consent may cover and a conference may put on its agenda.

    The values are the data categories of the record of processing activities
    (``privacy.classification.DataCategory``) that case work can share with another agency;
    staff account data is not among them.
    """

    IDENTIFICATION = "identification", _("Identification data (names)")
    CONTACT = "contact", _("Contact data (address, phone)")
    DATE_OF_BIRTH = "date_of_birth", _("Date of birth")
    DEMOGRAPHIC = "demographic", _("Coarse demographic data (birth year, sex, family role)")
    RESIDENCE = "residence", _("Residence status (immigration law)")
    ORIGIN = "origin", _("Country of origin")
    LANGUAGE = "language", _("Languages and interpreter need")
    SOCIAL_BENEFITS = "social_benefits", _("Social benefits status")
    CASE_ADMINISTRATION = "case_administration", _("Case administration (status, dates, outcome)")
    CASE_NOTES = "case_notes", _("Case notes (may contain health data)")


def shared_categories(values: object, *, allow_empty: bool) -> list[str]:
    """``values`` as a list of shared data categories in declaration order; ValidationError otherwise."""
    from django.core.exceptions import ValidationError

    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError(_("A list of data categories is required."), code="invalid")
    unknown = sorted(set(values) - set(SharedCategory.values))
    if unknown:
        raise ValidationError(
            _("Unknown data categories: %(codes)s."),
            code="invalid_choice",
            params={"codes": ", ".join(unknown)},
        )
    if not values and not allow_empty:
        raise ValidationError(_("Name at least one data category."), code="required")
    return [c for c in SharedCategory.values if c in values]


def validate_consent_categories(value: object) -> None:
    shared_categories(value, allow_empty=False)


def validate_agenda_categories(value: object) -> None:
    shared_categories(value, allow_empty=True)


class Goal(CaseRecord):
    """A goal agreed with a family or one of its members in one field of action."""

    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="goals",
        label={"en": "Goals", "de": "Ziele"},
        household_text=("description",),
        fields={
            "field_of_action": "field_of_action.code",
            "field_of_action_label": field_of_action_label,
            **own("description", "agreed_on", "target_date", "status", "achieved_at"),
        },
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics",)
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": ("family", "person", "field_of_action", "agreed_on", "status", "achieved_at"),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {"description": "clear"}

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        PARTLY_ACHIEVED = "partly_achieved", _("Partly achieved")
        NOT_ACHIEVED = "not_achieved", _("Not achieved")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES: ClassVar[frozenset[str]] = frozenset({"open", "in_progress"})
    ACHIEVED_STATUSES: ClassVar[frozenset[str]] = frozenset({"achieved", "partly_achieved"})

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="goals")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="goals")
    field_of_action = models.ForeignKey(FieldOfAction, on_delete=models.PROTECT, related_name="goals")
    description = EncryptedTextField(max_length=TEXT_MAX_LENGTH)
    agreed_on = models.DateField()
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    achieved_at = models.DateField(null=True, blank=True)
    conference = models.ForeignKey(
        "CaseConference", null=True, blank=True, on_delete=models.SET_NULL, related_name="decided_goals"
    )
    plan = models.ForeignKey(
        "casemgmt.IntegrationPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="goals"
    )
    # Cell key method: a random key fixed at creation (not derived from any identifier) that
    # statistics sum in SQL; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "field_of_action": DataCategory.CASE_ADMINISTRATION,
        "description": DataCategory.CASE_NOTES,
        "agreed_on": DataCategory.CASE_ADMINISTRATION,
        "target_date": DataCategory.CASE_ADMINISTRATION,
        "status": DataCategory.CASE_ADMINISTRATION,
        "achieved_at": DataCategory.CASE_ADMINISTRATION,
        "conference": DataCategory.CASE_ADMINISTRATION,
        "plan": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key",)

    class Meta:
        ordering = ("agreed_on", "created_at")
        indexes = (
            models.Index(fields=("family", "status"), name="goal_family_status"),
            models.Index(fields=("field_of_action", "status"), name="goal_field_status"),
            # The dashboard's goal deadlines: per family, the open goals by target date, read
            # from the index alone (PostgreSQL; on SQLite the index is built without ``include``).
            models.Index(
                fields=("family", "target_date"),
                include=("id", "person"),
                condition=Q(status__in=("in_progress", "open"), target_date__isnull=False),
                name="goal_family_due",
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(target_date__isnull=True) | Q(target_date__gte=models.F("agreed_on")),
                name="goal_target_after_agreed",
            ),
            models.CheckConstraint(
                condition=Q(achieved_at__isnull=True) | Q(achieved_at__gte=models.F("agreed_on")),
                name="goal_achieved_after_agreed",
            ),
        )

    def __str__(self) -> str:
        return f"Goal {self.pk}"


class GoalReview(FamilyOwned, models.Model):
    """A review of a goal: a dated progress note and the status it leads to."""

    ORGANISATION_PATH = "goal.family.organisation_id"
    FAMILY_PATH = "goal__family_id"
    PERSON_PATH = "goal__person_id"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="reviews",
        label={"en": "Reviews", "de": "Überprüfungen"},
        within="goals",
        parent="goal",
        with_id=False,
        household_flag=False,
        fields=own("reviewed_on", "status", "note"),
    )
    ANONYMISE: ClassVar[dict[str, str]] = {"note": "clear"}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    note = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=20, choices=Goal.Status.choices)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "goal": DataCategory.CASE_ADMINISTRATION,
        "reviewed_on": DataCategory.CASE_ADMINISTRATION,
        "note": DataCategory.CASE_NOTES,
        "status": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "created_by", "created_at")

    class Meta:
        ordering = ("reviewed_on", "created_at")

    def __str__(self) -> str:
        return f"Goal review {self.pk}"


class Referral(CaseRecord):
    """A person referred to a course or provider (Vermittlung), with a checked lifecycle."""

    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "course_referrals"
    SUBJECT_EXPORT = SubjectExport(
        section="referrals",
        label={"en": "Referrals", "de": "Vermittlungen"},
        household_flag=False,
        fields={"course": "course.title", "provider": "provider.name", "status": "status", "note": "note"},
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics",)
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": ("family", "person", "course", "status"),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {"note": "clear"}

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ENROLLED = "enrolled", _("Enrolled")
        COMPLETED = "completed", _("Completed")
        DROPPED_OUT = "dropped_out", _("Dropped out")
        CANCELLED = "cancelled", _("Cancelled")

    #: The lifecycle: which states each state may move to.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "draft": ("sent", "cancelled"),
        "sent": ("accepted", "declined", "cancelled"),
        "accepted": ("enrolled", "cancelled"),
        "enrolled": ("completed", "dropped_out", "cancelled"),
        "declined": (),
        "completed": (),
        "dropped_out": (),
        "cancelled": (),
    }
    OPEN_STATUSES: ClassVar[frozenset[str]] = frozenset({"draft", "sent", "accepted", "enrolled"})
    #: States that hold a seat in the course.
    SEAT_STATUSES: ClassVar[tuple[str, ...]] = ("enrolled", "completed")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="referrals")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="referrals")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    note = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    # Derived: when the referral was sent (its transition to "sent", which happens once),
    # set by ``referral_transition`` in the same UPDATE as the status, so the dashboard's
    # response deadline reads a column instead of probing the transitions of every sent
    # referral of the caseload.
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Cell key method: a random key fixed at creation (not derived from any identifier) that
    # statistics sum in SQL; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "course": DataCategory.CASE_ADMINISTRATION,
        "provider": DataCategory.CASE_ADMINISTRATION,
        "goal": DataCategory.CASE_ADMINISTRATION,
        "status": DataCategory.CASE_ADMINISTRATION,
        "note": DataCategory.CASE_NOTES,
        "sent_at": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key",)

    class Meta:
        ordering = ("created_at", "id")
        indexes = (
            models.Index(fields=("course", "status"), name="referral_course_status"),
            models.Index(fields=("family", "status"), name="referral_family_status"),
            # The dashboard's response deadlines: per family, the sent referrals by the time they
            # were sent, read from the index alone (PostgreSQL; on SQLite without ``include``).
            models.Index(
                fields=("family", "sent_at"),
                include=("id", "person"),
                condition=Q(status="sent"),
                name="referral_sent_due",
            ),
        )

    def __str__(self) -> str:
        return f"Referral {self.pk}"

    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS[self.status]


class ReferralTransition(FamilyOwned, models.Model):
    """One step of a referral's lifecycle, with time and actor."""

    ORGANISATION_PATH = "referral.family.organisation_id"
    FAMILY_PATH = "referral__family_id"
    PERSON_PATH = "referral__person_id"
    PROCESSING_ACTIVITY = "course_referrals"
    SUBJECT_EXPORT = SubjectExport(
        section="history",
        label={"en": "History", "de": "Verlauf"},
        within="referrals",
        parent="referral",
        with_id=False,
        household_flag=False,
        fields={"to": "to_status", "at": "at"},
    )

    id = models.BigAutoField(primary_key=True)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=Referral.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Referral.Status.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "referral": DataCategory.CASE_ADMINISTRATION,
        "from_status": DataCategory.CASE_ADMINISTRATION,
        "to_status": DataCategory.CASE_ADMINISTRATION,
        "at": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "actor")

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


def _member_ids(record: Any, context: ExportContext) -> list[str]:
    return sorted(str(pk) for pk in record.members.values_list("pk", flat=True))


class Consent(CaseRecord):
    """A consent to share with an agency (Schweigepflichtentbindung); never deleted.

    Scoped: it covers the data of the members in ``members`` and only the kinds of data in
    ``data_categories``, for one recipient. ``person`` is who gave it (empty when the
    family's legal representative did); the signed form is a ``Document`` attached to it
    (target ``consent``).
    """

    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "case_conferences"
    SUBJECT_EXPORT = SubjectExport(
        section="consents",
        label={"en": "Consents", "de": "Einwilligungen"},
        # A consent another member (or the representative) gave that covers the subject's data
        # is about the subject too.
        covers=("members",),
        fields={
            **own("recipient", "recipient_name", "purpose", "given_on", "valid_until", "withdrawn_on"),
            "members": _member_ids,
            "data_categories": "data_categories",
        },
    )
    ANONYMISE: ClassVar[dict[str, str]] = {
        "purpose": "clear",
        "given_by_representative": "clear",
        "recipient_name": "clear",
    }

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="consents")
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
        help_text="Who gave it; empty when the family's legal representative gave it.",
    )
    given_by_representative = EncryptedCharField(
        max_length=200, blank=True, help_text="Name of the legal representative, if not a member."
    )
    recipient = models.CharField(max_length=30, choices=Agency.choices)
    # Encrypted: a named office or person at the agency can point to the family's case.
    recipient_name = EncryptedCharField(max_length=200, blank=True, help_text="e.g. 'Jobcenter Musterland'")
    purpose = EncryptedTextField(max_length=2000)
    given_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    members = models.ManyToManyField(
        Person,
        related_name="covering_consents",
        help_text="The members whose data the consent covers (of the same family).",
    )
    data_categories = models.JSONField(
        default=list,
        validators=[validate_consent_categories],
        help_text="The kinds of data it covers (SharedCategory values).",
    )
    # Set when retention has cleared the consent's texts: it stays as proof that sharing was
    # covered at the time (who, which agency, which dates), without the wording.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "given_by_representative": DataCategory.IDENTIFICATION,
        "recipient": DataCategory.CASE_ADMINISTRATION,
        "recipient_name": DataCategory.IDENTIFICATION,
        "purpose": DataCategory.CASE_NOTES,
        "given_on": DataCategory.CASE_ADMINISTRATION,
        "valid_until": DataCategory.CASE_ADMINISTRATION,
        "withdrawn_on": DataCategory.CASE_ADMINISTRATION,
        "members": DataCategory.CASE_ADMINISTRATION,
        "data_categories": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("anonymised_at",)

    class Meta:
        ordering = ("-given_on", "created_at")
        indexes = (models.Index(fields=("family", "recipient"), name="consent_family_recipient"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("given_on")),
                name="consent_valid_after_given",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
            ),
        )

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.recipient})"

    def covers(self, on: datetime.date) -> bool:
        """Whether the consent allows sharing on ``on``."""
        return (
            self.given_on <= on
            and (self.valid_until is None or on <= self.valid_until)
            and (self.withdrawn_on is None or on < self.withdrawn_on)
        )

    def covered_pairs(self) -> set[tuple[Any, str]]:
        """(member id, category) pairs the consent covers (members read through a prefetch if any)."""
        return {(m.pk, c) for m in self.members.all() for c in self.data_categories}


def _agenda_member_ids(record: Any, context: ExportContext) -> list[str]:
    return sorted(str(pk) for pk in record.agenda_members.values_list("pk", flat=True))


class CaseConference(CaseRecord):
    """A multi-agency case conference (Fallkonferenz) about one family."""

    PROCESSING_ACTIVITY = "case_conferences"
    # Household-level; only the conferences the person took part in or that decided their goals.
    SUBJECT_EXPORT = SubjectExport(
        section="conferences",
        label={"en": "Case conferences", "de": "Fallkonferenzen"},
        household_text=("agenda", "minutes"),
        concerns=("participants__person", "decided_goals__person", "agenda_members"),
        fields={
            **own("scheduled_at", "held_at", "format", "status", "agenda", "minutes"),
            "agenda_members": _agenda_member_ids,
            "agenda_categories": "agenda_categories",
        },
    )
    ANONYMISE: ClassVar[dict[str, str]] = {"agenda": "clear", "minutes": "clear"}

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")
        PHONE = "phone", _("Phone")
        HYBRID = "hybrid", _("Hybrid")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="conferences")
    scheduled_at = models.DateTimeField()
    held_at = models.DateTimeField(null=True, blank=True)
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.IN_PERSON)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    agenda = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    minutes = EncryptedTextField(max_length=TEXT_MAX_LENGTH * 5, blank=True)
    # Whose data and which kinds of it the conference discusses: an external agency takes part
    # only if consents to it cover every pair. Empty: the whole household, every category.
    agenda_members = models.ManyToManyField(
        Person,
        blank=True,
        related_name="agenda_conferences",
        help_text="Members whose data is on the agenda.",
    )
    agenda_categories = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_agenda_categories],
        help_text="Kinds of data on the agenda (SharedCategory values).",
    )
    # Cell key method: a random key fixed at creation (not derived from any identifier) that
    # statistics sum in SQL; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "scheduled_at": DataCategory.CASE_ADMINISTRATION,
        "held_at": DataCategory.CASE_ADMINISTRATION,
        "format": DataCategory.CASE_ADMINISTRATION,
        "status": DataCategory.CASE_ADMINISTRATION,
        "agenda": DataCategory.CASE_NOTES,
        "minutes": DataCategory.CASE_NOTES,
        "agenda_members": DataCategory.CASE_ADMINISTRATION,
        "agenda_categories": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key",)

    class Meta:
        ordering = ("-scheduled_at",)
        constraints = (
            # A family cannot have two conferences at the same time (cancelled ones aside).
            models.UniqueConstraint(
                fields=("family", "scheduled_at"),
                condition=~Q(status="cancelled"),
                name="conference_one_at_a_time",
            ),
        )

    def __str__(self) -> str:
        return f"Case conference {self.pk}"


class ConferenceParticipant(FamilyOwned, models.Model):
    """Who takes part: a staff user, or an external agency's representative under a consent."""

    ORGANISATION_PATH = "conference.family.organisation_id"
    FAMILY_PATH = "conference__family_id"
    # An external participant shares what a member consented to: hidden with that member.
    RESTRICTION_PATHS = ("person_id", "consent__person_id")
    PROCESSING_ACTIVITY = "case_conferences"
    SUBJECT_EXPORT = SubjectExport(
        section="participants",
        label={"en": "Participants", "de": "Teilnehmende"},
        within="conferences",
        parent="conference",
        with_id=False,
        household_flag=False,
        fields=own("kind", "agency", "role"),
    )
    ANONYMISE: ClassVar[dict[str, str]] = {
        "name": "clear",
        "role": "clear",
        "reason": "clear",
        "legal_basis": "clear",
    }

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal (staff)")
        EXTERNAL = "external", _("External agency")
        FAMILY = "family", _("Family member")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conference = models.ForeignKey(CaseConference, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    agency = models.CharField(max_length=30, choices=Agency.choices, blank=True)
    name = EncryptedCharField(max_length=200, blank=True)
    # Free text a case manager types ("invited because the child is at risk"): encrypted.
    role = EncryptedCharField(
        max_length=200, blank=True, help_text="Function, e.g. 'Fallmanagerin Jobcenter'"
    )
    reason = EncryptedCharField(max_length=500, blank=True, help_text="Why invited")
    legal_basis = EncryptedCharField(max_length=300, blank=True)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "conference": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "agency": DataCategory.CASE_ADMINISTRATION,
        "name": DataCategory.IDENTIFICATION,
        "consent": DataCategory.CASE_ADMINISTRATION,
        "user": DataCategory.ACCOUNT,
        "role": DataCategory.IDENTIFICATION,
        "reason": DataCategory.CASE_NOTES,
        "legal_basis": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "kind")

    class Meta:
        ordering = ("kind", "id")
        constraints = (
            models.CheckConstraint(
                condition=(
                    Q(kind="internal", user__isnull=False)
                    | Q(kind="external", consent__isnull=False)
                    | Q(kind="family", person__isnull=False)
                ),
                name="participant_kind_complete",
            ),
        )

    def __str__(self) -> str:
        return f"Participant {self.pk} ({self.kind})"


class Contact(CaseRecord):
    """A contact with the family: home visit, office, phone, video or accompaniment.

    A contact with one member (accompanying the mother to an appointment) names that
    person: it is then their data, hidden with them under an Art. 18 restriction and
    exported as theirs; a household contact names nobody and goes with the family.
    """

    PROCESSING_ACTIVITY = "case_management"
    PERSON_PATH = "person_id"
    SUBJECT_EXPORT = SubjectExport(
        section="contacts",
        label={"en": "Contacts", "de": "Kontakte"},
        with_id=False,
        household_text=("notes",),
        fields=own("occurred_on", "kind", "initiated_by", "duration_minutes", "notes"),
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics",)
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": ("family", "occurred_on", "kind", "duration_minutes"),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {"notes": "clear"}

    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("Home visit (Hausbesuch)")
        OFFICE = "office", _("Office appointment")
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Video")
        ACCOMPANIMENT = "accompaniment", _("Accompaniment (Begleitung)")

    class InitiatedBy(models.TextChoices):
        CASE_MANAGER = "case_manager", _("Case manager")
        FAMILY = "family", _("Family")
        OTHER = "other", _("Other")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="contacts")
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        help_text="The member the contact was with; empty for the household.",
    )
    occurred_on = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    initiated_by = models.CharField(max_length=20, choices=InitiatedBy.choices)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    interpreter_used = models.BooleanField(default=False)
    notes = EncryptedTextField(max_length=TEXT_MAX_LENGTH, blank=True)
    # Cell key method: a random key fixed at creation (not derived from any identifier) that
    # statistics sum in SQL; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.CASE_ADMINISTRATION,
        "person": DataCategory.CASE_ADMINISTRATION,
        "occurred_on": DataCategory.CASE_ADMINISTRATION,
        "kind": DataCategory.CASE_ADMINISTRATION,
        "initiated_by": DataCategory.CASE_ADMINISTRATION,
        "duration_minutes": DataCategory.CASE_ADMINISTRATION,
        "interpreter_used": DataCategory.LANGUAGE,
        "notes": DataCategory.CASE_NOTES,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key",)

    class Meta:
        ordering = ("-occurred_on", "-created_at")
        # The last contact of a family (dormant cases on the dashboard): one index probe.
        indexes = (models.Index(fields=("family", "occurred_on"), name="contact_family_occurred"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=24 * 60),
                name="contact_duration_bounded",
            ),
        )

    def __str__(self) -> str:
        return f"Contact {self.pk}"
