"""Consents to share (Schweigepflichtentbindung): given, and withdrawn, never deleted."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Consent, Family, Person, User
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
) -> Consent:
    """Record a consent given by a member or by the family's legal representative."""
    policies.require_case_access(acting_user, family)
    require_open_family(family)
    require_member(person, family)
    require_not_restricted(person)
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
        created_by=acting_user,
    )
    consent.full_clean()
    consent.save()
    return consent


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


def consents_covering(family: Family, agency: str, on: datetime.date) -> QuerySet[Consent]:
    """Consents of ``family`` that allow sharing with ``agency`` on ``on`` (a restricted member's do not)."""
    return Consent.objects.filter(
        valid_on(on), policies.not_restricted(Consent), family=family, recipient=agency
    ).order_by("-given_on")
