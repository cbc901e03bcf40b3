"""Writes of families. Every write validates fully and runs in one transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Family, FamilyReferenceCounter, Organisation, Referral, Role, User
from casemgmt.services.access import family_grant
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.cipher.fields import blind_index_fields_for
from privacy.registry import Activity

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
    counter, _ = FamilyReferenceCounter.objects.select_for_update(no_key=True).get_or_create(
        organisation=organisation, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{organisation.reference_prefix}-{year}-{counter.last_number:05d}"


@audited_write(Activity.CASE_MANAGEMENT)
def family_create(
    *,
    organisation: Organisation,
    family_name: str,
    acting_user: User,
    opened_on: datetime.date | None = None,
    **fields: Any,
) -> Family:
    """Open a family case in ``organisation``; the acting case manager is assigned to it."""
    # Only its case managers open cases in an organisation; to anyone else it is not found.
    policies.require_role_in(acting_user, organisation, Role.CASE_MANAGER)
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


@audited_write(Activity.CASE_MANAGEMENT)
def family_update(*, family: Family, acting_user: User, **changes: Any) -> Family:
    """Change the editable fields of a family; only the changed columns are written."""
    policies.require_case_access(acting_user, family)
    unknown = set(changes) - FAMILY_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if family.status == Family.Status.CLOSED:
        raise ValidationError(
            {"status": ValidationError("A closed family cannot be changed.", code="closed")}
        )
    if changes.get("status") == Family.Status.CLOSED:
        raise ValidationError({"status": "Close a family through the closure action."})
    for name, value in changes.items():
        setattr(family, name, value)
    family.full_clean()
    changed = set(changes)
    family.save(update_fields=[*changed, *blind_index_fields_for(Family, changed), "updated_at"])
    return family


@audited_write(Activity.CASE_MANAGEMENT)
def family_close(
    *,
    family: Family,
    outcome: str,
    benefit_status_at_closure: str,
    acting_user: User,
    closed_on: datetime.date | None = None,
) -> Family:
    """Close a case with its outcome; every referral must be finished or cancelled first."""
    policies.require_case_access(acting_user, family)
    family = Family.objects.select_for_update(no_key=True).get(pk=family.pk)
    if family.status == Family.Status.CLOSED:
        raise Conflict("This family's case is already closed.", code="already_closed")
    open_referrals = [
        str(pk)
        for pk in family.referrals.filter(status__in=Referral.OPEN_STATUSES).values_list("pk", flat=True)
    ]
    if open_referrals:
        raise Conflict(
            "Finish or cancel the open referrals before closing the case.",
            code="open_referrals",
            open_referrals=open_referrals,
        )
    closed_on = closed_on or timezone.localdate()
    if closed_on > timezone.localdate():
        raise invalid("closed_on", "A case cannot be closed in the future.", "future_date")
    if closed_on < family.opened_on:
        raise invalid("closed_on", "A case cannot be closed before it was opened.", "dates_order")
    family.status = Family.Status.CLOSED
    family.closed_on = closed_on
    family.closure_outcome = outcome
    family.benefit_status_at_closure = benefit_status_at_closure
    family.full_clean()
    family.save(
        update_fields=["status", "closed_on", "closure_outcome", "benefit_status_at_closure", "updated_at"]
    )
    return family


@audited_write(Activity.CASE_MANAGEMENT)
def family_reopen(*, family: Family, acting_user: User) -> Family:
    """Reopen a closed case explicitly; the closure fields are cleared."""
    policies.require_case_access(acting_user, family)
    family = Family.objects.select_for_update(no_key=True).get(pk=family.pk)
    if family.status != Family.Status.CLOSED:
        raise Conflict("Only a closed case can be reopened.", code="not_closed", status=family.status)
    family.status = Family.Status.ACTIVE
    family.closed_on = None
    family.closure_outcome = ""
    family.benefit_status_at_closure = ""
    family.save(
        update_fields=["status", "closed_on", "closure_outcome", "benefit_status_at_closure", "updated_at"]
    )
    return family
