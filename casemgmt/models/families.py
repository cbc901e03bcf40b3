"""Families (household cases) and their members.

Privacy decisions live next to the fields: names, contact data, notes, date of birth,
residence status and country of origin are encrypted; only what statistics need stays in
clear (birth year, sex, family role, case dates and outcomes). ``__str__`` never returns
personal data, because django-auditlog stores it as ``object_repr``.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.models.base import CaseRecord, FamilyOwned, SubjectExport, own
from casemgmt.models.organisations import Organisation, User
from privacy.cipher.blind_index import INDEX_MAX_LENGTH, blind_index
from privacy.cipher.fields import BlindIndexField, EncryptedCharField, EncryptedDateField, EncryptedTextField
from privacy.cipher.normalise import name_parts, phonetic_key
from privacy.classification import DataCategory
from privacy.perturbation import new_record_key

NAME_MAX_LENGTH = 100


def not_in_future(value: datetime.date) -> None:
    """A date of birth cannot lie in the future."""
    if value > timezone.localdate():
        raise ValidationError("Date of birth cannot be in the future.", code="future_date")


LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2,3}$")


def validate_language_codes(value: object) -> None:
    """Preferred languages: a short list of ISO 639-1/-3 codes, e.g. ["ar", "ku"]."""
    if not isinstance(value, list) or len(value) > 10:
        raise ValidationError("Give a list of at most 10 ISO 639 language codes.", code="invalid_languages")
    for code in value:
        if not isinstance(code, str) or not LANGUAGE_CODE_RE.match(code):
            raise ValidationError(
                "Language codes are ISO 639 codes in lower case, such as 'ar' or 'prs'.",
                code="invalid_language_code",
            )


def not_before_1900(value: datetime.date) -> None:
    """Guard against typos such as 0199 for 1999."""
    if value.year < 1900:
        raise ValidationError("Date of birth must be in 1900 or later.", code="too_early")


NOTES_MAX_LENGTH = 20_000


class FamilyReferenceCounter(models.Model):
    """Per organisation and year, the last family number handed out (locked while incremented)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "organisation", "year", "last_number")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("organisation", "year"), name="family_reference_counter_unique"),
        )

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class BenefitStatus(models.TextChoices):
    SGB_II = "sgb_ii", _("SGB II (Bürgergeld)")
    SGB_XII = "sgb_xii", _("SGB XII (social assistance)")
    ASYLBLG = "asylblg", _("AsylbLG (asylum seekers' benefits)")
    NONE = "none", _("No benefits")
    UNKNOWN = "unknown", _("Unknown")


class Family(CaseRecord):
    """A household case (Familie / Bedarfsgemeinschaft)."""

    ORGANISATION_PATH = "organisation_id"
    FAMILY_PATH = "pk"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="family",
        label={"en": "Your household", "de": "Ihr Haushalt"},
        single=True,
        with_id=False,
        household_flag=False,
        fields={
            **own("reference", "status", "opened_on", "closed_on", "family_name", "address", "phone"),
            **own("preferred_languages", "interpreter_needed", "benefit_status_at_intake"),
            **own("benefit_status_at_closure", "closure_outcome"),
            "household_notes": lambda family, context: {
                "household_level": True,
                "text": context.household(family.notes),
            },
        },
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics", "case_conferences")
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": (
            "status",
            "opened_on",
            "closed_on",
            "closure_outcome",
            "benefit_status_at_intake",
            "benefit_status_at_closure",
        ),
        # What a case conference discusses with other agencies about the household.
        "case_conferences": (
            "family_name",
            "benefit_status_at_intake",
            "preferred_languages",
            "interpreter_needed",
        ),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {
        "family_name": "mark",
        "address": "clear",
        "phone": "clear",
        "notes": "clear",
        "legal_hold_reason": "clear",
        "family_name_index": "clear",
    }

    class Status(models.TextChoices):
        INTAKE = "intake", _("Intake")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    class ClosureOutcome(models.TextChoices):
        SELF_SUFFICIENT = "self_sufficient", _("Self-sufficient")
        GOALS_ACHIEVED = "goals_achieved", _("Goals achieved")
        MOVED_AWAY = "moved_away", _("Moved away")
        TRANSFERRED = "transferred", _("Transferred to another service")
        WITHDREW = "withdrew", _("Withdrew")
        NO_CONTACT = "no_contact", _("Contact lost")
        OTHER = "other", _("Other")

    reference = models.CharField(max_length=32, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="families")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INTAKE)
    case_manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_families"
    )
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    benefit_status_at_intake = models.CharField(
        max_length=10, choices=BenefitStatus.choices, default=BenefitStatus.UNKNOWN
    )
    benefit_status_at_closure = models.CharField(max_length=10, choices=BenefitStatus.choices, blank=True)
    closure_outcome = models.CharField(max_length=20, choices=ClosureOutcome.choices, blank=True)
    # Languages stay in clear: interpreter planning and statistics need them, and a list
    # of ISO 639 codes without a name identifies nobody.
    preferred_languages = models.JSONField(default=list, blank=True, validators=[validate_language_codes])
    interpreter_needed = models.BooleanField(default=False)

    family_name = EncryptedCharField(max_length=NAME_MAX_LENGTH)
    address = EncryptedTextField(max_length=500, blank=True)
    phone = EncryptedCharField(max_length=40, blank=True)
    notes = EncryptedTextField(max_length=NOTES_MAX_LENGTH, blank=True)
    family_name_index = BlindIndexField(sources=("family_name",), context="family.family_name")
    # A legal hold (court proceedings, a pending appeal) keeps the case from erasure and retention.
    legal_hold_until = models.DateField(null=True, blank=True)
    legal_hold_reason = EncryptedTextField(max_length=2000, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # Derived: the date of the family's newest contact, kept by the contacts' own saves and
    # deletes (``casemgmt.signals``), so the dormant-case deadline reads a column instead of
    # probing the contacts three times per family (filter, order, count).
    last_contact_on = models.DateField(null=True, blank=True, editable=False)

    # Cell key method: a random key fixed at creation (not derived from any identifier) that
    # statistics sum in SQL; see privacy/perturbation.py.
    record_key = models.IntegerField(default=new_record_key, editable=False)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family_name": DataCategory.IDENTIFICATION,
        "family_name_index": DataCategory.IDENTIFICATION,
        "address": DataCategory.CONTACT,
        "phone": DataCategory.CONTACT,
        "notes": DataCategory.CASE_NOTES,
        "status": DataCategory.CASE_ADMINISTRATION,
        "opened_on": DataCategory.CASE_ADMINISTRATION,
        "closed_on": DataCategory.CASE_ADMINISTRATION,
        "closure_outcome": DataCategory.CASE_ADMINISTRATION,
        "case_manager": DataCategory.CASE_ADMINISTRATION,
        "benefit_status_at_intake": DataCategory.SOCIAL_BENEFITS,
        "benefit_status_at_closure": DataCategory.SOCIAL_BENEFITS,
        "preferred_languages": DataCategory.LANGUAGE,
        "interpreter_needed": DataCategory.LANGUAGE,
        "legal_hold_until": DataCategory.CASE_ADMINISTRATION,
        "legal_hold_reason": DataCategory.CASE_NOTES,
        "last_contact_on": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("record_key", "reference", "organisation", "anonymised_at")

    class Meta:
        verbose_name_plural = "families"
        ordering = ("-opened_on", "reference")
        constraints = (
            models.UniqueConstraint(fields=("organisation", "reference"), name="family_reference_unique"),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="family_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False),
                name="family_closed_has_date",
            ),
        )
        indexes = (
            models.Index(fields=("organisation", "status"), name="family_org_status"),
            # The list's page by keys (casemgmt.db.late_rows): order, count and status filter
            # from the index alone, the table read only for the page's rows; and the
            # dashboard's family set with the columns of its dormant cases. Covering on
            # PostgreSQL; elsewhere a plain index on the three fields.
            models.Index(
                fields=("organisation", "-opened_on", "reference"),
                include=("id", "status", "last_contact_on"),
                name="family_org_listed",
            ),
        )

    def __str__(self) -> str:
        return self.reference or f"Family {self.pk}"

    def blind_index_district(self) -> str:
        """The district tree whose key derives this family's blind indexes."""
        return district_of(self.organisation_id)


class ResidenceCategory(models.TextChoices):
    """Coarse residence categories for reporting (KIM report to the Land)."""

    SECURE = "secure", "German, EU or settled (secure residence)"
    TEMPORARY = "temporary", "Temporary residence permit or protection"
    PRECARIOUS = "precarious", "Asylum pending or tolerated (Duldung)"
    UNKNOWN = "unknown", "Other or unknown"


#: Which detailed (encrypted) residence status falls into which coarse (clear) category.
RESIDENCE_CATEGORY_OF: dict[str, str] = {
    "german_citizen": ResidenceCategory.SECURE,
    "eu_citizen": ResidenceCategory.SECURE,
    "settlement_permit": ResidenceCategory.SECURE,
    "residence_permit": ResidenceCategory.TEMPORARY,
    "temporary_protection": ResidenceCategory.TEMPORARY,
    "asylum_pending": ResidenceCategory.PRECARIOUS,
    "tolerated": ResidenceCategory.PRECARIOUS,
}


class Person(CaseRecord):
    """A family member (Familienmitglied)."""

    PERSON_PATH = "pk"
    PROCESSING_ACTIVITY = "case_management"
    SUBJECT_EXPORT = SubjectExport(
        section="subject",
        label={"en": "Your record", "de": "Ihre Angaben"},
        single=True,
        household_flag=False,
        fields={
            **own("role", "given_name", "family_name", "date_of_birth", "birth_year", "sex"),
            **own("residence_status", "country_of_origin"),
            "recorded_on": "created_at",
            "anonymised_at": "anonymised_at",
        },
    )
    ALSO_PROCESSED_FOR = ("outcome_statistics", "case_conferences")
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {
        "outcome_statistics": ("family", "birth_year", "sex", "role"),
        # The member's identity and status are discussed with the agencies consented to.
        "case_conferences": ("family", "given_name", "family_name", "date_of_birth", "residence_status"),
    }
    ANONYMISE: ClassVar[dict[str, str]] = {
        "given_name": "mark",
        "family_name": "mark",
        "date_of_birth": "clear",
        "residence_status": "clear",
        "residence_valid_until": "clear",
        "country_of_origin": "clear",
    }

    class Role(models.TextChoices):
        PARENT = "parent", _("Parent")
        CHILD = "child", _("Child")
        OTHER = "other", _("Other household member")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        DIVERSE = "diverse", _("Diverse")
        UNSPECIFIED = "unspecified", _("Not specified")

    class ResidenceStatus(models.TextChoices):
        GERMAN_CITIZEN = "german_citizen", _("German citizen")
        EU_CITIZEN = "eu_citizen", _("EU/EEA citizen (freedom of movement)")
        SETTLEMENT_PERMIT = "settlement_permit", _("Settlement permit (Niederlassungserlaubnis)")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit (Aufenthaltserlaubnis)")
        TEMPORARY_PROTECTION = "temporary_protection", _("Temporary protection (§ 24 AufenthG)")
        ASYLUM_PENDING = "asylum_pending", _("Asylum procedure pending (Aufenthaltsgestattung)")
        TOLERATED = "tolerated", _("Tolerated stay (Duldung)")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=10, choices=Role.choices)
    given_name = EncryptedCharField(max_length=NAME_MAX_LENGTH)
    family_name = EncryptedCharField(max_length=NAME_MAX_LENGTH)
    date_of_birth = EncryptedDateField(null=True, blank=True, validators=[not_in_future, not_before_1900])
    # Only the birth year stays in clear: statistics need age bands, never the exact date.
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    sex = models.CharField(max_length=12, choices=Sex.choices, default=Sex.UNSPECIFIED)
    residence_status = EncryptedCharField(max_length=30, choices=ResidenceStatus.choices, blank=True)
    country_of_origin = EncryptedCharField(
        max_length=2,
        blank=True,
        validators=[
            RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code such as SY.", "invalid_country")
        ],
        help_text="ISO 3166-1 alpha-2",
    )
    # Encrypted like the status it belongs to: the expiry of a residence permit or Duldung
    # tells the immigration office's side of the house as much as the status. Deadlines
    # decrypt it for the case manager's own caseload only (casemgmt/selectors/deadlines.py).
    residence_valid_until = EncryptedDateField(null=True, blank=True)
    # Per person, not only per family: a father may speak German while the mother needs an
    # interpreter. ISO 639 codes in clear, as on the family: they identify nobody.
    preferred_languages = models.JSONField(default=list, blank=True, validators=[validate_language_codes])
    interpreter_needed = models.BooleanField(default=False)

    # A coarse residence category stays in clear beside the encrypted status: the report to the
    # Land (KIM) breaks figures down by it. Four broad classes, each shared by many persons, derived
    # from the encrypted detail on every write (never entered separately).
    residence_category = models.CharField(
        max_length=12, choices=ResidenceCategory.choices, default=ResidenceCategory.UNKNOWN, editable=False
    )

    # Search terms (name parts, phonetic codes, coarse birth date) live in PersonSearchTerm:
    # one row per term, so every part of a multi-part name is searchable.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "family": DataCategory.DEMOGRAPHIC,
        "role": DataCategory.DEMOGRAPHIC,
        "given_name": DataCategory.IDENTIFICATION,
        "family_name": DataCategory.IDENTIFICATION,
        "date_of_birth": DataCategory.DATE_OF_BIRTH,
        "birth_year": DataCategory.DEMOGRAPHIC,
        "sex": DataCategory.DEMOGRAPHIC,
        "residence_status": DataCategory.RESIDENCE,
        "residence_valid_until": DataCategory.RESIDENCE,
        "residence_category": DataCategory.RESIDENCE,
        "country_of_origin": DataCategory.ORIGIN,
        "preferred_languages": DataCategory.LANGUAGE,
        "interpreter_needed": DataCategory.LANGUAGE,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("anonymised_at",)

    class Meta:
        ordering = ("created_at", "id")
        indexes = (
            # The dashboard's residence deadlines: per family, the members with a permit and
            # its ciphertext, read from the index alone (PostgreSQL; on SQLite the index is
            # built without ``include``). Ciphertext only, as in the table.
            models.Index(
                fields=("family",),
                include=("id", "residence_valid_until"),
                condition=Q(residence_valid_until__isnull=False),
                name="person_residence_due",
            ),
        )

    def __str__(self) -> str:
        return f"Person {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, then keep the search terms in step (index maintenance, like a blind index column)."""
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & SEARCH_SOURCES:
            PersonSearchTerm.rebuild(self)

    def blind_index_district(self) -> str:
        """The district tree whose key derives this person's search terms."""
        return district_of(self.family.organisation_id)


SEARCH_SOURCES = frozenset({"given_name", "family_name", "date_of_birth", "anonymised_at"})


class PersonSearchTerm(FamilyOwned, models.Model):
    """One blind-index term of a person: a name part, its phonetic code, or the coarse birth date.

    A table of terms rather than index columns: a name has any number of parts ("Süleyman
    Çelik-Weiß" has three) and each must find the person, and the phonetic index needs
    one code per part. Lookups are ``(kind, value)`` index scans joined to the person, so
    search stays O(matches). Values are truncated per-district HMACs (see
    ``privacy.cipher.blind_index``); the row count per person shows the number of name parts,
    as the ciphertext length already does.
    """

    FAMILY_PATH = "person__family_id"
    PERSON_PATH = "person_id"
    # Derived from the person's names and birth date; erasure deletes the rows (privacy.erasure).
    PROCESSING_ACTIVITY = "case_management"
    # Only the kind: the value is a keyed hash of the names above, meaningless to the reader.
    SUBJECT_EXPORT = SubjectExport(
        section="search_terms",
        label={
            "en": "Search keys derived from your names and date of birth (stored as keyed hashes)",
            "de": "Suchschlüssel aus Ihren Namen und Ihrem Geburtsdatum (als verschlüsselte Prüfwerte)",
        },
        with_id=False,
        household_flag=False,
        fields=own("kind"),
    )

    class Kind(models.TextChoices):
        NAME_PART = "name", _("Name part")
        PHONETIC = "phonetic", _("Phonetic code of a name part")
        DATE_OF_BIRTH = "dob", _("Date of birth (coarse)")

    CONTEXTS: ClassVar[dict[str, str]] = {
        "name": "person.name_part",
        "phonetic": "person.name_phonetic",
        "dob": "person.date_of_birth",
    }

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="search_terms")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=INDEX_MAX_LENGTH)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.IDENTIFICATION,
        "value": DataCategory.IDENTIFICATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = ("id", "kind")

    class Meta:
        indexes = (models.Index(fields=("kind", "value"), name="person_term_lookup"),)
        constraints = (
            models.UniqueConstraint(fields=("person", "kind", "value"), name="person_term_unique"),
        )

    def __str__(self) -> str:
        return f"Search term {self.pk} ({self.kind})"

    @staticmethod
    def plaintexts(person: Person) -> set[tuple[str, str]]:
        """The normalised terms of a person, before hashing: (kind, text)."""
        if person.anonymised_at is not None:
            return set()
        parts = [*name_parts(person.given_name or ""), *name_parts(person.family_name or "")]
        terms = {("name", part) for part in parts}
        terms |= {("phonetic", code) for code in map(phonetic_key, parts) if code}
        if person.date_of_birth:
            terms.add(("dob", person.date_of_birth.isoformat()))
        return terms

    @classmethod
    def terms_for(cls, person: Person, *, kid: str | None = None) -> list[PersonSearchTerm]:
        """Unsaved term rows for ``person`` (for ``bulk_create`` in the generator and rotation)."""
        district = person.blind_index_district()
        values = {
            (kind, blind_index(text, context=cls.CONTEXTS[kind], district=district, kid=kid))
            for kind, text in cls.plaintexts(person)
        }
        return [cls(person=person, kind=kind, value=value) for kind, value in sorted(values)]

    @classmethod
    def rebuild(cls, person: Person, *, kid: str | None = None) -> None:
        """Replace a person's terms with those of their current values."""
        cls.objects.filter(person=person).delete()
        PersonSearchTerm.objects.bulk_create(cls.terms_for(person, kid=kid))


class DuplicateReview(FamilyOwned, models.Model):
    """A possible duplicate found when a person was created, for the supervisor or DPO to review.

    Duplicate detection must not be an oracle: a case manager who cannot see the other
    family learns nothing about it (the response is the same as with no match); the
    match is recorded here instead, where supervisors and DPOs of the organisation see it.
    """

    ORGANISATION_PATH = "organisation_id"
    FAMILY_PATH = "person__family_id"
    PERSON_PATH = "person_id"
    PROCESSING_ACTIVITY = "case_management"
    # Not the candidate: that is another person's data.
    SUBJECT_EXPORT = SubjectExport(
        section="duplicate_reviews",
        label={"en": "Checks for a duplicate record", "de": "Prüfungen auf doppelte Erfassung"},
        with_id=False,
        household_flag=False,
        fields={
            "match": "match",
            "status": "status",
            "recorded_on": "created_at",
            "reviewed_at": "reviewed_at",
        },
    )

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DUPLICATE = "duplicate", _("Same person")
        NOT_DUPLICATE = "not_duplicate", _("Different persons")

    class Match(models.TextChoices):
        EXACT = "exact", _("Same name parts and date of birth")
        POSSIBLE = "possible", _("Similar-sounding name, same date of birth")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    match = models.CharField(max_length=10, choices=Match.choices)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {
        "person": DataCategory.CASE_ADMINISTRATION,
        "candidate": DataCategory.CASE_ADMINISTRATION,
        "match": DataCategory.CASE_ADMINISTRATION,
    }
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "status",
        "created_by",
        "created_at",
        "reviewed_by",
        "reviewed_at",
    )

    class Meta:
        ordering = ("-created_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("person", "candidate"), name="duplicate_review_pair_unique"),
        )

    def __str__(self) -> str:
        return f"Duplicate review {self.pk} ({self.status})"


_DISTRICTS: dict[str, str] = {}


def district_of(organisation_id: uuid.UUID | str) -> str:
    """The id of the top-level organisation above ``organisation_id`` (cached: trees rarely move)."""
    key = str(organisation_id)
    if key not in _DISTRICTS:
        current, parent = Organisation.objects.values_list("id", "parent_id").get(pk=organisation_id)
        while parent is not None:
            current, parent = Organisation.objects.values_list("id", "parent_id").get(pk=parent)
        _DISTRICTS[key] = str(current)
    return _DISTRICTS[key]
