"""Case conferences: participants only under consent, decisions become goals.

A conference names its agenda: the members whose data it discusses (``agenda_members``) and
the kinds of data (``agenda_categories``); an agenda that names no members stands for the
whole household (its restricted members aside), one that names no categories for every
category. An external agency is invited, and the conference held with it, only while
consents to that agency cover every (member, category) pair of the agenda; otherwise 409
``consent_missing`` names the members not covered, by id. A restricted member (Art. 18) is
never on an agenda.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import (
    CaseConference,
    ConferenceParticipant,
    Consent,
    Family,
    Person,
    SharedCategory,
    User,
)
from casemgmt.models.casework import shared_categories
from casemgmt.services.common import (
    apply_changes,
    invalid,
    require_member,
    require_not_restricted,
    require_open_family,
)
from casemgmt.services.consents import consents_covering, shareable_household, uncovered
from casemgmt.services.goals import goal_create
from privacy.audit import audited_write
from privacy.registry import Activity


def _missing_consent(
    family: Family, agency: str, on: datetime.date, missing: dict[str, list[str]] | None = None
) -> Conflict:
    missing = missing or {}
    members = sorted(missing)
    which = f" for the data of members {', '.join(members)}" if members else ""
    return Conflict(
        f"No valid consent covers sharing with '{agency}' on {on.isoformat()}{which}.",
        code="consent_missing",
        agency=agency,
        date=on.isoformat(),
        members=members,
        uncovered=[{"member": m, "categories": missing[m]} for m in members],
    )


def _agenda(conference: CaseConference) -> tuple[list[Any], list[str]]:
    """Member ids and categories on the agenda; nobody named: the household, none: every category."""
    members = list(conference.agenda_members.values_list("pk", flat=True))
    if not members:
        members = list(shareable_household(conference.family).values_list("pk", flat=True))
    return members, list(conference.agenda_categories or SharedCategory.values)


def _require_agenda_unrestricted(conference: CaseConference) -> None:
    if conference.agenda_members.filter(pk__in=policies.restricted_person_ids()).exists():
        raise Conflict(
            "A member on the agenda is restricted (Art. 18 GDPR): take them off the agenda.",
            code="restricted",
        )


def _covering_consent(conference: CaseConference, agency: str, day: datetime.date) -> Consent:
    """The consent an external agency takes part under; 409 unless consents cover the whole agenda.

    Inviting shares the case now, and the conference shares it on its day: the consents must
    cover both (only the day, for a conference recorded afterwards).
    """
    today = timezone.localdate()
    consents = [
        c
        for c in consents_covering(conference.family, agency, day).prefetch_related("members")
        if day < today or c.covers(today)
    ]
    members, categories = _agenda(conference)
    missing = uncovered(consents, members, categories)
    on_agenda = {(m, c) for m in members for c in categories}
    # The one recorded on the participant: the newest that covers part of the agenda.
    chosen = next((c for c in consents if c.covered_pairs() & on_agenda or not on_agenda), None)
    if missing or chosen is None:
        raise _missing_consent(conference.family, agency, day, missing)
    return chosen


def _set_agenda(
    conference: CaseConference, members: Iterable[Person] | None, categories: Sequence[str] | None
) -> list[str]:
    """Validate and set the agenda; the names of what changed."""
    changed = []
    if categories is not None:
        try:
            conference.agenda_categories = shared_categories(list(categories), allow_empty=True)
        except ValidationError as exc:
            raise ValidationError({"agenda_categories": exc.error_list}) from None
        changed.append("agenda_categories")
    if members is not None:
        chosen = list({m.pk: m for m in members}.values())
        for member in chosen:
            require_member(member, conference.family, "agenda_members")
        for member in chosen:
            require_not_restricted(member)
        conference.agenda_members.set(chosen)
        changed.append("agenda_members")
    return changed


def _require_externals_covered(conference: CaseConference, day: datetime.date) -> None:
    """Every external agency invited must still be covered for the (changed) agenda."""
    _require_agenda_unrestricted(conference)
    agencies = (
        conference.participants.filter(kind=ConferenceParticipant.Kind.EXTERNAL)
        .order_by("agency")
        .values_list("agency", flat=True)
        .distinct()
    )
    for agency in agencies:
        _covering_consent(conference, agency, day)


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
        _require_agenda_unrestricted(conference)
        consent = _covering_consent(conference, agency, timezone.localtime(conference.scheduled_at).date())
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
    agenda_members: Iterable[Person] | None = None,
    agenda_categories: Sequence[str] | None = None,
) -> CaseConference:
    """Plan a conference; external participants are added only under consents covering the agenda."""
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
    if _set_agenda(conference, agenda_members, agenda_categories):
        conference.full_clean(validate_constraints=False)
        conference.save(update_fields=["agenda_categories"])
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
    """Change agenda (text, members, categories), time or format of a planned conference.

    Invited agencies must stay covered: a member or category added to the agenda, or a new
    day, needs their consents too (409 ``consent_missing``, nothing changed).
    """
    policies.require_case_access(acting_user, conference.family, conference)
    conference = (
        CaseConference.objects.select_for_update(no_key=True, of=("self",))
        .select_related("family")
        .get(pk=conference.pk)
    )
    _require_planned(conference)
    agenda_members = changes.pop("agenda_members", None)
    agenda_categories = changes.pop("agenda_categories", None)
    names = apply_changes(conference, changes, frozenset({"agenda", "scheduled_at", "format"}))
    scope = _set_agenda(conference, agenda_members, agenda_categories)
    names += [n for n in scope if n != "agenda_members"]
    if (
        "scheduled_at" in changes
        and CaseConference.objects.filter(family=conference.family, scheduled_at=conference.scheduled_at)
        .exclude(status="cancelled")
        .exclude(pk=conference.pk)
        .exists()
    ):
        raise Conflict("This family already has a conference at that time.", code="conference_clash")
    if scope or "scheduled_at" in changes:
        _require_externals_covered(conference, timezone.localtime(conference.scheduled_at).date())
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

    Consents to every external agency must still cover the agenda on the day: a withdrawn
    consent (of any member on the agenda) stops the sharing, and the conference cannot be
    recorded as held with that agency.
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
    # Only the day counts here (held_at is at most now): the consents must cover the agenda then.
    _require_externals_covered(conference, day)
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
