"""Statistics benchmark and utility report: the cell key statistics against a bare GROUP BY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<bench db> KEY_FILE=var/bench-keys.json \\
        BENCH=1 DEBUG=false SECRET_KEY=... python -m bench.stats --repeats 9

Over the bench supervisor's scope (every district and town) and 2022-2026, for each
grouping: the p50 time of ``outcome_statistics`` (every section, perturbed, with margins,
medians and the category lists) and of the bare SQL ``GROUP BY`` statements that produce the
same counts (one per section, executed through a cursor, margins added in Python), and
their ratio. Utility: the mean absolute relative error of published counts against the true
counts, for cells and margins with a true count of at least 50 (target <= 5 %).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from typing import Any

GROUPINGS = (["field_of_action"], ["organisation", "quarter"], ["sex", "age_band"], [])
START, END = datetime.date(2022, 1, 1), datetime.date(2026, 12, 31)


def bare_counts(
    families: Any, group_by: list[str], *, execute: bool = True
) -> dict[tuple[str, str], dict[Any, int]]:
    """The same counts by plain GROUP BY statements run through a cursor: no keys, no perturbation."""
    from django.db import connection
    from django.db.models import Count, Value

    from casemgmt.selectors.stats import SECTIONS, quarter_bounds
    from privacy.perturbation import TOTAL

    start, end = quarter_bounds(START, END)
    truth: dict[tuple[str, str], dict[Any, int]] = {}
    for section in SECTIONS:
        if any(d not in section.dimensions for d in group_by):
            continue
        dims = [section.fixed_dimension, *group_by][:2] if section.fixed_dimension else list(group_by)
        additive = [m for m in section.counts if m not in section.distinct]
        # No grouping key: a constant, which Django leaves out of the GROUP BY (one row).
        annotations = {f"g_{d}": section.dimensions[d]() for d in dims} or {"g_": Value(1)}
        aggregates = {f"n_{m}": Count("id", filter=section.counts[m]) for m in additive}
        qs = section.queryset(families, start, end)
        qs = qs.annotate(**annotations).values(*annotations).annotate(**aggregates).order_by()
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        width = len(annotations)
        for row in rows:
            cell = tuple(row[: len(dims)])
            for i, metric in enumerate(additive):
                per_key = truth.setdefault((section.name, metric), {})
                for mask in range(2 ** len(dims)):
                    key = tuple(TOTAL if mask & (1 << j) else part for j, part in enumerate(cell))
                    per_key[key] = per_key.get(key, 0) + int(row[width + i] or 0)
    return truth


def published(stats: dict[str, Any]) -> dict[tuple[str, str], dict[Any, int | None]]:
    """Published counts by (section, metric) and cell key, from an ``outcome_statistics`` result."""
    from privacy.perturbation import TOTAL

    out: dict[tuple[str, str], dict[Any, int | None]] = {}
    for name, table in stats.items():
        if not isinstance(table, dict) or "rows" not in table:
            continue
        for row in table["rows"]:
            key = tuple(TOTAL if row["group"][d] == "total" else row["group"][d] for d in table["dimensions"])
            for metric, cell in row.items():
                if metric != "group":
                    out.setdefault((name, metric), {})[key] = cell["value"]
    return out


def utility(
    truth: dict[tuple[str, str], dict[Any, int]], stats: dict[str, Any], min_count: int = 50
) -> dict[str, float]:
    """Mean and largest relative error of published counts for cells of ``min_count`` or more."""
    shown = published(stats)
    errors, withheld = [], 0
    for metric, cells in truth.items():
        for key, true in cells.items():
            if true < min_count:
                continue
            value = shown[metric].get(key)
            if value is None:
                withheld += 1
                continue
            errors.append(abs(value - true) / true)
    return {
        "cells": float(len(errors) + withheld),
        "withheld": float(withheld),
        "mare": statistics.fmean(errors) if errors else 0.0,
        "max_re": max(errors, default=0.0),
    }


def _p50(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--groupings",
        default=";".join(",".join(g) for g in GROUPINGS),
        help="group_by values separated by ';', e.g. 'field_of_action;organisation,quarter;' (empty: none)",
    )
    args = parser.parse_args()
    groupings = [[k for k in g.split(",") if k] for g in args.groupings.split(";")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")
    import django

    django.setup()
    from django.db import connection

    from api.stats.views import statistics_scope
    from casemgmt.models import Family, Goal, User
    from casemgmt.selectors.stats import outcome_statistics

    supervisor = User.objects.get(username="bench_supervisor")
    families = statistics_scope(supervisor)
    print(
        f"# Statistics benchmark ({connection.vendor}, {Family.objects.count()} families, "
        f"{Goal.objects.count()} goals, {args.repeats} repeats, p50)\n"
    )
    print("| group_by | statistics ms | bare GROUP BY ms | ratio | cells >= 50 | withheld | MARE | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for group_by in groupings:

        def stats(group_by: list[str] = group_by) -> dict[str, Any]:
            return outcome_statistics(families=families, start=START, end=END, group_by=group_by)

        def bare(group_by: list[str] = group_by) -> dict[tuple[str, str], dict[Any, int]]:
            return bare_counts(families, group_by)

        stats()  # warm the table cache and the database
        t_stats, t_bare = _p50(stats, args.repeats), _p50(bare, args.repeats)
        report = utility(bare(), stats())
        print(
            f"| {','.join(group_by) or '(none)'} | {t_stats * 1000:.1f} | {t_bare * 1000:.1f} | "
            f"{t_stats / t_bare:.2f}x | {report['cells']:.0f} | {report['withheld']:.0f} | "
            f"{report['mare'] * 100:.2f} % | {report['max_re'] * 100:.2f} % |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
