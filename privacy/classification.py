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


def personal_fields(model: type[models.Model]) -> dict[str, DataCategory]:
    """The personal data fields of ``model`` with their categories."""
    return dict(getattr(model, "PERSONAL_DATA", {}))


def unclassified_fields(model: type[models.Model]) -> list[str]:
    """Concrete fields of ``model`` that are neither classified as personal nor as not personal."""
    personal = set(getattr(model, "PERSONAL_DATA", {}))
    not_personal = set(getattr(model, "NOT_PERSONAL", ()))
    return [
        f.name for f in model._meta.concrete_fields if f.name not in personal and f.name not in not_personal
    ]
