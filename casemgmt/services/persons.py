"""Writes of family members."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from casemgmt import policies
from casemgmt.models import DuplicateReview, Family, Person, User
from casemgmt.services.common import require_not_restricted
from privacy.audit import audited_write
from privacy.cipher.fields import blind_index_fields_for
from privacy.registry import Activity

PERSON_EDITABLE_FIELDS = frozenset(
    {
        "role",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "residence_status",
        "residence_valid_until",
        "country_of_origin",
        "preferred_languages",
        "interpreter_needed",
    }
)


def _derive(person: Person) -> set[str]:
    """Keep the clear birth year and residence category in step with their encrypted details."""
    from casemgmt.models.families import RESIDENCE_CATEGORY_OF, ResidenceCategory

    person.birth_year = person.date_of_birth.year if person.date_of_birth else None
    person.residence_category = RESIDENCE_CATEGORY_OF.get(
        person.residence_status or "", ResidenceCategory.UNKNOWN
    )
    return {"birth_year", "residence_category"}


@audited_write(Activity.CASE_MANAGEMENT)
def person_create(*, family: Family, acting_user: User, **fields: Any) -> Person:
    """Add a member to a family that the caller has already been authorised for."""
    policies.require_case_access(acting_user, family)
    unknown = set(fields) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if family.status == Family.Status.CLOSED:
        raise ValidationError(
            {"family": ValidationError("Members cannot be added to a closed family.", code="closed")}
        )
    person = Person(family=family, created_by=acting_user, **fields)
    _derive(person)
    person.full_clean()
    person.save()
    return person


@audited_write(Activity.CASE_MANAGEMENT)
def person_update(*, person: Person, acting_user: User, **changes: Any) -> Person:
    """Change a member's editable fields; moving a person to another family is not one of them."""
    policies.require_case_access(acting_user, person.family, person)
    if "family" in changes and changes["family"] != person.family:
        raise ValidationError({"family": "A person cannot be moved to another family."})
    changes.pop("family", None)
    unknown = set(changes) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if person.family.status == Family.Status.CLOSED:
        raise ValidationError(
            {"family": ValidationError("Members of a closed family cannot be changed.", code="closed")}
        )
    require_not_restricted(person)
    for name, value in changes.items():
        setattr(person, name, value)
    changed = set(changes) | _derive(person)
    person.full_clean()
    person.save(update_fields=[*changed, *blind_index_fields_for(Person, changed), "updated_at"])
    return person


@audited_write(Activity.CASE_MANAGEMENT)
def person_possible_duplicates(*, person: Person, acting_user: User) -> list[dict[str, object]]:
    """Warn about possible duplicates the caller can see; record the others for review.

    Uses the same indexes as search: every part of the new name matches a part (or its
    Kölner Phonetik code) of the other person's name, and the date of birth is the same,
    so "Leila Mansur" catches "Layla Mansour". Restricted and anonymised persons never
    match. A match in a family the caller cannot see changes nothing in the answer (no
    oracle): it goes to the organisation's duplicate review list for the supervisor or DPO.
    """
    policies.require_case_access(acting_user, person.family, person)
    if not person.date_of_birth:
        return []
    from casemgmt.selectors.families import families_visible_to
    from casemgmt.selectors.persons import EXACT, not_restricted, person_search

    pool = Person.objects.filter(
        not_restricted(), family__organisation_id=person.family.organisation_id, anonymised_at__isnull=True
    ).exclude(pk=person.pk)
    found = person_search(
        pool,
        districts=[person.blind_index_district()],
        name=f"{person.given_name} {person.family_name}",
        date_of_birth=person.date_of_birth,
    )
    matches = {pk: "exact" for pk in found.exact} | {pk: "possible" for pk in found.possible}
    if not matches:
        return []
    visible = set(
        families_visible_to(acting_user)
        .filter(members__in=list(matches))
        .values_list("members__id", "reference")
    )
    references: dict[object, str] = dict(visible)
    warnings: list[dict[str, object]] = []
    for pk, match in matches.items():
        if pk in references:
            warnings.append(
                {
                    "code": "possible_duplicate",
                    "message": (
                        "A person with the same name and date of birth is recorded in this family."
                        if match == EXACT
                        else "A person with a similar-sounding name and the same date of birth "
                        "is recorded in this family."
                    ),
                    "match": match,
                    "family_reference": references[pk],
                    "person": str(pk),
                }
            )
        else:
            DuplicateReview.objects.get_or_create(
                person=person,
                candidate_id=pk,
                defaults={
                    "organisation_id": person.family.organisation_id,
                    "match": match,
                    "created_by": acting_user,
                },
            )
    return warnings


@audited_write(Activity.CASE_MANAGEMENT)
def duplicate_review_resolve(*, review: DuplicateReview, acting_user: User, status: str) -> DuplicateReview:
    """A supervisor or the DPO records whether two persons are the same."""
    from django.utils import timezone

    from casemgmt.models import Role
    from casemgmt.services.common import invalid

    # Another organisation's review, or a caller without the role there: "no such review".
    policies.require_role_in(acting_user, review.organisation, Role.SUPERVISOR, Role.DPO, obj=review)
    if status not in (DuplicateReview.Status.DUPLICATE, DuplicateReview.Status.NOT_DUPLICATE):
        raise invalid("status", "Give 'duplicate' or 'not_duplicate'.", "invalid_choice")
    if review.status != DuplicateReview.Status.OPEN:
        raise invalid("non_field_errors", "This possible duplicate was already reviewed.", "reviewed")
    review.status = status
    review.reviewed_by = acting_user
    review.reviewed_at = timezone.now()
    review.full_clean()
    review.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return review
