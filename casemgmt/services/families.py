"""Writes of families. Every write validates fully and runs in one transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from casemgmt import policies
from casemgmt.models import Family, FamilyReferenceCounter, Organisation, Role, User
from casemgmt.services.access import family_grant
from privacy.fields import blind_index_fields_for

#: Fields a case manager may change with a partial update; closing a case is its own action.
FAMILY_EDITABLE_FIELDS = frozenset(
    {
        "family_name",
        "address",
        "phone",
        "notes",
        "status",
        "benefit_status_at_intake",
        "preferred_languages",
        "interpreter_needed",
    }
)


def _next_reference(*, organisation: Organisation, year: int) -> str:
    """Hand out the next reference number; the counter row is locked until commit."""
    counter, _ = FamilyReferenceCounter.objects.select_for_update().get_or_create(
        organisation=organisation, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{organisation.reference_prefix}-{year}-{counter.last_number:05d}"


@transaction.atomic
def family_create(
    *,
    organisation: Organisation,
    family_name: str,
    acting_user: User,
    opened_on: datetime.date | None = None,
    **fields: Any,
) -> Family:
    """Open a family case in ``organisation``; the acting case manager is assigned to it."""
    if not policies.has_role_in(acting_user, organisation, Role.CASE_MANAGER):
        raise PermissionDenied("Only case managers of the organisation may open families in it.")
    unknown = set(fields) - FAMILY_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if fields.get("status") == Family.Status.CLOSED:
        raise ValidationError({"status": "A new family cannot be closed."})
    opened_on = opened_on or timezone.localdate()
    family = Family(
        organisation=organisation,
        family_name=family_name,
        opened_on=opened_on,
        case_manager=acting_user,
        created_by=acting_user,
        **fields,
    )
    family.reference = _next_reference(organisation=organisation, year=opened_on.year)
    family.full_clean()
    family.save()
    # The creator's caseload (them and their deputies) gets the family: a grant, not a role.
    family_grant(family=family, case_manager=acting_user)
    return family


@transaction.atomic
def family_update(*, family: Family, acting_user: User, **changes: Any) -> Family:
    """Change the editable fields of a family; only the changed columns are written."""
    unknown = set(changes) - FAMILY_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if family.status == Family.Status.CLOSED:
        raise ValidationError({"status": "A closed family cannot be changed."})
    if changes.get("status") == Family.Status.CLOSED:
        raise ValidationError({"status": "Close a family through the closure action."})
    for name, value in changes.items():
        setattr(family, name, value)
    family.full_clean()
    changed = set(changes)
    family.save(update_fields=[*changed, *blind_index_fields_for(Family, changed), "updated_at"])
    return family
