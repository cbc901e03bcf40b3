"""Data subject rights for the DPO: restriction (Art. 18), legal holds, erasure requests (Art. 17)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Role
from casemgmt.services.common import invalid
from privacy import erasure
from privacy.audit import audited_write
from privacy.models import ErasureRequest, Restriction
from privacy.registry import Activity


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def restriction_add(*, person: Any, reason: str, acting_user: Any) -> Restriction:
    """Restrict processing of a person: case managers no longer read, change or share their data."""
    policies.require_role_in(acting_user, person.family.organisation, Role.DPO, obj=person)
    if (
        Restriction.objects.select_for_update(no_key=True)
        .filter(person=person, lifted_at__isnull=True)
        .exists()
    ):
        raise Conflict("Processing of this person is already restricted.", code="already_restricted")
    if not reason.strip():
        raise invalid("reason", "Give the reason for the restriction (e.g. accuracy contested).", "required")
    restriction = Restriction(
        person=person, reason=reason.strip(), restricted_at=timezone.now(), restricted_by=acting_user
    )
    restriction.full_clean()
    restriction.save()
    return restriction


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def restriction_lift(*, person: Any, acting_user: Any) -> Restriction:
    policies.require_role_in(acting_user, person.family.organisation, Role.DPO, obj=person)
    restriction = (
        Restriction.objects.select_for_update(no_key=True)
        .filter(person=person, lifted_at__isnull=True)
        .first()
    )
    if restriction is None:
        raise Conflict("Processing of this person is not restricted.", code="not_restricted")
    restriction.lifted_at = timezone.now()
    restriction.lifted_by = acting_user
    restriction.save(update_fields=["lifted_at", "lifted_by"])
    return restriction


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def legal_hold_set(*, family: Any, until: datetime.date, reason: str, acting_user: Any) -> Any:
    """Keep a family's data from erasure and retention until ``until`` (court proceedings, appeals)."""
    policies.require_role_in(acting_user, family.organisation, Role.DPO, obj=family)
    if until < timezone.localdate():
        raise invalid("until", "A legal hold must last until today or later.", "past_date")
    if not reason.strip():
        raise invalid("reason", "Give the reason for the legal hold.", "required")
    family.legal_hold_until = until
    family.legal_hold_reason = reason.strip()
    family.save(update_fields=["legal_hold_until", "legal_hold_reason", "updated_at"])
    return family


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def legal_hold_clear(*, family: Any, acting_user: Any) -> Any:
    policies.require_role_in(acting_user, family.organisation, Role.DPO, obj=family)
    if family.legal_hold_until is None:
        raise Conflict("This family has no legal hold.", code="no_legal_hold")
    family.legal_hold_until = None
    family.legal_hold_reason = ""
    family.save(update_fields=["legal_hold_until", "legal_hold_reason", "updated_at"])
    return family


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def erasure_request(
    *, subject: Any, subject_type: str, dry_run: bool, acting_user: Any
) -> tuple[ErasureRequest, dict[str, Any]]:
    """Plan (and unless ``dry_run``, execute) an erasure; the request is recorded either way.

    A refusal is recorded too, outside the transaction that would have erased, so the DPO's
    log of requests is complete.
    """
    policies.require_role_in(
        acting_user,
        subject.family.organisation if subject_type == "person" else subject.organisation,
        Role.DPO,
        obj=subject,
    )
    plan = erasure.plan_person(subject) if subject_type == "person" else erasure.plan_family(subject)
    record = ErasureRequest(
        subject_type=subject_type,
        subject_id=subject.pk,
        organisation_id=plan.organisation_id,
        requested_by=acting_user,
        requested_at=timezone.now(),
    )
    if plan.refusal is not None:
        record.outcome = ErasureRequest.Outcome.REFUSED
        record.refusal_code = plan.refusal[0]
        record.summary = {"reason": plan.refusal[1]}
        record.save()
        return record, record.summary
    with transaction.atomic():
        if dry_run:
            summary = plan.summary()
            record.outcome = ErasureRequest.Outcome.PREVIEWED
        else:
            summary = erasure.execute(plan, actor=acting_user, note=f"erasure request {record.pk}")
            record.outcome = ErasureRequest.Outcome.EXECUTED
        record.summary = summary
        record.save()
    return record, summary
