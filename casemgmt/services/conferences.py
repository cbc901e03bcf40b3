"""Case conferences: participants only under consent, decisions become goals."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import CaseConference, ConferenceParticipant, Family, User
from casemgmt.services.common import (
    apply_changes,
    invalid,
    require_member,
    require_not_restricted,
    require_open_family,
)
from casemgmt.services.consents import consents_covering
from casemgmt.services.goals import goal_create
from privacy.audit import audited_write
from privacy.registry import Activity


def _missing_consent(family: Family, agency: str, on: datetime.date) -> Conflict:
    return Conflict(
        f"No valid consent of the family covers sharing with '{agency}' on {on.isoformat()}.",
        code="consent_missing",
        agency=agency,
        date=on.isoformat(),
    )


def _add_participant(conference: CaseConference, spec: dict[str, Any]) -> ConferenceParticipant:
    family = conference.family
    kind = spec.get("kind")
    participant = ConferenceParticipant(
        conference=conference,
        kind=str(kind or ""),
        role=spec.get("role", ""),
        reason=spec.get("reason", ""),
        legal_basis=spec.get("legal_basis", ""),
    )
    if kind == ConferenceParticipant.Kind.INTERNAL:
        user = spec.get("user")
        if user is None:
            raise invalid("participants", "An internal participant needs a user.", "required")
        if not user.is_active or not policies.has_role_in(user, family.organisation, *policies.ALL_ROLES):
            raise invalid(
                "participants",
                "Internal participants must be active staff of the family's organisation.",
                "not_staff",
            )
        participant.user = user
    elif kind == ConferenceParticipant.Kind.EXTERNAL:
        agency = spec.get("agency") or ""
        if not agency or not spec.get("reason") or not spec.get("legal_basis"):
            raise invalid(
                "participants",
                "An external participant needs the agency, why they are invited "
                "and the legal basis for sharing.",
                "required",
            )
        # Inviting shares the case now, and the conference shares it on its day: the consent
        # must cover both (only the day, for a conference recorded afterwards).
        day = timezone.localtime(conference.scheduled_at).date()
        today = timezone.localdate()
        consent = next(
            (c for c in consents_covering(family, agency, day) if day < today or c.covers(today)), None
        )
        if consent is None:
            raise _missing_consent(family, agency, day)
        participant.agency = agency
        participant.name = spec.get("name", "")
        participant.consent = consent
    elif kind == ConferenceParticipant.Kind.FAMILY:
        person = spec.get("person")
        require_member(person, family, "participants")
        require_not_restricted(person)
        if person is None:
            raise invalid("participants", "A family participant needs the person.", "required")
        participant.person = person
    else:
        raise invalid("participants", "Unknown participant kind.", "invalid_choice")
    participant.full_clean()
    participant.save()
    return participant


@audited_write(Activity.CASE_CONFERENCES)
def conference_create(
    *,
    family: Family,
    scheduled_at: datetime.datetime,
    acting_user: User,
    format: str = CaseConference.Format.IN_PERSON,
    agenda: str = "",
    participants: list[dict[str, Any]] | None = None,
) -> CaseConference:
    """Plan a conference; external participants are added only under a valid consent."""
    policies.require_case_access(acting_user, family)
    require_open_family(family)
    if (
        CaseConference.objects.filter(family=family, scheduled_at=scheduled_at)
        .exclude(status="cancelled")
        .exists()
    ):
        raise Conflict(
            "This family already has a conference at that time.",
            code="conference_clash",
            scheduled_at=scheduled_at.isoformat(),
        )
    conference = CaseConference(
        family=family, scheduled_at=scheduled_at, format=format, agenda=agenda, created_by=acting_user
    )
    conference.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            conference.save()
    except IntegrityError:
        raise Conflict(
            "This family already has a conference at that time.",
            code="conference_clash",
            scheduled_at=scheduled_at.isoformat(),
        ) from None
    for spec in participants or []:
        _add_participant(conference, spec)
    return conference


def _require_planned(conference: CaseConference) -> None:
    if conference.status != CaseConference.Status.PLANNED:
        raise Conflict(
            f"The conference is {conference.status}.", code="conference_not_planned", status=conference.status
        )


@audited_write(Activity.CASE_CONFERENCES)
def conference_update(*, conference: CaseConference, acting_user: User, **changes: Any) -> CaseConference:
    """Change agenda, time or format of a planned conference."""
    policies.require_case_access(acting_user, conference.family, conference)
    conference = (
        CaseConference.objects.select_for_update(no_key=True, of=("self",))
        .select_related("family")
        .get(pk=conference.pk)
    )
    _require_planned(conference)
    names = apply_changes(conference, changes, frozenset({"agenda", "scheduled_at", "format"}))
    if (
        "scheduled_at" in changes
        and CaseConference.objects.filter(family=conference.family, scheduled_at=conference.scheduled_at)
        .exclude(status="cancelled")
        .exclude(pk=conference.pk)
        .exists()
    ):
        raise Conflict("This family already has a conference at that time.", code="conference_clash")
    conference.full_clean(validate_constraints=False)
    conference.save(update_fields=[*names, "updated_at"])
    return conference


@audited_write(Activity.CASE_CONFERENCES)
def conference_participant_add(
    *, conference: CaseConference, acting_user: User, participant: dict[str, Any]
) -> ConferenceParticipant:
    """Invite one more participant to a planned conference."""
    policies.require_case_access(acting_user, conference.family, conference)
    conference = (
        CaseConference.objects.select_for_update(no_key=True, of=("self",))
        .select_related("family")
        .get(pk=conference.pk)
    )
    _require_planned(conference)
    return _add_participant(conference, participant)


@audited_write(Activity.CASE_CONFERENCES)
def conference_hold(
    *,
    conference: CaseConference,
    acting_user: User,
    minutes: str = "",
    held_at: datetime.datetime | None = None,
    decisions: list[dict[str, Any]] | None = None,
) -> CaseConference:
    """Record that the conference took place, with minutes; decisions become goals atomically.

    Every external participant's consent must still cover the day: a withdrawn consent
    stops the sharing, and the conference cannot be recorded as held with that agency.
    """
    policies.require_case_access(acting_user, conference.family, conference)
    conference = (
        CaseConference.objects.select_for_update(no_key=True, of=("self",))
        .select_related("family")
        .get(pk=conference.pk)
    )
    _require_planned(conference)
    require_open_family(conference.family)
    held_at = held_at or timezone.now()
    if held_at > timezone.now() + datetime.timedelta(minutes=5):
        raise invalid("held_at", "A conference cannot be held in the future.", "future_date")
    day = timezone.localtime(held_at).date()
    for participant in conference.participants.filter(kind=ConferenceParticipant.Kind.EXTERNAL):
        if not consents_covering(conference.family, participant.agency, day).exists():
            raise _missing_consent(conference.family, participant.agency, day)
    conference.status = CaseConference.Status.HELD
    conference.held_at = held_at
    conference.minutes = minutes
    conference.full_clean(validate_constraints=False)
    conference.save(update_fields=["status", "held_at", "minutes", "updated_at"])
    for index, decision in enumerate(decisions or []):
        try:
            goal_create(
                family=conference.family,
                field_of_action=decision["field_of_action"],
                description=decision["description"],
                person=decision.get("person"),
                target_date=decision.get("target_date"),
                agreed_on=day,
                conference=conference,
                acting_user=acting_user,
            )
        except ValidationError as exc:
            raise ValidationError({f"decisions[{index}]": exc.messages}) from exc
    return conference


@audited_write(Activity.CASE_CONFERENCES)
def conference_cancel(*, conference: CaseConference, acting_user: User) -> CaseConference:
    """Cancel a planned conference."""
    policies.require_case_access(acting_user, conference.family, conference)
    conference = CaseConference.objects.select_for_update(no_key=True).get(pk=conference.pk)
    _require_planned(conference)
    conference.status = CaseConference.Status.CANCELLED
    conference.save(update_fields=["status", "updated_at"])
    return conference
