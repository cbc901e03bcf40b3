"""Art. 33: the breach register and, for an incident window, who and what was affected.

The affected persons are derived from the audit log: every entry of the organisation in
the window names the objects it wrote or read (``object_pk``, ``object_ids``); each declared
family-owned record leads to its person (``PERSON_PATH``) or, for household records, to
every member of its family (``FAMILY_PATH``). Categories come from the touched models'
field classification.
"""

from __future__ import annotations

import datetime
from typing import Any

from casemgmt import policies
from casemgmt.db import in_batches
from casemgmt.models import Organisation, Role
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.classification import DataCategory, category_label
from privacy.models import AuditEntry, Breach
from privacy.registry import Activity


@audited_write(Activity.AUDIT_LOGGING)
def breach_record(
    *,
    organisation: Organisation,
    acting_user: Any,
    description: str,
    occurred_from: datetime.datetime,
    occurred_to: datetime.datetime,
    discovered_at: datetime.datetime,
    categories: list[str] | None = None,
    approximate_persons: int = 0,
    measures: str = "",
    notified_authority_at: datetime.datetime | None = None,
) -> Breach:
    """Enter a breach in the register (Art. 33(5)): what, when, categories, persons, measures."""
    from django.utils import timezone

    policies.require_role_in(acting_user, organisation, Role.DPO, obj=organisation)
    if occurred_to < occurred_from:
        raise invalid("occurred_to", "The window ends before it starts.", "invalid_window")
    unknown = sorted(set(categories or ()) - set(DataCategory.values))
    if unknown:
        raise invalid("categories", f"Unknown data category: {', '.join(unknown)}.", "invalid_choice")
    if not description.strip():
        raise invalid("description", "Describe what happened.", "required")
    breach = Breach(
        organisation=organisation,
        description=description.strip(),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        discovered_at=discovered_at,
        categories=sorted(set(categories or ()), key=list(DataCategory.values).index),
        approximate_persons=approximate_persons,
        measures=measures.strip(),
        notified_authority_at=notified_authority_at,
        recorded_at=timezone.now(),
        recorded_by=acting_user,
    )
    breach.full_clean()
    breach.save()
    return breach


#: More entries than this in one window: the export says it is incomplete instead of timing out.
ENTRY_LIMIT = 50_000


def affected(breach: Breach, lang: str = "en") -> dict[str, Any]:
    """Persons and data categories touched in the breach window, from the audit log."""
    from django.contrib.contenttypes.models import ContentType

    from casemgmt.models import Person
    from casemgmt.models.base import family_owned_models

    entries = AuditEntry.objects.filter(
        organisation_id=breach.organisation_id,
        timestamp__gte=breach.occurred_from,
        timestamp__lte=breach.occurred_to,
    ).values_list("content_type_id", "object_pk", "object_ids")[: ENTRY_LIMIT + 1]
    ids_by_type: dict[int, set[str]] = {}
    count = 0
    for content_type_id, object_pk, object_ids in entries:
        count += 1
        ids = ids_by_type.setdefault(content_type_id, set())
        if object_pk:
            ids.add(str(object_pk))
        ids.update(str(i) for i in object_ids or ())
    person_ids: set[str] = set()
    family_ids: set[str] = set()
    categories: set[DataCategory] = set()
    for model in family_owned_models():
        touched = ids_by_type.get(ContentType.objects.get_for_model(model).pk)
        if not touched:
            continue
        categories.update(DataCategory(c) for c in getattr(model, "PERSONAL_DATA", {}).values())
        person_path: str = model.PERSON_PATH  # type: ignore[attr-defined]
        family_path: str = model.FAMILY_PATH  # type: ignore[attr-defined]
        # In batches: one parameter per id, and a statement takes at most 65,535 (PostgreSQL).
        for batch in in_batches(touched):
            rows = model._default_manager.filter(pk__in=batch)
            # A member's record affects that member; a household record (no person) the whole family.
            for person_id, family_id in rows.values_list(person_path or family_path, family_path):
                if person_path and person_id:
                    person_ids.add(str(person_id))
                elif family_id:
                    family_ids.add(str(family_id))
    found = {
        person.pk: person
        for lookup, ids in (("pk__in", person_ids), ("family_id__in", family_ids))
        for batch in in_batches(ids)
        for person in Person.objects.filter(**{lookup: batch}).select_related("family")
    }
    persons = sorted(found.values(), key=lambda p: (p.family.reference, p.pk))
    order = list(DataCategory)
    return {
        "breach": str(breach.pk),
        "window": {"from": breach.occurred_from.isoformat(), "to": breach.occurred_to.isoformat()},
        "entries": min(count, ENTRY_LIMIT),
        "complete": count <= ENTRY_LIMIT,
        # Ids and case numbers, no names: the DPO resolves them in the case file to notify (Art. 34).
        "persons": [{"id": str(p.pk), "family_reference": p.family.reference} for p in persons],
        "categories": [
            {"code": c.value, "label": category_label(c, lang)} for c in sorted(categories, key=order.index)
        ],
    }
