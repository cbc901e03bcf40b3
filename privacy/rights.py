"""Data subject rights for the DPO: restriction (Art. 18), legal holds, erasure requests (Art. 17)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Role
from casemgmt.services.common import invalid
from privacy import erasure
from privacy.audit import audited_write
from privacy.models import ErasureRequest, Objection, RecipientNotice, Rectification, Restriction
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
    recipient_notices_create(person=person, cause=RecipientNotice.Cause.RESTRICTION, cause_id=restriction.pk)
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
            # Art. 19: who received the data is read before erasure clears the names it keeps
            # (a consent's named office); the notices are written after it, so they survive.
            persons = (
                [subject]
                if subject_type == "person"
                else list(subject.members.filter(anonymised_at__isnull=True))  # erased ones were told
            )
            recipients = {person.pk: _recipients_of(person) for person in persons}
            summary = erasure.execute(plan, actor=acting_user, note=f"erasure request {record.pk}")
            record.outcome = ErasureRequest.Outcome.EXECUTED
            summary["recipients_to_inform"] = sum(
                len(
                    recipient_notices_create(
                        person=person,
                        cause=RecipientNotice.Cause.ERASURE,
                        cause_id=record.pk,
                        recipients=recipients[person.pk],
                    )
                )
                for person in persons
            )
        record.summary = summary
        record.save()
    return record, summary


# --- Art. 16 rectification, Art. 19 notification of recipients, Art. 21 objection


def _recipients_of(person: Any) -> list[tuple[str, str, str]]:
    """(agency code, name, via) of everyone who received the person's data: held conferences
    with an external agency, referrals sent to a provider (Art. 19's list)."""
    from casemgmt.models import ConferenceParticipant, Referral

    found: list[tuple[str, str, str]] = []
    # Conferences about the person: they were on its agenda, or the agenda named nobody
    # (the household). An agency that never received this person's data is not told.
    about_person = Q(conference__agenda_members=person) | Q(conference__agenda_members__isnull=True)
    for p in (
        ConferenceParticipant.objects.filter(
            about_person, conference__family_id=person.family_id, conference__status="held", kind="external"
        )
        .select_related("consent")
        .distinct()
    ):
        name = p.consent.recipient_name if p.consent else ""
        entry = (p.agency or "other", name, RecipientNotice.Via.CASE_CONFERENCE)
        if entry not in found:
            found.append(entry)
    for r in Referral.objects.filter(person=person).exclude(status="draft").select_related("provider"):
        entry = ("course_provider", r.provider.name, RecipientNotice.Via.REFERRAL)
        if entry not in found:
            found.append(entry)
    return found


def recipient_notices_create(
    *, person: Any, cause: str, cause_id: Any, recipients: list[tuple[str, str, str]] | None = None
) -> list[RecipientNotice]:
    """Art. 19: one notice per recipient of the person's data, for the DPO to mark as informed.

    ``recipients`` as read by ``_recipients_of`` before a change that clears them (erasure).
    """
    now = timezone.now()
    return [
        RecipientNotice.objects.create(
            person=person,
            cause=cause,
            cause_id=cause_id,
            recipient_kind=kind,
            recipient_name=name,
            received_via=via,
            created_at=now,
        )
        for kind, name, via in (_recipients_of(person) if recipients is None else recipients)
    ]


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def rectification_record(
    *, person: Any, field: str, value: Any, reason: str, acting_user: Any
) -> Rectification:
    """Correct one field of a person (Art. 16); the previous value is kept encrypted, recipients listed."""
    from casemgmt.services.persons import _derive
    from privacy.cipher.fields import blind_index_fields_for

    policies.require_role_in(acting_user, person.family.organisation, Role.DPO, obj=person)
    if field not in Rectification.Field.values:
        raise invalid("field", "This field cannot be rectified here.", "invalid_choice")
    if not reason.strip():
        raise invalid("reason", "Give the reason for the rectification.", "required")
    previous = getattr(person, field)
    setattr(person, field, value)
    changed = {field} | _derive(person)
    person.full_clean()
    if previous == getattr(person, field):
        raise invalid("value", "This is the value already recorded.", "unchanged")
    person.save(update_fields=[*changed, *blind_index_fields_for(type(person), changed), "updated_at"])
    rectification = Rectification.objects.create(
        person=person,
        field=field,
        previous_value="" if previous is None else str(previous),
        reason=reason.strip(),
        rectified_at=timezone.now(),
        rectified_by=acting_user,
    )
    recipient_notices_create(
        person=person, cause=RecipientNotice.Cause.RECTIFICATION, cause_id=rectification.pk
    )
    return rectification


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def recipient_notice_informed(*, notice: RecipientNotice, acting_user: Any) -> RecipientNotice:
    """Mark that a recipient was told of the rectification, erasure or restriction (Art. 19)."""
    policies.require_role_in(acting_user, notice.person.family.organisation, Role.DPO, obj=notice)
    if notice.informed_at is not None:
        raise Conflict("This recipient was already marked as informed.", code="already_informed")
    notice.informed_at = timezone.now()
    notice.informed_by = acting_user
    notice.save(update_fields=["informed_at", "informed_by"])
    return notice


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def objection_add(*, person: Any, reason: str, acting_user: Any) -> Objection:
    """Record an objection to processing (Art. 21) for the DPO's decision."""
    policies.require_role_in(acting_user, person.family.organisation, Role.DPO, obj=person)
    if not reason.strip():
        raise invalid("reason", "Give the grounds the person states.", "required")
    if Objection.objects.filter(person=person, decision=Objection.Decision.PENDING).exists():
        raise Conflict("An objection of this person is already pending.", code="objection_pending")
    return Objection.objects.create(person=person, reason=reason.strip(), received_at=timezone.now())


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def objection_decide(*, objection: Objection, decision: str, reason: str, acting_user: Any) -> Objection:
    """Decide an objection; upheld restricts the person's processing (no further processing, Art. 21(1))."""
    person = objection.person
    policies.require_role_in(acting_user, person.family.organisation, Role.DPO, obj=objection)
    if objection.decision != Objection.Decision.PENDING:
        raise Conflict("This objection has been decided.", code="already_decided")
    if decision not in (Objection.Decision.UPHELD, Objection.Decision.REJECTED):
        raise invalid("decision", "Decide upheld or rejected.", "invalid_choice")
    if not reason.strip():
        # Art. 21(1): a rejection must show compelling legitimate grounds; an upheld one says why too.
        raise invalid("reason", "Give the reason for the decision.", "required")
    objection.decision = decision
    objection.decision_reason = reason.strip()
    objection.decided_at = timezone.now()
    objection.decided_by = acting_user
    objection.save(update_fields=["decision", "decision_reason", "decided_at", "decided_by"])
    if (
        decision == Objection.Decision.UPHELD
        and not Restriction.objects.filter(person=person, lifted_at__isnull=True).exists()
    ):
        restriction = Restriction.objects.create(
            person=person,
            reason=f"Art. 21: {reason.strip()}",
            restricted_at=timezone.now(),
            restricted_by=acting_user,
        )
        recipient_notices_create(
            person=person, cause=RecipientNotice.Cause.RESTRICTION, cause_id=restriction.pk
        )
    return objection
