"""Erasure (Art. 17) and retention: anonymise what identifies, keep coarse facts.

Rows are not deleted: goals, referrals, closures and contacts stay as anonymous facts, so
statistics computed before and after an erasure agree. Which rows belong to a family or a
person, and what is cleared per field, each family-owned model declares itself
(``FAMILY_PATH``, ``PERSON_PATH``, ``ANONYMISE``: ``casemgmt.models.base.FamilyOwned``).
Every run is one transaction, refused as a whole while a legal hold, an open case or a
restriction requires keeping the data, and leaves one non-identifying tombstone in the audit trail.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from casemgmt.db import in_batches
from privacy.audit import log_bulk
from privacy.registry import ANONYMISED_MARK, anonymisation


@dataclass
class ErasurePlan:
    """What an erasure would do: per model, how many rows and which fields are cleared."""

    subject_type: str
    subject_id: str
    organisation_id: str
    refusal: tuple[str, str] | None = None  # (code, reason)
    querysets: dict[str, QuerySet[Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        rules = anonymisation()
        affected = []
        for label, queryset in self.querysets.items():
            count = queryset.count()
            if count:
                affected.append(
                    {
                        "model": label,
                        "rows": count,
                        "fields_cleared": sorted(rules[label]),
                        "action": "anonymise",
                    }
                )
        return {
            "affected": affected,
            "kept": [
                "statuses",
                "dates",
                "fields of action",
                "outcomes",
                "birth year",
                "sex",
                "family reference",
            ],
        }


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _refusal_for_family(family: Any, today: datetime.date) -> tuple[str, str] | None:
    from privacy.models import Restriction

    if family.status != "closed":
        return (
            "open_case",
            "The family's case is open: close it first (the data is still needed for the case).",
        )
    if family.legal_hold_until and family.legal_hold_until >= today:
        return "legal_hold", f"A legal hold keeps the data until {family.legal_hold_until.isoformat()}."
    if Restriction.objects.filter(person__family=family, lifted_at__isnull=True).exists():
        return "restricted", "Processing of a member is restricted (Art. 18): lift the restriction first."
    return None


def _declared_querysets(path_attr: str, subject_id: Any) -> dict[str, QuerySet[Any]]:
    """Rows of every declared family-owned model that reach the subject by the declared path."""
    from casemgmt.models.base import family_owned_models

    rules = anonymisation()
    querysets = {}
    for model in family_owned_models():
        path = getattr(model, path_attr)
        if path and model._meta.label in rules:
            querysets[model._meta.label] = model._default_manager.filter(Q(**{path: subject_id}))
    return querysets


def plan_family(family: Any) -> ErasurePlan:
    """Everything held on a family and its members."""
    plan = ErasurePlan("family", str(family.pk), str(family.organisation_id))
    plan.refusal = _refusal_for_family(family, timezone.localdate())
    if family.anonymised_at is not None and plan.refusal is None:
        plan.refusal = ("already_anonymised", "This family was already anonymised.")
    plan.querysets = _declared_querysets("FAMILY_PATH", family.pk)
    return plan


def plan_person(person: Any) -> ErasurePlan:
    """What concerns one member: their record, their goals, referrals and consents.

    Household-level records (the family's notes, household contacts, conference minutes) stay
    with the family; they go when the family is erased or its retention period ends. A contact
    that names the person is theirs and goes with them.
    """
    from privacy.models import Restriction

    family = person.family
    plan = ErasurePlan("person", str(person.pk), str(family.organisation_id))
    refusal = _refusal_for_family(family, timezone.localdate())
    if refusal and refusal[0] == "restricted":
        if Restriction.objects.filter(person=person, lifted_at__isnull=True).exists():
            refusal = (
                "restricted",
                "Processing of this person is restricted (Art. 18): lift the restriction first.",
            )
        else:
            refusal = None
    plan.refusal = refusal
    if person.anonymised_at is not None and plan.refusal is None:
        plan.refusal = ("already_anonymised", "This person was already anonymised.")
    plan.querysets = _declared_querysets("PERSON_PATH", person.pk)
    return plan


def _cleared_value(model: type[models.Model], name: str, rule: str) -> Any:
    model_field = model._meta.get_field(name)
    if rule == "mark":
        return ANONYMISED_MARK
    return None if getattr(model_field, "null", False) else ""


def _update_bound(model: type[models.Model], ids: list[Any], changes: dict[str, Any]) -> None:
    """Apply ``changes`` to the rows ``ids``, sealing non-empty encrypted values for each row."""
    from privacy.cipher.fields import EncryptedFieldMixin

    per_row = {
        name: value
        for name, value in changes.items()
        if value not in (None, "") and isinstance(model._meta.get_field(name), EncryptedFieldMixin)
    }
    shared = {name: value for name, value in changes.items() if name not in per_row}
    manager = model._default_manager
    if shared:
        for batch in in_batches(ids):  # one parameter per id: under PostgreSQL's 65,535
            manager.filter(pk__in=batch).update(**shared)
    for pk in ids if per_row else []:
        sealed = {name: model._meta.get_field(name).seal(value, pk=pk) for name, value in per_row.items()}  # type: ignore[union-attr]
        manager.filter(pk=pk).update(**sealed)


@transaction.atomic
def execute(plan: ErasurePlan, *, actor: Any = None, note: str = "erasure") -> dict[str, Any]:
    """Anonymise everything in the plan in one transaction; one audit tombstone per model."""
    if plan.refusal is not None:
        raise ValueError(f"refused plan executed: {plan.refusal[0]}")
    summary = plan.summary()
    rules = anonymisation()
    now = timezone.now()
    for label, queryset in plan.querysets.items():
        model = _model(label)
        ids = list(queryset.values_list("pk", flat=True))
        if not ids:
            continue
        changes = {name: _cleared_value(model, name, rule) for name, rule in rules[label].items()}
        if any(f.name == "anonymised_at" for f in model._meta.concrete_fields):
            changes["anonymised_at"] = now  # Family, Person, Document, Consent: marks it done
        if label == "casemgmt.Document":
            # The files go with their wrapped keys; deleted once the erasure has committed.
            from casemgmt.services.documents import delete_stored_files

            names = [n for n in queryset.values_list("storage_name", flat=True) if n]
            transaction.on_commit(lambda names=names: delete_stored_files(names))  # type: ignore[misc]
        # Queryset updates: encrypted values are sealed per row (ciphertexts are bound to
        # their row), NULLs and empty strings go in one update; auditlog does not see
        # them, so the tombstone below is the record.
        _update_bound(model, ids, changes)
        if label == "casemgmt.Person":
            # Search terms are derived from the names and date of birth: gone with them.
            from casemgmt.models import PersonSearchTerm

            for batch in in_batches(ids):
                PersonSearchTerm.objects.filter(person_id__in=batch).delete()
        from privacy.models import AuditEntry

        log_bulk(
            model=model,
            action=AuditEntry.Action.UPDATE,
            object_ids=ids,
            actor=actor,
            activity="data_subject_rights",
            organisation_id=plan.organisation_id,
            note=f"{note}: anonymised {', '.join(sorted(rules[label]))}",
        )
    return summary
