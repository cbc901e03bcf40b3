"""Every field that can hold personal data has a data category; nothing is left unclassified."""

import pytest
from django.apps import apps

from privacy.cipher.fields import EncryptedFieldMixin
from privacy.classification import DataCategory, classifiable_fields, unclassified_fields

DOMAIN_MODELS = list(apps.get_app_config("casemgmt").get_models())


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_every_field_classified(model) -> None:  # type: ignore[no-untyped-def]
    assert unclassified_fields(model) == []


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_classification_names_real_fields(model) -> None:  # type: ignore[no-untyped-def]
    names = {f.name for f in classifiable_fields(model)}
    declared = set(getattr(model, "PERSONAL_DATA", {})) | set(getattr(model, "NOT_PERSONAL", ()))
    assert declared <= names
    assert not set(getattr(model, "PERSONAL_DATA", {})) & set(getattr(model, "NOT_PERSONAL", ()))


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_encrypted_fields_are_personal(model) -> None:  # type: ignore[no-untyped-def]
    personal = getattr(model, "PERSONAL_DATA", {})
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedFieldMixin):
            assert isinstance(personal.get(field.name), DataCategory), field.name


def test_identifying_case_fields_are_encrypted() -> None:
    from casemgmt.models import Family, Person

    for model, names in (
        (Family, ("family_name", "address", "phone", "notes")),
        (Person, ("given_name", "family_name", "date_of_birth", "residence_status", "country_of_origin")),
    ):
        for name in names:
            assert isinstance(model._meta.get_field(name), EncryptedFieldMixin), f"{model.__name__}.{name}"
