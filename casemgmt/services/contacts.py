"""Contacts with the family (home visits, office appointments, calls)."""

from __future__ import annotations

import datetime
from typing import Any

from casemgmt import policies
from casemgmt.models import Contact, Family, Person, User
from casemgmt.services.common import (
    apply_changes,
    require_member,
    require_not_future,
    require_not_restricted,
    require_open_family,
)
from privacy.audit import audited_write
from privacy.registry import Activity

CONTACT_EDITABLE_FIELDS = frozenset(
    {"person", "occurred_on", "kind", "initiated_by", "duration_minutes", "interpreter_used", "notes"}
)


@audited_write(Activity.CASE_MANAGEMENT)
def contact_create(
    *,
    family: Family,
    occurred_on: datetime.date,
    kind: str,
    initiated_by: str,
    acting_user: User,
    person: Person | None = None,
    **fields: Any,
) -> Contact:
    """Record a contact; who initiated it shows whether families start coming on their own."""
    require_member(person, family)  # first: another family's member is "not a member", whatever else
    policies.require_case_access_for(acting_user, family, person)
    require_open_family(family)
    require_not_future(occurred_on, "occurred_on")
    contact = Contact(
        family=family,
        person=person,
        occurred_on=occurred_on,
        kind=kind,
        initiated_by=initiated_by,
        created_by=acting_user,
        **fields,
    )
    contact.full_clean()
    contact.save()
    return contact


@audited_write(Activity.CASE_MANAGEMENT)
def contact_update(*, contact: Contact, acting_user: User, **changes: Any) -> Contact:
    policies.require_case_access(acting_user, contact.family, contact)
    require_open_family(contact.family)
    policies.require_unrestricted_record(contact)
    if "person" in changes:
        require_member(changes["person"], contact.family)
        require_not_restricted(changes["person"])
    names = apply_changes(contact, changes, CONTACT_EDITABLE_FIELDS)
    require_not_future(contact.occurred_on, "occurred_on")
    contact.full_clean()
    contact.save(update_fields=[*names, "updated_at"])
    return contact
