"""Observed figures for the record of processing activities: what the system actually did."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from privacy.models import AuditEntry

ACTION_NAMES = {
    AuditEntry.Action.CREATE: "create",
    AuditEntry.Action.UPDATE: "update",
    AuditEntry.Action.DELETE: "delete",
    AuditEntry.Action.ACCESS: "access",
}


def audit_scope(organisation_ids: Any) -> Q:
    """Entries that concern these organisations, or were made by their staff."""
    from casemgmt.models import Membership

    staff = Membership.objects.filter(organisation_id__in=organisation_ids).values("user_id")
    return Q(organisation_id__in=organisation_ids) | Q(actor_id__in=staff)


#: ``object_repr`` of a failed login (``casemgmt.services.accounts.account_event``).
LOGIN_FAILED_REPR = "account event: login_failed"


def unattributed_login_failures() -> Q:
    """Failed logins for a username that names no account: they belong to no organisation.

    Nothing ties such an attempt to a tenant (the login endpoints carry no organisation, and
    the typed name is deliberately not kept: people type passwords into it), so every DPO
    sees them, as time, client address and endpoint only. Without this no DPO would see a
    password-guessing run against invented usernames at all.
    """
    return Q(organisation_id__isnull=True, actor_id__isnull=True, object_pk="", object_repr=LOGIN_FAILED_REPR)


def period_filter(start: datetime.date, end: datetime.date) -> Q:
    return Q(timestamp__date__gte=start, timestamp__date__lte=end)


def operations(entries: QuerySet[AuditEntry]) -> dict[str, dict[str, int]]:
    """Count of audited operations per activity and action, in one aggregate query."""
    result: dict[str, dict[str, int]] = {}
    for row in entries.values("activity", "action").annotate(n=Count("id")).order_by():
        result.setdefault(row["activity"], {})[ACTION_NAMES.get(row["action"], str(row["action"]))] = row["n"]
    return result


def recipients_used(
    organisation_ids: Any, start: datetime.date, end: datetime.date
) -> dict[str, dict[str, int]]:
    """Recipients data was actually shared with: agencies at held conferences, providers referred to."""
    from casemgmt.models import ConferenceParticipant, ReferralTransition

    agencies = (
        ConferenceParticipant.objects.filter(
            kind=ConferenceParticipant.Kind.EXTERNAL,
            conference__status="held",
            conference__held_at__date__gte=start,
            conference__held_at__date__lte=end,
            conference__family__organisation_id__in=organisation_ids,
        )
        .values("agency")
        .annotate(n=Count("id"))
        .order_by()
    )
    referrals_sent = ReferralTransition.objects.filter(
        to_status="sent",
        at__date__gte=start,
        at__date__lte=end,
        referral__family__organisation_id__in=organisation_ids,
    ).count()
    return {
        "case_conferences": {row["agency"]: row["n"] for row in agencies},
        "course_referrals": {"course_provider": referrals_sent} if referrals_sent else {},
    }
