"""Writes of family members."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from casemgmt.models import Family, Person, User
from privacy.fields import blind_index_fields_for

PERSON_EDITABLE_FIELDS = frozenset(
    {"role", "given_name", "family_name", "date_of_birth", "sex", "residence_status", "country_of_origin"}
)


def _derive(person: Person) -> set[str]:
    """Keep the clear birth year in step with the encrypted date of birth."""
    person.birth_year = person.date_of_birth.year if person.date_of_birth else None
    return {"birth_year"}


@transaction.atomic
def person_create(*, family: Family, acting_user: User, **fields: Any) -> Person:
    """Add a member to a family that the caller has already been authorised for."""
    unknown = set(fields) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if family.status == Family.Status.CLOSED:
        raise ValidationError({"family": "Members cannot be added to a closed family."})
    person = Person(family=family, created_by=acting_user, **fields)
    _derive(person)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def person_update(*, person: Person, acting_user: User, **changes: Any) -> Person:
    """Change a member's editable fields; moving a person to another family is not one of them."""
    if "family" in changes and changes["family"] != person.family:
        raise ValidationError({"family": "A person cannot be moved to another family."})
    changes.pop("family", None)
    unknown = set(changes) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if person.family.status == Family.Status.CLOSED:
        raise ValidationError({"family": "Members of a closed family cannot be changed."})
    for name, value in changes.items():
        setattr(person, name, value)
    changed = set(changes) | _derive(person)
    person.full_clean()
    person.save(update_fields=[*changed, *blind_index_fields_for(Person, changed), "updated_at"])
    return person
