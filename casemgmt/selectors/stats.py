"""Anonymised outcome statistics: aggregates computed in SQL, perturbed by the cell key method.

Nothing here reads an encrypted column or loops over rows in Python: every figure is a
``GROUP BY`` aggregate over clear columns that counts the records of a cell and sums their
record keys in the same statement (``privacy.perturbation``). Margins of additive counts
are exact integer sums of their cells' counts and key sums, so a margin is published with
the value its own records give, never as the sum of published cells. Distinct counts get
their margins from one ``UNION ALL`` of grouped counts.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, ExtractYear
from django.db.models.functions import Concat as _Concat
from django.db.models.lookups import LessThanOrEqual

from casemgmt.models import (
    Assessment,
    CaseConference,
    Contact,
    Course,
    Family,
    FieldOfAction,
    Goal,
    Organisation,
    Person,
    Referral,
)
from casemgmt.selectors.sql import DaysBetween
from privacy.perturbation import TOTAL, Key, PerturbationTable, metadata, table

GROUP_KEYS = ("field_of_action", "organisation", "quarter", "age_band", "sex")
AGE_BANDS = (
    (0, 5, "0-5"),
    (6, 17, "6-17"),
    (18, 26, "18-26"),
    (27, 44, "27-44"),
    (45, 64, "45-64"),
    (65, 200, "65+"),
)
UNKNOWN = "unknown"


def quarter_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Widen a period to whole quarters: figures exist only for unions of quarters."""
    q_start = datetime.date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    end_month = 3 * ((end.month - 1) // 3) + 3
    next_month = datetime.date(end.year + (end_month == 12), end_month % 12 + 1, 1)
    return q_start, next_month - datetime.timedelta(days=1)


def quarters_between(start: datetime.date, end: datetime.date) -> list[str]:
    """Labels of every quarter in a whole-quarter period, as the SQL computes them."""
    labels, year, quarter = [], start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        labels.append(f"{year}-Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return labels


def _quarter(date_field: str) -> Any:
    return _Concat(
        Cast(ExtractYear(date_field), output_field=IntegerField()),
        Value("-Q"),
        Cast(ExtractQuarter(date_field), output_field=IntegerField()),
        output_field=CharField(),
    )


def _age_band(date_field: str, birth_year_field: str) -> Any:
    """Age band at the time of the event, from the clear birth year (never the date of birth)."""
    age = ExtractYear(date_field) - F(birth_year_field)
    # Bands are checked in ascending order, the first match wins; no birth year gives "unknown".
    return Case(
        *[When(LessThanOrEqual(age, hi), then=Value(label)) for _lo, hi, label in AGE_BANDS],
        default=Value(UNKNOWN),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class Section:
    """One table: its rows, how each grouping key is computed, its counts (a filter each)."""

    name: str
    queryset: Callable[[Any, datetime.date, datetime.date], QuerySet[Any]]
    dimensions: dict[str, Callable[[], Any]]
    counts: dict[str, Q | None]
    rates: dict[str, tuple[str, str]]
    fixed_dimension: str | None = None
    #: Counts of distinct units: metric -> (unit column, the unit's record key column).
    distinct: dict[str, tuple[str, str]] = field(default_factory=dict)
    shares: frozenset[str] = frozenset()  # rates that are shares (capped at 1 after perturbation)
    median: tuple[str, Any, str] | None = None  # (name, whole-days expression, base count)
    median_filter: Q | None = None


FINISHED_GOALS = ("achieved", "partly_achieved", "not_achieved")


def latest_assessments(scope: Any, start: datetime.date, end: datetime.date) -> QuerySet[Assessment]:
    """The latest follow-up of each member (or household) and field in the period, with its baseline score.

    One row per assessed subject and field: a follow-up in the period with no later
    follow-up up to the period's end, annotated with the score of that subject's baseline
    (those without a baseline are left out). The subject is the member, or the family for
    household-level ratings (``COALESCE(person_id, family_id)``: equal even where one is NULL).
    """
    subject = Coalesce("person_id", "family_id")
    same_subject = {"subject": OuterRef("subject"), "field_of_action_id": OuterRef("field_of_action_id")}
    later = Assessment.objects.annotate(subject=subject).filter(
        kind=Assessment.Kind.FOLLOW_UP,
        assessed_on__gt=OuterRef("assessed_on"),
        assessed_on__lte=end,
        **same_subject,
    )
    baseline = (
        Assessment.objects.annotate(subject=subject)
        .filter(kind=Assessment.Kind.BASELINE, **same_subject)
        .order_by("assessed_on")
        .values("score")[:1]
    )
    return (
        Assessment.objects.filter(
            family_id__in=scope, kind=Assessment.Kind.FOLLOW_UP, assessed_on__range=(start, end)
        )
        .annotate(subject=subject)
        .annotate(baseline_score=Subquery(baseline, output_field=IntegerField()))
        .filter(baseline_score__isnull=False)
        .exclude(Exists(later))
        .annotate(change=F("score") - F("baseline_score"))
    )


# Which records a period holds, per section: one definition for the outcome statistics and
# the report to the Land (casemgmt/selectors/land_report.py), so the two cannot drift apart.
def goals_agreed_in(scope: Any, start: datetime.date, end: datetime.date) -> Any:
    return Goal.objects.filter(family_id__in=scope, agreed_on__range=(start, end))


def referrals_made_in(scope: Any, start: datetime.date, end: datetime.date) -> Any:
    return Referral.objects.filter(family_id__in=scope, created_at__date__range=(start, end))


def families_opened_in(scope: Any, start: datetime.date, end: datetime.date) -> Any:
    return Family.objects.filter(id__in=scope, opened_on__range=(start, end))


def families_closed_in(scope: Any, start: datetime.date, end: datetime.date) -> Any:
    return Family.objects.filter(id__in=scope, status="closed", closed_on__range=(start, end))


SECTIONS: tuple[Section, ...] = (
    Section(
        name="goals",
        queryset=goals_agreed_in,
        dimensions={
            "field_of_action": lambda: F("field_of_action__code"),
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("agreed_on"),
            "age_band": lambda: _age_band("agreed_on", "person__birth_year"),
            "sex": lambda: Coalesce("person__sex", Value(UNKNOWN)),
        },
        counts={
            "agreed": None,
            "achieved": Q(status="achieved"),
            "partly_achieved": Q(status="partly_achieved"),
            "not_achieved": Q(status="not_achieved"),
            "finished": Q(status__in=FINISHED_GOALS),
        },
        rates={"achievement_rate": ("achieved", "finished")},
        shares=frozenset({"achievement_rate"}),
        median=("median_days_to_achievement", DaysBetween("achieved_at", "agreed_on"), "achieved"),
        median_filter=Q(status="achieved"),
    ),
    # Change between baseline and latest follow-up per field of action: counts of subjects
    # whose rating improved, stayed or worsened, never an average of scores (a sum over few
    # records is a magnitude the cell key method as configured here does not protect).
    Section(
        name="assessment_change",
        queryset=latest_assessments,
        dimensions={
            "field_of_action": lambda: F("field_of_action__code"),
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("assessed_on"),
            "age_band": lambda: _age_band("assessed_on", "person__birth_year"),
            "sex": lambda: Coalesce("person__sex", Value(UNKNOWN)),
        },
        counts={
            "assessed": None,
            "improved": Q(change__gt=0),
            "unchanged": Q(change=0),
            "worsened": Q(change__lt=0),
        },
        rates={"improvement_rate": ("improved", "assessed")},
        shares=frozenset({"improvement_rate"}),
    ),
    Section(
        name="referrals",
        queryset=referrals_made_in,
        dimensions={
            "field_of_action": lambda: Coalesce("goal__field_of_action__code", Value("none")),
            "organisation": lambda: F("family__organisation__name"),
            "quarter": lambda: _quarter("created_at"),
            "age_band": lambda: _age_band("created_at", "person__birth_year"),
            "sex": lambda: Coalesce("person__sex", Value(UNKNOWN)),
            "course_type": lambda: Coalesce("course__course_type", Value("provider_only")),
        },
        fixed_dimension="course_type",
        counts={
            "referred": None,
            "completed": Q(status="completed"),
            "dropped_out": Q(status="dropped_out"),
            "finished": Q(status__in=("completed", "dropped_out")),
        },
        rates={"completion_rate": ("completed", "finished")},
        shares=frozenset({"completion_rate"}),
    ),
    Section(
        name="families_opened",
        queryset=families_opened_in,
        dimensions={
            "organisation": lambda: F("organisation__name"),
            "quarter": lambda: _quarter("opened_on"),
        },
        counts={"opened": None},
        rates={},
    ),
    Section(
        name="families_closed",
        queryset=families_closed_in,
        dimensions={
            "organisation": lambda: F("organisation__name"),
            "quarter": lambda: _quarter("closed_on"),
            "closure_outcome": lambda: F("closure_outcome"),
        },
        fixed_dimension="closure_outcome",
        counts={
            "closed": None,
            "sgb_ii_at_intake": Q(benefit_status_at_intake="sgb_ii"),
            "no_longer_sgb_ii": Q(benefit_status_at_intake="sgb_ii", benefit_status_at_closure="none"),
        },
        rates={"share_no_longer_on_benefits": ("no_longer_sgb_ii", "sgb_ii_at_intake")},
        shares=frozenset({"share_no_longer_on_benefits"}),
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
            "contacts": None,
            "families_contacted": None,
            "initiated_by_family": Q(initiated_by="family"),
        },
        distinct={"families_contacted": ("family_id", "family__record_key")},
        rates={
            "contacts_per_family": ("contacts", "families_contacted"),
            "share_initiated_by_family": ("initiated_by_family", "contacts"),
        },
        shares=frozenset({"share_initiated_by_family"}),
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
        counts={"held": None},
        rates={},
    ),
)

#: A count and the sum of its records' keys.
Tally = tuple[int, int]


def _aggregates(section: Section, metrics: Iterable[str]) -> dict[str, Any]:
    """Per metric a count and a record-key sum, side by side in one SELECT."""
    out: dict[str, Any] = {}
    for metric in metrics:
        if metric in section.distinct:
            unit, key = section.distinct[metric]
            out[f"n_{metric}"] = Count(unit, distinct=True)
            # Distinct units are summed once each: record keys are random, a repeat would be chance.
            out[f"k_{metric}"] = Sum(key, distinct=True)
        else:
            condition = section.counts[metric]
            out[f"n_{metric}"] = Count("id", filter=condition)
            out[f"k_{metric}"] = Sum("record_key", filter=condition)
    return out


def _fetch(qs: QuerySet[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a grouped query through the cursor: plain tuples, no per-row model machinery.

    Every value is a string or an integer already (labels, counts, key sums, whole days),
    so Django's per-row converters would only cost time on tables of many cells.
    """
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [c[0] for c in cursor.description], cursor.fetchall()


def _tally(row: dict[str, Any], metric: str) -> Tally:
    return int(row[f"n_{metric}"] or 0), int(row[f"k_{metric}"] or 0)


def _subsets(n_dims: int) -> list[tuple[int, ...]]:
    return [c for r in range(n_dims + 1) for c in itertools.combinations(range(n_dims), r)]


def _margin(key: Key, kept: tuple[int, ...]) -> Key:
    return tuple(part if i in kept else TOTAL for i, part in enumerate(key))


def _tallies(
    section: Section, qs: QuerySet[Any], dims: list[str]
) -> tuple[dict[str, dict[Key, Tally]], dict[Key, float | None]]:
    """Count and key sum of every metric for every cell and margin, and the medians.

    One statement per table (two with distinct counts): where the table has a median, the
    same ``GROUP BY`` also splits the median's records by whole days, so the histogram the
    medians are read from comes with the counts instead of from a second scan.
    """
    annotations = {f"g_{d}": section.dimensions[d]() for d in dims}
    group = dict(annotations)
    if section.median is not None:
        _name, days, _base = section.median
        group["m_days"] = Case(
            When(section.median_filter, then=days), default=None, output_field=IntegerField()
        )
    aggregates = _aggregates(section, section.counts)
    if group:
        columns, rows = _fetch(qs.annotate(**group).values(*group).annotate(**aggregates).order_by())
    else:
        totals = qs.aggregate(**aggregates)
        columns, rows = list(totals), [tuple(totals.values())]
    at = {name: i for i, name in enumerate(columns)}
    dim_at = [at[f"g_{d}"] for d in dims]
    metric_at = [(m, at[f"n_{m}"], at[f"k_{m}"]) for m in section.counts]
    days_at = at.get("m_days")
    base_at = at[f"n_{section.median[2]}"] if section.median is not None else -1
    cells: dict[Key, dict[str, list[int]]] = {}
    histograms: dict[Key, dict[int, int]] = {}
    for row in rows:
        cell = tuple(row[i] for i in dim_at)
        acc = cells.get(cell)
        if acc is None:
            acc = cells[cell] = {m: [0, 0] for m in section.counts}
        for metric, n_at, k_at in metric_at:
            pair = acc[metric]
            pair[0] += row[n_at] or 0
            pair[1] += int(row[k_at] or 0)
        if days_at is not None and row[days_at] is not None:
            bins = histograms.setdefault(cell, {})
            bins[row[days_at]] = bins.get(row[days_at], 0) + row[base_at]
    result: dict[str, dict[Key, Tally]] = {m: {} for m in section.counts}
    full = tuple(range(len(dims)))
    for cell, acc in cells.items():
        for metric, (n, k) in acc.items():
            if metric in section.distinct:
                result[metric][cell] = (n, k)
                continue
            # Margins of additive counts: integer sums of counts and of key sums are exact.
            for kept in _subsets(len(dims)):
                key = _margin(cell, kept) if kept != full else cell
                old = result[metric].get(key, (0, 0))
                result[metric][key] = (old[0] + n, old[1] + k)
    if section.distinct and dims:
        for margin in _distinct_margins(section, qs, dims):
            key = tuple(margin[f"g_{d}"] for d in dims)
            for metric in section.distinct:
                result[metric][key] = _tally(margin, metric)
    return result, _medians(histograms, len(dims))


def _distinct_margins(section: Section, qs: QuerySet[Any], dims: list[str]) -> list[dict[str, Any]]:
    """Every margin of the distinct counts in one UNION ALL: a family counts once per group."""
    aggregates = _aggregates(section, section.distinct)
    parts = []
    for kept in _subsets(len(dims))[:-1]:
        annotations = {
            f"g_{d}": section.dimensions[d]() if i in kept else Value(TOTAL, output_field=CharField())
            for i, d in enumerate(dims)
        }
        part = qs.annotate(**annotations).values(*annotations).annotate(**aggregates).order_by()
        parts.append(part)
    first, *rest = parts
    return list(first.union(*rest, all=True)) if rest else list(first)


def _medians(cell_histograms: dict[Key, dict[int, int]], n_dims: int) -> dict[Key, float | None]:
    """Medians for every cell and margin: histograms add up where medians do not."""
    histograms: dict[Key, dict[int, int]] = {}
    for cell, cell_bins in cell_histograms.items():
        for kept in _subsets(n_dims):
            bins = histograms.setdefault(_margin(cell, kept), {})
            for days, n in cell_bins.items():
                bins[days] = bins.get(days, 0) + n
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


def _all_keys(dims: list[str], domains: dict[str, list[str]], seen: Iterable[Key]) -> list[Key]:
    """Every cell of the full cross product of the categories, and every margin.

    Listing empty cells too means an absent row never gives away a zero: an empty cell is
    published like any other count below the threshold (withheld).
    """
    values: list[list[Any]] = [list(dict.fromkeys(domains.get(d, []))) for d in dims]
    for key in seen:
        for i, part in enumerate(key):
            if part != TOTAL and part not in values[i]:
                values[i].append(part)
    keys: set[Key] = set()
    for cell in itertools.product(*values):
        for kept in _subsets(len(dims)):
            keys.add(_margin(cell, kept))
    if not dims:
        keys.add(())
    return sorted(keys, key=lambda k: tuple(str(p) for p in k))


def _cell(value: int | None) -> dict[str, Any]:
    return {"value": value, "suppressed": value is None}


def _table(
    section: Section,
    scope: Any,
    start: datetime.date,
    end: datetime.date,
    dims: list[str],
    domains: dict[str, list[str]],
    ptable: PerturbationTable,
) -> dict[str, Any]:
    """Perturbed counts per cell and margin, rates from perturbed counts, medians for large cells."""
    qs = section.queryset(scope, start, end)
    tallies, medians = _tallies(section, qs, dims)
    seen = {key for per_metric in tallies.values() for key in per_metric}
    out = []
    for key in _all_keys(dims, domains, seen):
        row: dict[str, Any] = {
            "group": {d: ("total" if key[i] == TOTAL else key[i]) for i, d in enumerate(dims)}
        }
        published: dict[str, int | None] = {}
        for metric in section.counts:
            n, k = tallies[metric].get(key, (0, 0))
            published[metric] = ptable.publish(n, k)
            row[metric] = _cell(published[metric])
        for rate, (num, den) in section.rates.items():
            numerator, denominator = published[num], published[den]
            if numerator is None or denominator is None:
                row[rate] = {"value": None, "suppressed": True}
                continue
            value = numerator / denominator
            row[rate] = {
                "value": round(min(value, 1.0) if rate in section.shares else value, 3),
                "suppressed": False,
            }
        if section.median:
            name, _expr, base = section.median
            base_value = published[base]
            large = base_value is not None and base_value >= ptable.params.median_min_count
            median = medians.get(key) if large else None
            row[name] = {"value": round(median, 1) if median is not None else None, "suppressed": not large}
        out.append(row)
    return {"dimensions": dims, "rows": out}


def _domains(
    organisations: list[Organisation], start: datetime.date, end: datetime.date
) -> dict[str, list[str]]:
    """The categories of every grouping key, known before any data is counted."""
    codes = list(
        FieldOfAction.objects.filter(Q(organisation=None) | Q(organisation__in=organisations))
        .order_by("code")
        .values_list("code", flat=True)
        .distinct()
    )
    return {
        "field_of_action": [*codes, "none"],
        "organisation": [o.name for o in organisations],
        "quarter": quarters_between(start, end),
        "age_band": [label for _lo, _hi, label in AGE_BANDS] + [UNKNOWN],
        "sex": [*Person.Sex.values, UNKNOWN],
        "course_type": [*Course.Type.values, "provider_only"],
        "closure_outcome": list(Family.ClosureOutcome.values),
    }


def outcome_statistics(
    *,
    families: QuerySet[Any],
    start: datetime.date,
    end: datetime.date,
    group_by: list[str],
) -> dict[str, Any]:
    """All sections over a set of families (a subquery) and a period widened to whole quarters."""
    ptable = table()
    start, end = quarter_bounds(start, end)
    organisations = list(
        Organisation.objects.filter(pk__in=Family.objects.filter(id__in=families).values("organisation"))
    )
    domains = _domains(organisations, start, end)
    result: dict[str, Any] = {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "group_by": group_by,
        "threshold": ptable.params.threshold,
        "disclosure_control": metadata(ptable.params),
        "organisations": [{"id": str(o.pk), "name": o.name} for o in organisations],
    }
    for section in SECTIONS:
        missing = [d for d in group_by if d not in section.dimensions]
        if missing:
            result[section.name] = {"not_applicable": f"cannot be grouped by {', '.join(missing)}"}
            continue
        dims = list(group_by)
        if section.fixed_dimension:
            dims = [section.fixed_dimension, *group_by][:2]
        result[section.name] = _table(section, families, start, end, dims, domains, ptable)
    return result
