"""Anonymised outcome statistics: aggregates computed in SQL, then disclosure-controlled.

Nothing here reads an encrypted column or loops over rows in Python: every figure is a
``GROUP BY`` aggregate (counts, conditional counts, medians) over clear columns. Small
cells, complementary cells and derived figures are then withheld by
``privacy.suppression``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, ExtractYear
from django.db.models.functions import Concat as _Concat
from django.db.models.lookups import LessThanOrEqual

from casemgmt.models import CaseConference, Contact, Family, Goal, Organisation, Referral
from casemgmt.selectors.sql import DaysBetween
from privacy.suppression import TOTAL, Key, SuppressedTable, suppress, with_margins

GROUP_KEYS = ("field_of_action", "organisation", "quarter", "age_band", "sex")
AGE_BANDS = (
    (0, 5, "0-5"),
    (6, 17, "6-17"),
    (18, 26, "18-26"),
    (27, 44, "27-44"),
    (45, 64, "45-64"),
    (65, 200, "65+"),
)


def quarter_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Widen a period to whole quarters: figures exist only for unions of quarters."""
    q_start = datetime.date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    end_month = 3 * ((end.month - 1) // 3) + 3
    next_month = datetime.date(end.year + (end_month == 12), end_month % 12 + 1, 1)
    return q_start, next_month - datetime.timedelta(days=1)


def _quarter(date_field: str) -> Any:
    return _Concat(
        Cast(ExtractYear(date_field), output_field=IntegerField()),
        Value("-Q"),
        Cast(ExtractQuarter(date_field), output_field=IntegerField()),
        output_field=_char(),
    )


def _char() -> Any:
    from django.db.models import CharField

    return CharField()


def _age_band(date_field: str, birth_year_field: str) -> Any:
    """Age band at the time of the event, from the clear birth year (never the date of birth)."""
    age = ExtractYear(date_field) - F(birth_year_field)
    # Bands are checked in ascending order, the first match wins; no birth year gives "unknown".
    return Case(
        *[When(LessThanOrEqual(age, hi), then=Value(label)) for _lo, hi, label in AGE_BANDS],
        default=Value("unknown"),
        output_field=_char(),
    )


@dataclass(frozen=True)
class Section:
    """One table of the statistics: its rows, how each grouping key is computed, its counts."""

    name: str
    queryset: Callable[[Any, datetime.date, datetime.date], QuerySet[Any]]
    dimensions: dict[str, Callable[[], Any]]
    counts: dict[str, Any]
    rates: dict[str, tuple[str, str]]
    fixed_dimension: str | None = None
    median: tuple[str, Any, Any] | None = None  # (name, whole-days expression, base count)
    median_filter: Q | None = None


def _goal_dims() -> dict[str, Callable[[], Any]]:
    return {
        "field_of_action": lambda: F("field_of_action__code"),
        "organisation": lambda: F("family__organisation__name"),
        "quarter": lambda: _quarter("agreed_on"),
        "age_band": lambda: _age_band("agreed_on", "person__birth_year"),
        "sex": lambda: Coalesce("person__sex", Value("unknown")),
    }


SECTIONS: tuple[Section, ...] = (
    Section(
        name="goals",
        queryset=lambda scope, start, end: Goal.objects.filter(
            family_id__in=scope, agreed_on__range=(start, end)
        ),
        dimensions=_goal_dims(),
        counts={
            "agreed": Count("id"),
            "achieved": Count("id", filter=Q(status="achieved")),
            "partly_achieved": Count("id", filter=Q(status="partly_achieved")),
            "not_achieved": Count("id", filter=Q(status="not_achieved")),
            "finished": Count("id", filter=Q(status__in=("achieved", "partly_achieved", "not_achieved"))),
        },
        rates={"achievement_rate": ("achieved", "finished")},
        median=("median_days_to_achievement", DaysBetween("achieved_at", "agreed_on"), "achieved"),
        median_filter=Q(status="achieved"),
    ),
    Section(
        name="referrals",
        queryset=lambda scope, start, end: Referral.objects.filter(
            family_id__in=scope, created_at__date__range=(start, end)
        ),
        dimensions={
            "field_of_action": lambda: Coalesce("goal__field_of_action__code", Value("none")),
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("created_at"),
            "age_band": lambda: _age_band("created_at", "person__birth_year"),
            "sex": lambda: F("person__sex"),
            "course_type": lambda: Coalesce("course__course_type", Value("provider_only")),
        },
        fixed_dimension="course_type",
        counts={
            "referred": Count("id"),
            "completed": Count("id", filter=Q(status="completed")),
            "dropped_out": Count("id", filter=Q(status="dropped_out")),
            "finished": Count("id", filter=Q(status__in=("completed", "dropped_out"))),
        },
        rates={"completion_rate": ("completed", "finished")},
    ),
    Section(
        name="families_opened",
        queryset=lambda scope, start, end: Family.objects.filter(id__in=scope, opened_on__range=(start, end)),
        dimensions={
            "organisation": lambda: F("organisation__name"),
            "quarter": lambda: _quarter("opened_on"),
        },
        counts={"opened": Count("id")},
        rates={},
    ),
    Section(
        name="families_closed",
        queryset=lambda scope, start, end: Family.objects.filter(
            id__in=scope, status="closed", closed_on__range=(start, end)
        ),
        dimensions={
            "organisation": lambda: F("organisation__name"),
            "quarter": lambda: _quarter("closed_on"),
            "closure_outcome": lambda: F("closure_outcome"),
        },
        fixed_dimension="closure_outcome",
        counts={
            "closed": Count("id"),
            "sgb_ii_at_intake": Count("id", filter=Q(benefit_status_at_intake="sgb_ii")),
            "no_longer_sgb_ii": Count(
                "id", filter=Q(benefit_status_at_intake="sgb_ii", benefit_status_at_closure="none")
            ),
        },
        rates={"share_no_longer_on_benefits": ("no_longer_sgb_ii", "sgb_ii_at_intake")},
    ),
    Section(
        name="contacts",
        queryset=lambda scope, start, end: Contact.objects.filter(
            family_id__in=scope, occurred_on__range=(start, end)
        ),
        dimensions={
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("occurred_on"),
        },
        counts={
            "contacts": Count("id"),
            "families_contacted": Count("family_id", distinct=True),
            "initiated_by_family": Count("id", filter=Q(initiated_by="family")),
        },
        rates={
            "contacts_per_family": ("contacts", "families_contacted"),
            "share_initiated_by_family": ("initiated_by_family", "contacts"),
        },
    ),
    Section(
        name="conferences_held",
        queryset=lambda scope, start, end: CaseConference.objects.filter(
            family_id__in=scope, status="held", held_at__date__range=(start, end)
        ),
        dimensions={
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("held_at"),
        },
        counts={"held": Count("id")},
        rates={},
    ),
)

#: Counts that are not distinct units of the table's rows (they are published, but their
#: margins are not sums of cells): contacts of a family in two quarters count once per quarter.
NON_ADDITIVE = {"families_contacted"}


def _rows(qs: QuerySet[Any], section: Section, dims: list[str]) -> list[dict[str, Any]]:
    annotations = {f"g_{d}": section.dimensions[d]() for d in dims}
    return _grouped(qs, annotations, **section.counts)


def _quarter_rule(
    fine_values: dict[Key, int], fine_dims: list[str], dims: list[str], threshold: int
) -> set[Key]:
    """Values that span several quarters are withheld when any of their quarters is a small count.

    A figure for Q1-Q2 minus the (publishable) figure for Q1 would give Q2: so a union of
    quarters is published only when every quarter in it could be published on its own.
    """
    qi = fine_dims.index("quarter")
    quarter_is_dim = "quarter" in dims
    by_rest: dict[Key, list[int]] = {}
    for key, value in fine_values.items():
        if key[qi] == TOTAL:
            continue
        rest = (*key[:qi], TOTAL, *key[qi + 1 :])
        by_rest.setdefault(rest, []).append(value)
    withheld = set()
    for rest, quarterly in by_rest.items():
        if any(0 < v < threshold for v in quarterly):
            withheld.add(rest if quarter_is_dim else rest[:qi] + rest[qi + 1 :])
    return withheld


def _table(
    section: Section, scope: Any, start: datetime.date, end: datetime.date, dims: list[str], threshold: int
) -> dict[str, Any]:
    """Counts per cell and margin, with the quarter rule and complementary suppression applied."""
    qs = section.queryset(scope, start, end)
    fine_dims = dims if "quarter" in dims else [*dims, "quarter"]
    rows = _rows(qs, section, fine_dims)
    n = len(dims)
    tables: dict[str, SuppressedTable] = {}
    for metric in section.counts:
        if metric in NON_ADDITIVE:
            # Distinct counts do not add up: every cell and margin is its own SQL count, with
            # primary suppression and the quarter rule (no linear relation to protect).
            fine_values = _distinct_margins(qs, section, fine_dims, metric, include_cells=True)
            extra = _quarter_rule(fine_values, fine_dims, dims, threshold)
            values = fine_values if fine_dims == dims else _distinct_margins(qs, section, dims, metric, True)
            tables[metric] = SuppressedTable(
                values, {k for k, v in values.items() if 0 < v < threshold} | extra
            )
            continue
        fine = {tuple(r[f"g_{d}"] for d in fine_dims): r[metric] for r in rows}
        fine_values = with_margins(fine, len(fine_dims))
        extra = _quarter_rule(fine_values, fine_dims, dims, threshold)
        if fine_dims == dims:
            cells = fine
        else:
            cells = {}
            for key, value in fine.items():
                cells[key[:-1]] = cells.get(key[:-1], 0) + value
        tables[metric] = suppress(cells, n_dims=n, threshold=threshold, extra=extra)
    medians = _medians(qs, section, dims) if section.median else {}
    keys = sorted(tables[next(iter(section.counts))].values, key=lambda k: tuple(str(p) for p in k))
    out = []
    for key in keys:
        row: dict[str, Any] = {
            "group": {d: ("total" if key[i] == TOTAL else key[i]) for i, d in enumerate(dims)}
        }
        for metric, table in tables.items():
            value = table.published(key)
            row[metric] = {"value": value, "suppressed": value is None}
        for rate, (num, den) in section.rates.items():
            numerator, denominator = tables[num].published(key), tables[den].published(key)
            if numerator is None or denominator is None:
                row[rate] = {"value": None, "suppressed": True}
            else:
                row[rate] = {
                    "value": round(numerator / denominator, 3) if denominator else None,
                    "suppressed": False,
                }
        if section.median:
            name, _expr, base = section.median
            hidden = tables[base].published(key) is None
            value = None if hidden else medians.get(key)
            row[name] = {"value": round(value, 1) if value is not None else None, "suppressed": hidden}
        out.append(row)
    return {"dimensions": dims, "rows": out}


def _subsets(dims: list[str]) -> list[tuple[int, ...]]:
    return [c for r in range(len(dims) + 1) for c in itertools.combinations(range(len(dims)), r)]


def _margin_key(dims: list[str], kept: tuple[int, ...], row: dict[str, Any]) -> Key:
    return tuple(row[f"g_{d}"] if i in kept else TOTAL for i, d in enumerate(dims))


def _medians(qs: QuerySet[Any], section: Section, dims: list[str]) -> dict[Key, float | None]:
    """Medians for every cell and margin from one SQL histogram of whole days per cell.

    Medians do not add up, but histograms do: the database counts rows per (cell, days),
    the margins' histograms are sums of their cells', and each median is read off the
    cumulative counts (no row is ever fetched). Measured on 1,000,000 goals this one query
    replaces one percentile query per margin level at well under half the time.
    """
    if section.median is None:
        return {}
    _name, days, _ = section.median
    annotations = {f"g_{d}": section.dimensions[d]() for d in dims}
    subset = qs.filter(section.median_filter) if section.median_filter is not None else qs
    rows = (
        subset.annotate(**annotations, days=days)
        .values(*annotations, "days")
        .annotate(n=Count("id"))
        .order_by()
    )
    histograms: dict[Key, dict[int, int]] = {}
    for row in rows:
        if row["days"] is None:
            continue
        cell = tuple(row[f"g_{d}"] for d in dims)
        for kept in _subsets(dims):
            key = tuple(cell[i] if i in kept else TOTAL for i in range(len(dims)))
            bins = histograms.setdefault(key, {})
            bins[row["days"]] = bins.get(row["days"], 0) + row["n"]
    return {key: _histogram_median(bins) for key, bins in histograms.items()}


def _histogram_median(bins: dict[int, int]) -> float | None:
    total = sum(bins.values())
    if not total:
        return None
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen, lower = 0, None
    for value in sorted(bins):
        seen += bins[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > upper_rank:
            return (lower + value) / 2 if lower is not None else float(value)
    return None


def _grouped(qs: QuerySet[Any], annotations: dict[str, Any], **aggregates: Any) -> list[dict[str, Any]]:
    """GROUP BY the annotations (or aggregate the whole set): never selects a model's columns."""
    if not annotations:
        return [qs.aggregate(**aggregates)]
    return list(qs.annotate(**annotations).values(*annotations).annotate(**aggregates).order_by())


def _distinct_margins(
    qs: QuerySet[Any], section: Section, dims: list[str], metric: str, include_cells: bool = False
) -> dict[Key, int]:
    """Cells and margins of a distinct count, each counted in SQL (a family counts once per group)."""
    result: dict[Key, int] = {}
    for kept in _subsets(dims):
        if len(kept) == len(dims) and not include_cells:
            continue
        sub = [dims[i] for i in kept]
        annotations = {f"g_{d}": section.dimensions[d]() for d in sub}
        for row in _grouped(qs, annotations, v=section.counts[metric]):
            result[_margin_key(dims, kept, row)] = row["v"]
    return result


def outcome_statistics(
    *,
    families: QuerySet[Any],
    start: datetime.date,
    end: datetime.date,
    group_by: list[str],
    threshold: int | None = None,
) -> dict[str, Any]:
    """All sections over a set of families (a subquery) and a period widened to whole quarters."""
    threshold = threshold or settings.STATS_SUPPRESSION_THRESHOLD
    start, end = quarter_bounds(start, end)
    result: dict[str, Any] = {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "group_by": group_by,
        "threshold": threshold,
        "organisations": [
            {"id": str(o.pk), "name": o.name}
            for o in Organisation.objects.filter(
                pk__in=Family.objects.filter(id__in=families).values("organisation")
            )
        ],
    }
    for section in SECTIONS:
        applicable = [d for d in group_by if d in section.dimensions]
        if len(applicable) != len(group_by):
            missing = [d for d in group_by if d not in section.dimensions]
            result[section.name] = {"not_applicable": f"cannot be grouped by {', '.join(missing)}"}
            continue
        dims = list(group_by)
        if section.fixed_dimension:
            dims = [section.fixed_dimension, *group_by][:2]
        result[section.name] = _table(section, families, start, end, dims, threshold)
    return result
