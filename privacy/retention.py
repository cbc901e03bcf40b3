"""Retention (Art. 5(1)(e)): closed cases are anonymised when their period has passed.

Safe to run daily from cron: a case is selected only while it is closed, past its period,
not under a legal hold and not yet anonymised, so a second run finds nothing to do.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from privacy import erasure
from privacy.registry import activities_by_code


@dataclass(frozen=True)
class RetentionResult:
    reference: str
    closed_on: datetime.date
    summary: dict[str, Any]


def case_retention_days() -> int:
    days = activities_by_code()["case_management"].retention_days
    if days is None:
        raise RuntimeError("The case_management activity must declare a retention period.")
    return days


def due_families(today: datetime.date | None = None) -> QuerySet[Any]:
    """Closed, un-anonymised families whose retention period has ended and that no hold keeps."""
    from casemgmt.models import Family

    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=case_retention_days())
    return (
        Family.objects.filter(status="closed", closed_on__lt=cutoff, anonymised_at__isnull=True)
        .filter(Q(legal_hold_until__isnull=True) | Q(legal_hold_until__lt=today))
        .order_by("closed_on", "reference")
    )


def apply_retention(*, dry_run: bool, today: datetime.date | None = None) -> list[RetentionResult]:
    """Anonymise (or, with ``dry_run``, list) every family past its retention period."""
    results = []
    for family in due_families(today):
        plan = erasure.plan_family(family)
        if plan.refusal is not None:
            continue  # e.g. a member under restriction: it stays until that is resolved
        summary = plan.summary() if dry_run else erasure.execute(plan, note="retention period ended")
        results.append(RetentionResult(family.reference, family.closed_on, summary))
    return results


def apply_audit_retention(*, dry_run: bool, today: datetime.date | None = None) -> int:
    """Prune whole sealed ranges of the audit log older than the audit-logging retention period.

    Only entries up to a signed checkpoint go, and only with a signed pruning statement
    (privacy/transparency.py), so the verifier can tell retention from tampering.
    """
    from privacy.audit import log_bulk
    from privacy.models import AuditEntry
    from privacy.transparency import prune_sealed

    days = activities_by_code()["audit_logging"].retention_days
    if days is None:
        return 0
    today = today or timezone.localdate()
    cutoff = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time())
    )
    pruned = prune_sealed(
        before=cutoff, retention_days=days, reason=f"audit retention: older than {days} days", dry_run=dry_run
    )
    if pruned and not dry_run:
        log_bulk(
            model=AuditEntry,
            action=AuditEntry.Action.DELETE,
            object_ids=[],
            activity="audit_logging",
            note=f"audit retention: {pruned} sealed entries older than {days} days pruned",
        )
    return pruned
