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
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    BinaryField,
    Count,
    DateField,
    DateTimeField,
    F,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    UUIDField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql.datastructures import BaseTable
from django.utils import timezone

from casemgmt import policies
from casemgmt.db.compiled import inline_constants
from casemgmt.models import (
    CaseConference,
    Consent,
    Family,
    Goal,
    IntegrationPlan,
    Person,
    Referral,
    SharedCategory,
    User,
)

#: The families whose deadlines count (closed and archived cases have none).
OPEN_FAMILY_STATUSES = ("intake", "active", "paused")
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
    person_path: str | None = None
    case_manager_path: str = "family__case_manager_id"
    #: Deadlines count in open families only (``OPEN_FAMILY_STATUSES``); the dashboard
    #: applies it once for all kinds, in its family set, not as a join per kind.
    family_status_path: str = "family__status"

    def open_rows(self) -> QuerySet[Any]:
        """The source's rows in open families."""
        return self.queryset().filter(**{f"{self.family_status_path}__in": OPEN_FAMILY_STATUSES})


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
        queryset=lambda: Goal.objects.filter(status__in=Goal.OPEN_STATUSES, target_date__isnull=False),
        due_by=lambda day: Q(target_date__lte=day),
        due_on=lambda row: row["target_date"],
        person_path="person_id",
    ),
    Source(
        kind="plan_review",
        queryset=lambda: IntegrationPlan.objects.filter(review_on__isnull=False),
        due_by=lambda day: Q(review_on__lte=day),
        due_on=lambda row: row["review_on"],
    ),
    Source(
        kind="conference",
        queryset=lambda: CaseConference.objects.filter(status=CaseConference.Status.PLANNED),
        due_by=lambda day: Q(scheduled_at__lt=_day_end(day)),
        due_on=lambda row: timezone.localtime(row["scheduled_at"]).date(),
    ),
    Source(
        kind="consent_expiry",
        queryset=lambda: Consent.objects.filter(valid_until__isnull=False, withdrawn_on__isnull=True).exclude(
            _newer_consent()
        ),
        due_by=lambda day: Q(valid_until__lte=day),
        due_on=lambda row: row["valid_until"],
        person_path="person_id",
    ),
    Source(
        kind="referral_response",
        # ``sent_at`` is kept by ``referral_transition``: as a subquery on the transitions it
        # was probed for every sent referral of the caseload (1.5 ms at 100,000 families).
        queryset=lambda: Referral.objects.filter(status=Referral.Status.SENT),
        due_by=lambda day: Q(sent_at__lt=_day_end(day - datetime.timedelta(days=referral_response_days()))),
        due_on=lambda row: (
            timezone.localtime(row["sent_at"]).date() + datetime.timedelta(days=referral_response_days())
        ),
        person_path="person_id",
    ),
    Source(
        kind="dormant_case",
        queryset=lambda: Family.objects.filter(status__in=("intake", "active")).annotate(
            # The newest contact's date is kept on the family (``casemgmt.signals``): read
            # in the filter, the order and the count, a subquery ran three times per family.
            last_activity=Coalesce(F("last_contact_on"), F("opened_on"), output_field=DateField())
        ),
        due_by=lambda day: Q(last_activity__lte=day - datetime.timedelta(days=dormant_after_days())),
        due_on=lambda row: row["last_activity"] + datetime.timedelta(days=dormant_after_days()),
        family_path="id",
        case_manager_path="case_manager_id",
        family_status_path="status",
    ),
)
_SOURCE_BY_KIND = {source.kind: source for source in SOURCES}

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


#: The name the dashboard's statement gives its family set: the ids of the open families the
#: user may see (a common table expression, evaluated once for all kinds).
_FAMILY_SET = "deadline_family"


@dataclass(frozen=True)
class _Column:
    alias: str
    field: Field[Any, Any]


#: The columns every kind's part of the statement yields, in order (a UNION ALL needs one
#: shape): kind, row, family, person, due date or time, the residence ciphertext, the family's
#: reference (reference rows only), counts.
_COLUMNS = (
    _Column("_pk", UUIDField()),
    _Column("_family", UUIDField()),
    _Column("_person", UUIDField()),
    _Column("_due_date", DateField()),
    _Column("_due_at", DateTimeField()),
    _Column("_sealed", BinaryField()),
    _Column("_reference", TextField()),
    _Column("_total", IntegerField()),
    _Column("_overdue", IntegerField()),
)
_DATETIME_DUE = frozenset({"scheduled_at", "sent_at"})


def _null(field: Field[Any, Any]) -> Cast:
    # Typed, so that PostgreSQL can match the NULLs of one kind with the values of another.
    return Cast(Value(None), output_field=field)


def _part(kind: str, until: datetime.date, yesterday: datetime.date, limit: int | None) -> QuerySet[Any]:
    """One kind's rows in the family set, due by ``until``: the soonest ``limit`` with the counts."""
    families = RawSQL(f"SELECT id FROM {_FAMILY_SET}", ())  # noqa: S608,S611 - a constant name
    # No user: with ``families`` given, the condition is the restriction rule and the family
    # set, the same for everyone (an anonymous user would be refused, should that change).
    anyone = AnonymousUser()
    if kind == "residence_expiry":
        model = Person
        rows = Person.objects.filter(residence_valid_until__isnull=False)
        columns = {
            "_pk": F("pk"),
            "_family": F("family_id"),
            "_person": _null(UUIDField()),  # the row's own key: one UUID fewer to load per permit
            "_due_date": _null(DateField()),
            "_due_at": _null(DateTimeField()),
            "_sealed": F("residence_valid_until"),
            "_reference": _null(TextField()),
        }
        due = rows.filter(policies.case_record_access(anyone, model, families=families))  # type: ignore[arg-type]
        # Encrypted: every permit of the set is read, and decrypted and cut in Python.
        return due.order_by().values(**columns, _total=Value(0), _overdue=Value(0))
    source = _SOURCE_BY_KIND[kind]
    (due_column,) = _DUE_COLUMNS[kind]
    records = source.queryset()
    over_families = records.model is Family
    if over_families:
        # Read from the family set itself (``_read_from_family_set``): the set is the access
        # rule, and an ``id IN`` the set again was planned as a loop over the set per row.
        scoped = records.filter(policies.not_restricted(Family))
    else:
        scoped = records.filter(policies.case_record_access(anyone, records.model, families=families))  # type: ignore[arg-type]
    due = scoped.filter(source.due_by(until))
    columns = {
        "_pk": F("pk"),
        "_family": F(source.family_path),
        "_person": F(source.person_path) if source.person_path else _null(UUIDField()),
        "_due_date": _null(DateField()) if due_column in _DATETIME_DUE else F(due_column),
        "_due_at": F(due_column) if due_column in _DATETIME_DUE else _null(DateTimeField()),
        "_sealed": _null(BinaryField()),
        "_reference": _null(TextField()),
    }
    if limit is None:
        part = due.order_by().values(**columns, _total=Value(0), _overdue=Value(0))
    else:
        # The counts ride along as window aggregates over the whole due set (computed before
        # LIMIT): a caseload with thousands of overdue goals costs the same as one with ten.
        part = due.order_by(due_column, "pk").values(
            **columns,
            _total=Window(Count("pk")),
            _overdue=Window(Count("pk", filter=source.due_by(yesterday))),
        )[:limit]
    if over_families:
        _read_from_family_set(part)
    return part


#: The family columns the family set carries beside ``id`` and ``reference``: those a kind over
#: the families themselves (the dormant case) reads.
_FAMILY_SET_COLUMNS = ("status", "last_contact_on", "opened_on")


def _read_from_family_set(part: QuerySet[Any]) -> None:
    """Let a kind over the families read the family set's rows instead of the family table.

    Its table under the same alias: the kind's filter and columns name the alias's columns,
    which the family set carries (``_FAMILY_SET_COLUMNS``). Read from the table, the part
    fetched every family of the set again by key (409 probes, 2.9 ms at 100,000 families);
    the family set has them at hand (from the covering index ``family_org_listed``).
    """
    query = part.query
    alias = query.get_initial_alias()
    query.alias_map[alias] = BaseTable(_FAMILY_SET, alias)


@lru_cache(maxsize=64)
def _kinds_statement(
    kinds: tuple[str, ...],
    until: datetime.date,
    yesterday: datetime.date,
    limit: int | None,
    using: str,
    **_key: Any,
) -> tuple[str, tuple[Any, ...]]:
    """The UNION ALL of the kinds' parts over the family set, compiled once per day and shape.

    Only the family set depends on the user; these parts depend on the day, the horizon and
    the settings in ``_key``, so building and compiling seven querysets (about 9 ms of Python
    at 100,000 families) happens once a day per process instead of on every request.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    selects: list[str] = []
    params: list[Any] = []
    for kind in kinds:
        sql, part_params = _part(kind, until, yesterday, limit).query.sql_with_params()
        columns = ", ".join(f"t.{quote(c.alias)}" for c in _COLUMNS)
        # Compiled querysets, constant aliases and the kind's index: no value is spliced in.
        selects.append(f"SELECT {KINDS.index(kind)} AS kind_no, {columns} FROM ({sql}) t")  # noqa: S608
        params.extend(part_params)
    statement = " UNION ALL ".join(selects)
    if _prepared(connection):
        # The day's constants as literals (quoted by psycopg, as for EXPLAIN), so that the
        # generic plan knows the dates it cuts by; ``%`` doubled for the execute that follows.
        composed: str = connection.ops.compose_sql(statement, params)  # type: ignore[attr-defined]
        return composed.replace("%", "%%"), ()
    return statement, tuple(params)


@lru_cache(maxsize=8)
def _converters(using: str) -> list[tuple[int, list[Callable[..., Any]]]]:
    """Per column (by its position in a row), what Django's compiler would apply to its value:
    the backend's converters (SQLite's text dates and UUIDs) and the field's own. PostgreSQL
    needs none, and the rows then pass as fetched. Fixed per database alias: built once."""
    connection = connections[using]
    out = []
    for position, column in enumerate(_COLUMNS, start=1):
        expression = Value(None, output_field=column.field)
        converters = [
            *connection.ops.get_db_converters(expression),
            *column.field.get_db_converters(connection),  # type: ignore[attr-defined]
        ]
        if converters:
            out.append((position, converters))
    return out


#: ``kind_no`` of the rows that carry a family's reference.
_REFERENCE_ROW = -1


def _rows(
    user: User, kinds: tuple[str, ...], until: datetime.date, yesterday: datetime.date, limit: int | None
) -> tuple[list[tuple[Any, ...]], dict[Any, str]]:
    """All kinds' rows in one statement, and the references of the families in the set.

    The family set (the access rule and the open status) is evaluated once, not once per kind
    with a join to families in each. It reads each family's reference on the way (the family
    rows are read anyway), and the statement returns it once per family: joined to every
    deadline row instead, it cost one index probe per row (736 rows, 1.3 ms, at 100,000
    families), and most of those rows (all the encrypted permits) are cut in Python.
    """
    if not kinds:  # no part: an empty UNION ALL is no statement at all
        return [], {}
    using = router.db_for_read(Family)
    family_set = (
        Family.objects.filter(
            policies.family_access(user, policies.VIEW_FAMILY), status__in=OPEN_FAMILY_STATUSES
        )
        .order_by()
        .values("id", "reference", *_FAMILY_SET_COLUMNS)
    )
    try:
        family_sql, compiled_params = family_set.query.sql_with_params()
    except EmptyResultSet:
        return [], {}
    # The family set's constants (the open statuses; the access rule writes in its own) as
    # literals: its only UUIDs and times are the caller and the current time, which stay
    # parameters (see ``_prepared``).
    family_sql, family_params = inline_constants(
        family_sql, compiled_params, lambda _i, param: isinstance(param, uuid.UUID | datetime.datetime), using
    )
    kinds_sql, kinds_params = _kinds_statement(
        kinds,
        until,
        yesterday,
        limit,
        using,
        response_days=referral_response_days(),
        dormant_days=dormant_after_days(),
        tz=timezone.get_current_timezone_name(),
    )
    statement = (  # compiled querysets and constants; the caller's values travel as parameters
        f"WITH {_FAMILY_SET} AS ({family_sql}) "  # noqa: S608
        f"{kinds_sql} UNION ALL "
        # kind_no, _pk, _family, _person, _due_date, _due_at, _sealed, _reference, the counts
        f"SELECT {_REFERENCE_ROW}, NULL, id, NULL, NULL, NULL, NULL, reference, 0, 0 FROM {_FAMILY_SET}"
    )
    connection = connections[using]
    converters = _converters(using)
    with connection.cursor() as cursor:
        cursor.execute(statement, (*family_params, *kinds_params))
        fetched: list[tuple[Any, ...]] = cursor.fetchall()
    if converters:
        fetched = [_converted(row, converters, connection) for row in fetched]
    references = {row[2]: row[7] for row in fetched if row[0] == _REFERENCE_ROW}
    return [row for row in fetched if row[0] != _REFERENCE_ROW], references


def _prepared(connection: Any) -> bool:
    """Whether the statement runs as a prepared statement, on PostgreSQL's generic plan.

    Prepared (``DB_PREPARED_STATEMENTS``), PostgreSQL plans a statement's first five runs for
    their values and then keeps its generic plan if that looks no dearer. A generic plan knows
    no parameter's value: with the statement's constants sent as parameters (the kinds' dates,
    the permission ids, the statuses) it looked dearer, so every run was planned afresh (1.7
    ms), and a generic plan forced with ``SET LOCAL plan_cache_mode`` (in a transaction of its
    own: two more round trips) ran on guesses. With the constants as literals and only the
    caller and the time as parameters, PostgreSQL keeps the generic plan by itself, and it is
    the custom plan's equal: 5.3 against 6.2 ms a statement at 100,000 families, side by side
    with the forced plan (bench/RESULTS.md).
    """
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and options.get("prepare_threshold") is not None


def _converted(
    row: tuple[Any, ...], converters: list[tuple[int, list[Callable[..., Any]]]], connection: Any
) -> tuple[Any, ...]:
    values = list(row)
    for position, column_converters in converters:
        for convert in column_converters:
            values[position] = convert(values[position], None, connection)
    return tuple(values)


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

    One statement for every kind (``_rows``). With a limit, each kind fetches only its own
    soonest ``limit`` rows with the counts of all its due rows beside them; the residence
    permits, encrypted, are all fetched and cut after decryption, for this caseload only.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    today = today or timezone.localdate()
    until = horizon_end(today, within_days)
    yesterday = today - datetime.timedelta(days=1)
    wanted = tuple(kind for kind in KINDS if kind in set(kinds))
    per_kind = {kind: {"due": 0, "overdue": 0} for kind in KINDS}
    # Per kind, the rows as sort keys: (due date, kind, instant, id, family, person). The
    # instant is a conference's or referral's exact time, to order one day's items as the
    # limited statement cuts them (by time, then id): otherwise ``limit=1`` could show the
    # day's second conference where the full list shows the first. Ids order as their text
    # does (lower-case hex), so no row is turned into an item before it makes the cut.
    by_kind: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in wanted}
    residence = Person._meta.get_field("residence_valid_until")
    # ``limit=0``: no items, but the counts, which ride along with at least one row (a
    # slice ``[:0]`` compiles to no statement at all).
    fetch = None if limit is None else max(limit, 1)
    rows, references = _rows(user, wanted, until, yesterday, fetch)
    for kind_no, pk, family, person, due_date, due_at, sealed, _reference, total, overdue in rows:
        kind = KINDS[kind_no]
        if kind == "residence_expiry":
            due_on = residence.open(sealed, pk=pk)  # type: ignore[attr-defined]
            if due_on > until:
                continue
            person = pk
        else:
            (due_column,) = _DUE_COLUMNS[kind]
            due_on = _SOURCE_BY_KIND[kind].due_on(
                {due_column: due_at if due_column in _DATETIME_DUE else due_date}
            )
            if limit is not None:
                per_kind[kind] = {"due": total - overdue, "overdue": overdue}
        instant = due_at.timestamp() if kind != "residence_expiry" and due_at is not None else 0.0
        by_kind[kind].append((due_on, kind_no, instant, pk, family, person))
    keys: list[tuple[Any, ...]] = []
    for kind, kind_keys in by_kind.items():
        if kind == "residence_expiry" or limit is None:
            for key in kind_keys:
                per_kind[kind]["overdue" if key[0] < today else "due"] += 1
        if kind == "residence_expiry" and limit is not None:
            kind_keys = sorted(kind_keys, key=lambda k: (k[0], k[3]))[:limit]
        keys.extend(kind_keys)
    keys.sort(key=lambda k: k[:4])
    if limit is not None:
        keys = keys[:limit]
    items = [
        _item(KINDS[kind_no], due_on, today, pk, family, references[family], person)
        for due_on, kind_no, _instant, pk, family, person in keys
    ]
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
        queryset = source.open_rows().filter(**{f"{source.family_path}__in": supervised})
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
