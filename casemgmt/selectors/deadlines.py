"""Deadlines of case work: what is due or overdue, for a case manager's dashboard and reminders.

Every source is a query over case-work records scoped by the same rule as the lists
(``policies.case_record_access``: the family grant, the caseload, emergency access, and
the Art. 18 restriction), so a deadline never reaches a user who cannot see its family,
and a restricted member's deadlines are hidden like the rest of their data. Items carry
ids, the family's non-identifying reference and dates only: no names, no free text.

The residence permit's expiry is encrypted; it is decrypted for the case manager's own
caseload only (never in SQL, never for supervisors, whose counts therefore leave it out).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, DateField, F, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from casemgmt import policies
from casemgmt.models import (
    CaseConference,
    Consent,
    Contact,
    Family,
    Goal,
    IntegrationPlan,
    Person,
    Referral,
    ReferralTransition,
    SharedCategory,
    User,
)
from casemgmt.selectors.casework import case_records_for
from privacy.cipher.fields import Sealed

OPEN_FAMILY = ~Q(status=Family.Status.CLOSED)
KINDS = (
    "residence_expiry",
    "goal_target",
    "plan_review",
    "conference",
    "consent_expiry",
    "referral_response",
    "dormant_case",
)


def _day_end(day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` (local time): datetimes before it fall on or before ``day``."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def referral_response_days() -> int:
    return int(getattr(settings, "DEADLINE_REFERRAL_RESPONSE_DAYS", 14))


def dormant_after_days() -> int:
    return 7 * int(getattr(settings, "DEADLINE_DORMANT_WEEKS", 6))


@dataclass(frozen=True)
class Source:
    """One kind of deadline: its rows, when a row is due by a given day, and its due date."""

    kind: str
    queryset: Callable[[], QuerySet[Any]]
    #: The condition "due on or before this day".
    due_by: Callable[[datetime.date], Q]
    #: The due date of a fetched row (``values()`` dict).
    due_on: Callable[[dict[str, Any]], datetime.date]
    family_path: str = "family_id"
    reference_path: str = "family__reference"
    person_path: str | None = None
    case_manager_path: str = "family__case_manager_id"


def _sent_at() -> Subquery:
    return Subquery(
        ReferralTransition.objects.filter(referral=OuterRef("pk"), to_status=Referral.Status.SENT)
        .order_by("-at")
        .values("at")[:1]
    )


def _last_contact() -> Subquery:
    return Subquery(
        Contact.objects.filter(family=OuterRef("pk"))
        .order_by()
        .values("family")
        .annotate(last=Max("occurred_on"))
        .values("last")[:1],
        output_field=DateField(),
    )


def _newer_consent() -> Q:
    """A later consent to the same recipient replaces an expiring one only if it covers as much.

    It must cover every member the expiring one covers, and the same kinds of data or all of
    them; otherwise the expiring consent keeps its reminder (a renewal for the mother alone
    does not renew the consent for her children). A later consent that covers a strict but
    incomplete superset of the categories is not treated as a replacement: the rule errs
    towards one reminder too many, never one too few.
    """
    from django.db.models import Exists

    covers = Consent.members.through
    # A member of the expiring consent (two levels out) whom the newer one (one level out
    # from here, two from the innermost query) does not cover.
    uncovered_member = covers.objects.filter(consent_id=OuterRef(OuterRef("pk"))).exclude(
        person_id__in=covers.objects.filter(consent_id=OuterRef(OuterRef("pk"))).values("person_id")
    )
    newer = (
        Consent.objects.filter(
            family=OuterRef("family"),
            recipient=OuterRef("recipient"),
            withdrawn_on__isnull=True,
            given_on__gt=OuterRef("given_on"),
        )
        .filter(
            Q(data_categories=OuterRef("data_categories")) | Q(data_categories=list(SharedCategory.values))
        )
        .exclude(Exists(uncovered_member))
    )
    return Q(Exists(newer))


SOURCES: tuple[Source, ...] = (
    Source(
        kind="goal_target",
        queryset=lambda: Goal.objects.filter(
            status__in=Goal.OPEN_STATUSES,
            target_date__isnull=False,
            family__status__in=("intake", "active", "paused"),
        ),
        due_by=lambda day: Q(target_date__lte=day),
        due_on=lambda row: row["target_date"],
        person_path="person_id",
    ),
    Source(
        kind="plan_review",
        queryset=lambda: IntegrationPlan.objects.filter(
            review_on__isnull=False, family__status__in=("intake", "active", "paused")
        ),
        due_by=lambda day: Q(review_on__lte=day),
        due_on=lambda row: row["review_on"],
    ),
    Source(
        kind="conference",
        queryset=lambda: CaseConference.objects.filter(
            status=CaseConference.Status.PLANNED, family__status__in=("intake", "active", "paused")
        ),
        due_by=lambda day: Q(scheduled_at__lt=_day_end(day)),
        due_on=lambda row: timezone.localtime(row["scheduled_at"]).date(),
    ),
    Source(
        kind="consent_expiry",
        queryset=lambda: Consent.objects.filter(
            valid_until__isnull=False,
            withdrawn_on__isnull=True,
            family__status__in=("intake", "active", "paused"),
        ).exclude(_newer_consent()),
        due_by=lambda day: Q(valid_until__lte=day),
        due_on=lambda row: row["valid_until"],
        person_path="person_id",
    ),
    Source(
        kind="referral_response",
        queryset=lambda: Referral.objects.filter(
            status=Referral.Status.SENT, family__status__in=("intake", "active", "paused")
        ).annotate(sent_at=_sent_at()),
        due_by=lambda day: Q(sent_at__lt=_day_end(day - datetime.timedelta(days=referral_response_days()))),
        due_on=lambda row: (
            timezone.localtime(row["sent_at"]).date() + datetime.timedelta(days=referral_response_days())
        ),
        person_path="person_id",
    ),
    Source(
        kind="dormant_case",
        queryset=lambda: Family.objects.filter(status__in=("intake", "active")).annotate(
            last_activity=Coalesce(_last_contact(), F("opened_on"), output_field=DateField())
        ),
        due_by=lambda day: Q(last_activity__lte=day - datetime.timedelta(days=dormant_after_days())),
        due_on=lambda row: row["last_activity"] + datetime.timedelta(days=dormant_after_days()),
        family_path="id",
        reference_path="reference",
        case_manager_path="case_manager_id",
    ),
)

#: Columns each source's rows need for the due date.
_DUE_COLUMNS = {
    "goal_target": ("target_date",),
    "plan_review": ("review_on",),
    "conference": ("scheduled_at",),
    "consent_expiry": ("valid_until",),
    "referral_response": ("sent_at",),
    "dormant_case": ("last_activity",),
}


def horizon_end(today: datetime.date, within_days: int | None = None) -> datetime.date:
    days = int(getattr(settings, "DEADLINE_HORIZON_DAYS", 14)) if within_days is None else within_days
    return today + datetime.timedelta(days=days)


def _item(
    kind: str, due_on: datetime.date, today: datetime.date, obj: Any, family: Any, reference: str, person: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "due_on": due_on,
        "overdue": due_on < today,
        "object": str(obj),
        "family": str(family),
        "family_reference": reference,
        "person": str(person) if person else None,
    }


def _residence_items(
    user: User, today: datetime.date, until: datetime.date, families: QuerySet[Any]
) -> list[dict[str, Any]]:
    """Residence permits or Duldungen running out: decrypted for this caseload only.

    Rows, not model instances (building thousands of deferred instances cost more than
    decrypting): each ciphertext is still opened with its own row's key (``field.open``).
    """
    field = Person._meta.get_field("residence_valid_until")
    rows = (
        case_records_for(
            user,
            Person.objects.filter(
                residence_valid_until__isnull=False,
                family__status__in=("intake", "active", "paused"),
            ),
            families=families,
        )
        .order_by()
        .values_list("pk", "family_id", "family__reference", "residence_valid_until")
    )
    items = []
    for pk, family_id, reference, sealed in rows:
        valid_until = field.open(sealed.stored, pk=pk) if isinstance(sealed, Sealed) else sealed  # type: ignore[attr-defined]
        if valid_until is not None and valid_until <= until:
            items.append(_item("residence_expiry", valid_until, today, pk, family_id, reference, pk))
    return items


def deadlines_for(
    user: User,
    *,
    today: datetime.date | None = None,
    within_days: int | None = None,
    kinds: Iterable[str] = KINDS,
) -> list[dict[str, Any]]:
    """Everything due by the horizon (and everything overdue) in the families ``user`` may see, sorted."""
    items, _counts = deadline_summary(user, today=today, within_days=within_days, kinds=kinds)
    return items


def deadline_summary(
    user: User,
    *,
    today: datetime.date | None = None,
    within_days: int | None = None,
    kinds: Iterable[str] = KINDS,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The soonest ``limit`` deadlines (all without a limit) and the counts of all of them.

    With a limit, each source fetches only its own soonest ``limit`` rows (ordered and cut in
    SQL) with the counts of all its due rows beside them (window aggregates), in one
    statement: a caseload with thousands of overdue goals costs the same as one with ten.
    """
    today = today or timezone.localdate()
    until = horizon_end(today, within_days)
    yesterday = today - datetime.timedelta(days=1)
    wanted = set(kinds)
    items: list[dict[str, Any]] = []
    per_kind = {kind: {"due": 0, "overdue": 0} for kind in KINDS}
    families = policies.accessible_family_ids(user)
    if "residence_expiry" in wanted:
        residence = _residence_items(user, today, until, families)
        for item in residence:
            per_kind["residence_expiry"]["overdue" if item["overdue"] else "due"] += 1
        residence.sort(key=lambda i: (i["due_on"], i["object"]))
        items.extend(residence[:limit] if limit is not None else residence)
    for source in SOURCES:
        if source.kind not in wanted:
            continue
        (due_column,) = _DUE_COLUMNS[source.kind]
        columns = ["pk", source.family_path, source.reference_path, due_column]
        if source.person_path:
            columns.append(source.person_path)
        due = case_records_for(user, source.queryset(), families=families).filter(source.due_by(until))
        rows: Iterable[dict[str, Any]]
        if limit is not None:
            # The counts ride along as window aggregates over the whole due set (computed
            # before LIMIT): one statement per source instead of a count and a page.
            rows = list(
                due.annotate(
                    _total=Window(Count("pk")),
                    _overdue=Window(Count("pk", filter=source.due_by(yesterday))),
                )
                .order_by(due_column, "pk")
                .values(*columns, "_total", "_overdue")[:limit]
            )
            total, overdue = (rows[0]["_total"], rows[0]["_overdue"]) if rows else (0, 0)
            per_kind[source.kind] = {"due": total - overdue, "overdue": overdue}
        else:
            rows = due.values(*columns)
        for row in rows:
            item = _item(
                source.kind,
                source.due_on(row),
                today,
                row["pk"],
                row[source.family_path],
                row[source.reference_path],
                row.get(source.person_path) if source.person_path else None,
            )
            if limit is None:
                per_kind[source.kind]["overdue" if item["overdue"] else "due"] += 1
            items.append(item)
    items.sort(key=lambda i: (i["due_on"], KINDS.index(i["kind"]), i["object"]))
    if limit is not None:
        items = items[:limit]
    counts = {
        "by_kind": per_kind,
        "due": sum(c["due"] for c in per_kind.values()),
        "overdue": sum(c["overdue"] for c in per_kind.values()),
    }
    return items, counts


def count_items(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts per kind (due within the horizon, overdue) and in total."""
    per_kind = {kind: {"due": 0, "overdue": 0} for kind in KINDS}
    for item in items:
        per_kind[item["kind"]]["overdue" if item["overdue"] else "due"] += 1
    return {
        "by_kind": per_kind,
        "due": sum(c["due"] for c in per_kind.values()),
        "overdue": sum(c["overdue"] for c in per_kind.values()),
    }


def deadline_counts_per_case_manager(
    user: User, *, today: datetime.date | None = None, within_days: int | None = None
) -> list[dict[str, Any]]:
    """For a supervisor: per case manager of their organisations, how many deadlines are due and overdue.

    Counts only, computed in SQL; no family, person or date is returned. Residence expiry
    is left out: it is encrypted and decrypting a whole organisation's permits for a
    count is not worth what it reveals. Restricted members' deadlines are not counted.
    """
    today = today or timezone.localdate()
    until = horizon_end(today, within_days)
    yesterday = today - datetime.timedelta(days=1)
    supervised = Family.objects.filter(policies.supervised_family_filter(user)).values("id")
    counts: dict[Any, dict[str, Any]] = {}
    for source in SOURCES:
        queryset = source.queryset().filter(**{f"{source.family_path}__in": supervised})
        queryset = queryset.filter(policies.not_restricted(queryset.model))
        rows = (
            queryset.filter(source.due_by(until))
            .values(manager=F(source.case_manager_path))
            .annotate(total=Count("pk"), overdue=Count("pk", filter=source.due_by(yesterday)))
            .order_by()
        )
        for row in rows:
            entry = counts.setdefault(
                row["manager"],
                {"by_kind": {k: {"due": 0, "overdue": 0} for k in KINDS if k != "residence_expiry"}},
            )
            entry["by_kind"][source.kind] = {"due": row["total"] - row["overdue"], "overdue": row["overdue"]}
    managers = dict(User.objects.filter(pk__in=[m for m in counts if m]).values_list("pk", "username"))
    out = []
    for manager, entry in counts.items():
        kinds = entry["by_kind"]
        out.append(
            {
                "case_manager": str(manager) if manager else None,
                "username": managers.get(manager),
                "by_kind": kinds,
                "due": sum(c["due"] for c in kinds.values()),
                "overdue": sum(c["overdue"] for c in kinds.values()),
            }
        )
    out.sort(key=lambda e: (-e["overdue"], -e["due"], e["username"] or ""))
    return out
