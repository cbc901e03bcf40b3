"""Writes of family members."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from casemgmt.models import Family, Person, User
from casemgmt.services.common import require_not_restricted
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
    require_not_restricted(person)
    for name, value in changes.items():
        setattr(person, name, value)
    changed = set(changes) | _derive(person)
    person.full_clean()
    person.save(update_fields=[*changed, *blind_index_fields_for(Person, changed), "updated_at"])
    return person


def person_possible_duplicates(*, person: Person, acting_user: User) -> list[dict[str, object]]:
    """Other members of the same organisation with the same name and date of birth.

    Matched through the blind indexes, so no name is decrypted for the check. The
    reference of the other family is shown only if the user may see that family; otherwise
    the warning just says a match exists, so the supervisor can be asked.
    """
    if not (person.full_name_index and person.date_of_birth_index):
        return []
    from casemgmt.selectors.families import families_visible_to

    matches = (
        Person.objects.filter(
            family__organisation_id=person.family.organisation_id,
            full_name_index=person.full_name_index,
            date_of_birth_index=person.date_of_birth_index,
        )
        .exclude(pk=person.pk)
        .select_related("family")
    )
    visible = set(families_visible_to(acting_user).values_list("id", flat=True))
    warnings: list[dict[str, object]] = []
    for match in matches[:5]:
        if match.family_id in visible:
            warnings.append(
                {
                    "code": "possible_duplicate",
                    "message": "A person with the same name and date of birth is recorded in this family.",
                    "family_reference": match.family.reference,
                    "person": str(match.pk),
                }
            )
        else:
            warnings.append(
                {
                    "code": "possible_duplicate",
                    "message": "A person with the same name and date of birth is recorded in a family "
                    "of your organisation that you cannot see; ask your supervisor.",
                    "family_reference": None,
                    "person": None,
                }
            )
    return warnings
