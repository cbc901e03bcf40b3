"""Data categories for the field classification that the processing record is derived from.

Every concrete field of every model in the domain app is classified on its model in
``PERSONAL_DATA`` (a data category) or ``NOT_PERSONAL`` (technical or organisational data);
``tests/privacy/test_classification.py`` fails when a field is neither, so a new field
cannot slip into the database without a decision.
"""

from __future__ import annotations

from django.db import models


class DataCategory(models.TextChoices):
    """Categories of personal data (GDPR Art. 30(1)(c)); ``special`` marks Art. 9 data."""

    IDENTIFICATION = "identification", "Identification data (names)"
    CONTACT = "contact", "Contact data (address, phone)"
    DATE_OF_BIRTH = "date_of_birth", "Date of birth"
    DEMOGRAPHIC = "demographic", "Coarse demographic data (birth year, sex, family role)"
    RESIDENCE = "residence", "Residence status (immigration law)"
    ORIGIN = "origin", "Country of origin (may reveal ethnic origin, Art. 9)"
    LANGUAGE = "language", "Languages and interpreter need"
    SOCIAL_BENEFITS = "social_benefits", "Social benefits status (social data, SGB X)"
    CASE_ADMINISTRATION = "case_administration", "Case administration (status, dates, outcome)"
    CASE_NOTES = "case_notes", "Free-text case notes (may contain health data, Art. 9)"
    ACCOUNT = "account", "Staff account data"


SPECIAL_CATEGORIES = frozenset({DataCategory.ORIGIN, DataCategory.CASE_NOTES})

#: German labels of the categories (the record and the Art. 15 export are issued in German);
#: the registry completeness test fails for a category without one.
CATEGORY_LABELS_DE: dict[str, str] = {
    DataCategory.IDENTIFICATION: "Identifikationsdaten (Namen)",
    DataCategory.CONTACT: "Kontaktdaten (Anschrift, Telefon)",
    DataCategory.DATE_OF_BIRTH: "Geburtsdatum",
    DataCategory.DEMOGRAPHIC: "Grobe demografische Angaben (Geburtsjahr, Geschlecht, Rolle in der Familie)",
    DataCategory.RESIDENCE: "Aufenthaltsstatus (Ausländerrecht)",
    DataCategory.ORIGIN: "Herkunftsland (kann die ethnische Herkunft offenbaren, Art. 9)",
    DataCategory.LANGUAGE: "Sprachen und Dolmetscherbedarf",
    DataCategory.SOCIAL_BENEFITS: "Leistungsbezug (Sozialdaten, SGB X)",
    DataCategory.CASE_ADMINISTRATION: "Fallverwaltung (Stand, Daten, Ergebnis)",
    DataCategory.CASE_NOTES: "Freitext-Fallnotizen (können Gesundheitsdaten enthalten, Art. 9)",
    DataCategory.ACCOUNT: "Daten der Benutzerkonten von Beschäftigten",
}


def category_label(category: str, lang: str) -> str:
    """The label of a data category in ``lang`` ("de" or "en")."""
    if lang == "de":
        return CATEGORY_LABELS_DE[category]
    return str(DataCategory(category).label)


def personal_fields(model: type[models.Model]) -> dict[str, DataCategory]:
    """The personal data fields of ``model`` with their categories."""
    return dict(getattr(model, "PERSONAL_DATA", {}))


def not_personal_fields(model: type[models.Model]) -> set[str]:
    """Fields declared technical: the model's ``NOT_PERSONAL`` and its base's ``RECORD_FIELDS``."""
    return set(getattr(model, "NOT_PERSONAL", ())) | set(getattr(model, "RECORD_FIELDS", ()))


def classifiable_fields(model: type[models.Model]) -> list[models.Field]:  # type: ignore[type-arg]
    """The fields that hold data of a row: concrete columns and many-to-many links."""
    return [*model._meta.concrete_fields, *model._meta.many_to_many]  # type: ignore[list-item]


def unclassified_fields(model: type[models.Model]) -> list[str]:
    """Fields of ``model`` (columns and many-to-many links) classified neither personal nor not personal."""
    personal = set(getattr(model, "PERSONAL_DATA", {}))
    not_personal = not_personal_fields(model)
    return [
        f.name for f in classifiable_fields(model) if f.name not in personal and f.name not in not_personal
    ]


#: Clear-text fields a person types that were reviewed and stay in clear, with the reason.
#: Anything else a user can fill with free text must be encrypted or a choice field;
#: ``tests/privacy/test_row_binding.py`` fails for a new one that is neither.
REVIEWED_CLEAR_TEXT: dict[str, str] = {
    "casemgmt.User.username": "staff account: needed in clear to log in; staff, not clients",
    "casemgmt.User.first_name": "staff account name (GDPR data of employees, not of families)",
    "casemgmt.User.last_name": "staff account name (GDPR data of employees, not of families)",
    "casemgmt.User.email": "staff account address",
    "casemgmt.User.password": "a password hash, never a password",
    "casemgmt.Organisation.name": "name of a public body or provider",
    "casemgmt.Organisation.reference_prefix": "organisation code in reference numbers",
    "casemgmt.Family.reference": "generated, non-identifying case number",
    "casemgmt.PersonSearchTerm.value": "a truncated blind index value, not text",
    "casemgmt.FieldOfAction.code": "catalogue data of the organisation",
    "casemgmt.FieldOfAction.name": "catalogue data of the organisation",
    "casemgmt.FieldOfAction.name_de": "catalogue data of the organisation",
    "casemgmt.Provider.name": "catalogue: a provider's business name",
    "casemgmt.Provider.address": "catalogue: a provider's business address",
    "casemgmt.Provider.phone": "catalogue: a provider's business phone",
    "casemgmt.Course.title": "catalogue: a course title",
    "casemgmt.Course.place": "catalogue: where a course is held",
    "privacy.ErasureRequest.refusal_code": "a fixed code set by the service",
    "privacy.RetentionPeriod.rule": "the code of a declared retention rule, checked by the service",
    "casemgmt.SetPasswordToken.digest": "SHA-256 digest of a one-time token, never the token",
    "privacy.AuditCheckpoint.root_hash": "a Merkle tree hash (hex) of the audit log",
    "privacy.AuditCheckpoint.key_id": "identifier of the public signing key",
    "privacy.AuditCheckpoint.signature": "an Ed25519 signature (base64)",
    "privacy.AuditPruning.signature": "an Ed25519 signature (base64)",
    "privacy.WorkerHeartbeat.name": "the name of a job worker process",
    "privacy.ControllerProfile.name": "a public body's legal name (Art. 13(1)(a): published)",
    "privacy.ControllerProfile.address": "a public body's postal address (published)",
    "privacy.ControllerProfile.representative": "the head of a public body, named in its legal notice",
    "privacy.ControllerProfile.dpo_contact": "the DPO's published contact (Art. 37(7): must be published)",
    "privacy.ControllerProfile.arrangement_reference": "where the Art. 26/28 agreement is filed",
    "privacy.ControllerProfile.processors": "names of processors (companies, public IT providers)",
    "privacy.ControllerProfile.third_country_transfers": "the controller's statement on transfers",
    "casemgmt.Document.storage_name": "a random name in the document storage, set by the service",
}


def clear_free_text_fields(model: type[models.Model]) -> list[str]:
    """``app.Model.field`` of every clear CharField/TextField without choices on ``model``."""
    from privacy.cipher.fields import BlindIndexField, EncryptedFieldMixin

    return [
        f"{model._meta.label}.{f.name}"
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not isinstance(f, EncryptedFieldMixin | BlindIndexField)
        and not f.choices
    ]
