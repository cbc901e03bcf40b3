"""Consents to share (Schweigepflichtentbindung): given, and withdrawn, never deleted.

A consent is scoped: it names the members whose data it covers and the kinds of data
(``SharedCategory``), for one recipient agency. Sharing a member's data of one kind with an
agency on a day needs a consent that is valid that day and covers that member, that kind and
that agency (``uncovered``); with ``CONSENT_REQUIRE_SIGNED_FORM`` on, only consents whose
signed form is attached count.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Consent, Document, Family, Person, SharedCategory, User
from casemgmt.models.casework import shared_categories
from casemgmt.services.common import (
    invalid,
    require_member,
    require_not_future,
    require_not_restricted,
    require_open_family,
)
from privacy.audit import audited_write
from privacy.registry import Activity


@audited_write(Activity.CASE_CONFERENCES)
def consent_create(
    *,
    family: Family,
    recipient: str,
    purpose: str,
    given_on: datetime.date,
    acting_user: User,
    person: Person | None = None,
    given_by_representative: str = "",
    recipient_name: str = "",
    valid_until: datetime.date | None = None,
    members: Iterable[Person] | None = None,
    data_categories: Sequence[str] | None = None,
) -> Consent:
    """Record a consent given by a member or by the family's legal representative.

    ``members``: whose data it covers; by default the member who gave it, or, given by the
    legal representative, every member of the household (a restricted member aside).
    ``data_categories``: which kinds of data (``SharedCategory``); by default all of them.
    """
    policies.require_case_access(acting_user, family)
    require_open_family(family)
    require_member(person, family)
    require_not_restricted(person)
    covered = _covered_members(family, person, members)
    categories = _categories(data_categories)
    if person is None and not given_by_representative.strip():
        raise invalid(
            "person",
            "Name the member who consents, or the legal representative (given_by_representative).",
            "required",
        )
    require_not_future(given_on, "given_on")
    if valid_until is not None and valid_until < given_on:
        raise invalid("valid_until", "A consent cannot expire before it was given.", "dates_order")
    consent = Consent(
        family=family,
        person=person,
        given_by_representative=given_by_representative.strip(),
        recipient=recipient,
        recipient_name=recipient_name,
        purpose=purpose,
        given_on=given_on,
        valid_until=valid_until,
        data_categories=categories,
        created_by=acting_user,
    )
    consent.full_clean()
    consent.save()
    consent.members.set(covered)
    return consent


def shareable_household(family: Family) -> QuerySet[Person]:
    """The members whose data sharing with the household concerns: not erased, not restricted.

    What a representative's consent covers by default, what a conference without a named
    agenda discusses and what a handover passes on.
    """
    return family.members.filter(anonymised_at__isnull=True).exclude(pk__in=policies.restricted_person_ids())


def _covered_members(family: Family, person: Person | None, members: Iterable[Person] | None) -> list[Person]:
    if members is None:
        return [person] if person is not None else list(shareable_household(family))
    chosen = list({m.pk: m for m in members}.values())
    if not chosen:
        raise invalid("members", "Name at least one member whose data the consent covers.", "required")
    for member in chosen:
        require_member(member, family, "members")
    for member in chosen:
        require_not_restricted(member)
    return chosen


def _categories(values: Sequence[str] | None) -> list[str]:
    if values is None:
        return list(SharedCategory.values)
    try:
        return shared_categories(list(values), allow_empty=False)
    except ValidationError as exc:
        raise ValidationError({"data_categories": exc.error_list}) from None


@audited_write(Activity.CASE_CONFERENCES)
def consent_withdraw(
    *, consent: Consent, acting_user: User, withdrawn_on: datetime.date | None = None
) -> Consent:
    """Withdraw a consent: sharing stops from that day; the record stays for accountability."""
    policies.require_case_access(acting_user, consent.family, consent)
    consent = Consent.objects.select_for_update(no_key=True).get(pk=consent.pk)
    policies.require_unrestricted_record(consent)
    if consent.withdrawn_on is not None:
        raise Conflict(
            "This consent was already withdrawn.",
            code="already_withdrawn",
            withdrawn_on=consent.withdrawn_on.isoformat(),
        )
    withdrawn_on = withdrawn_on or timezone.localdate()
    require_not_future(withdrawn_on, "withdrawn_on")
    if withdrawn_on < consent.given_on:
        raise invalid("withdrawn_on", "A consent cannot be withdrawn before it was given.", "dates_order")
    consent.withdrawn_on = withdrawn_on
    consent.save(update_fields=["withdrawn_on", "updated_at"])
    return consent


def valid_on(on: datetime.date) -> Q:
    """Consents that allow sharing on ``on``: given, not expired, not withdrawn (as ``Consent.covers``)."""
    return (
        Q(given_on__lte=on)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        & (Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
    )


def signed_form_attached() -> Exists:
    """Consents whose signed form is attached (a document on the consent, not erased)."""
    return Exists(
        Document.objects.filter(target_kind="consent", target_id=OuterRef("pk"), anonymised_at__isnull=True)
    )


def usable() -> Q:
    """Consents case work may rely on: not of a restricted member, and signed if the setting asks."""
    condition = policies.not_restricted(Consent)
    if getattr(settings, "CONSENT_REQUIRE_SIGNED_FORM", False):
        condition &= Q(signed_form_attached())
    return condition


def consents_covering(family: Family, agency: str, on: datetime.date) -> QuerySet[Consent]:
    """Consents of ``family`` that allow sharing with ``agency`` on ``on`` (a restricted member's do not)."""
    return Consent.objects.filter(valid_on(on), usable(), family=family, recipient=agency).order_by(
        "-given_on"
    )


def uncovered(
    consents: Iterable[Consent], members: Iterable[Any], categories: Iterable[str]
) -> dict[str, list[str]]:
    """Per member id (as text), the categories of ``categories`` no consent of ``consents`` covers.

    Each (member, category) pair needs one consent covering both; several consents may
    together cover the agenda. Empty when everything is covered.
    """
    covered: set[tuple[Any, str]] = set()
    for consent in consents:
        covered |= consent.covered_pairs()
    wanted = list(categories)
    missing: dict[str, list[str]] = {}
    for member in members:
        gaps = [c for c in wanted if (member, c) not in covered]
        if gaps:
            missing[str(member)] = gaps
    return missing
