"""Every grant of case access over a period, for the DPO: assignments, deputies, emergency access."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q

from casemgmt.models import AccessGrant, EmergencyAccess

#: Columns of the report, in order (JSON keys and CSV header alike).
COLUMNS = (
    "kind",
    "granted_at",
    "grantee",
    "grantee_username",
    "granted_by",
    "granted_by_username",
    "family",
    "family_reference",
    "principal",
    "principal_username",
    "ends_at",
    "revoked_at",
    "revoked_by",
    "organisation",
)


def _user(user: Any) -> tuple[str | None, str | None]:
    return (str(user.pk), user.username) if user is not None else (None, None)


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def access_grants_list(
    *, organisation_ids: Any, start: datetime.date, end: datetime.date
) -> list[dict[str, Any]]:
    """Grants made in ``start``..``end`` (inclusive days) in these organisations, oldest first.

    Two queries whatever the number of rows: the grant ledger and the emergency openings.
    """
    rows: list[dict[str, Any]] = []
    ledger = (
        AccessGrant.objects.filter(
            organisation_id__in=organisation_ids, granted_at__date__gte=start, granted_at__date__lte=end
        )
        .select_related("grantee", "granted_by", "principal", "revoked_by", "family")
        .order_by("granted_at")
    )
    for grant in ledger:
        grantee, grantee_name = _user(grant.grantee)
        by, by_name = _user(grant.granted_by)
        principal, principal_name = _user(grant.principal)
        revoked_by, _ = _user(grant.revoked_by)
        rows.append(
            {
                "kind": grant.kind,
                "granted_at": _iso(grant.granted_at),
                "grantee": grantee,
                "grantee_username": grantee_name,
                "granted_by": by,
                "granted_by_username": by_name,
                "family": str(grant.family_id) if grant.family_id else None,
                "family_reference": grant.family.reference if grant.family else None,
                "principal": principal,
                "principal_username": principal_name,
                "ends_at": _iso(grant.ends_at),
                "revoked_at": _iso(grant.revoked_at),
                "revoked_by": revoked_by,
                "organisation": str(grant.organisation_id),
            }
        )
    # Break the glass is granted by the user to themselves; it ends when ended or expired.
    emergencies = (
        EmergencyAccess.objects.filter(
            Q(family__organisation_id__in=organisation_ids),
            opened_at__date__gte=start,
            opened_at__date__lte=end,
        )
        .select_related("user", "family")
        .order_by("opened_at")
    )
    for access in emergencies:
        grantee, grantee_name = _user(access.user)
        rows.append(
            {
                "kind": "emergency_access",
                "granted_at": _iso(access.opened_at),
                "grantee": grantee,
                "grantee_username": grantee_name,
                "granted_by": grantee,
                "granted_by_username": grantee_name,
                "family": str(access.family_id),
                "family_reference": access.family.reference,
                "principal": None,
                "principal_username": None,
                "ends_at": _iso(access.ended_at or access.expires_at),
                "revoked_at": _iso(access.ended_at),
                "revoked_by": None,
                "organisation": str(access.family.organisation_id),
            }
        )
    rows.sort(key=lambda row: row["granted_at"] or "")
    return rows
