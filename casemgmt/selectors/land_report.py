"""The periodic report to the Land (KIM reporting), through the statistics' disclosure control.

Per organisation (optionally with its member towns) and period: cases by status, new and
closed cases, outcomes at closure, goals by field of action and outcome, referrals by course
type and outcome, each broken down by legal system (Rechtskreis: the benefit status at intake,
SGB II / SGB XII / AsylbLG / none) and, for records of one member, by the coarse residence
category. Every figure is a cell-key-perturbed count (``privacy.perturbation``), exactly as
in the outcome statistics: the same records give the same published value in every table.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from casemgmt.models import (
    BenefitStatus,
    Course,
    Family,
    FieldOfAction,
    Goal,
    Organisation,
    Referral,
    ReportIndicator,
    ResidenceCategory,
)
from casemgmt.selectors.stats import (
    Section,
    _table,
    families_closed_in,
    families_opened_in,
    goals_agreed_in,
    quarter_bounds,
    referrals_made_in,
)
from privacy.perturbation import metadata, table

HOUSEHOLD = "household"  # a family-level goal or referral concerns no single member

#: Legal systems the Land asks for, plus "unknown" for cases whose benefit status is not recorded.
RECHTSKREISE = [
    BenefitStatus.SGB_II,
    BenefitStatus.SGB_XII,
    BenefitStatus.ASYLBLG,
    BenefitStatus.NONE,
    "unknown",
]


def _families_in_period(scope: Any, start: datetime.date, end: datetime.date) -> QuerySet[Family]:
    """Cases open at some time in the period."""
    return Family.objects.filter(id__in=scope, opened_on__lte=end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=start)
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        name="cases_by_status",
        queryset=_families_in_period,
        dimensions={"status": lambda: F("status"), "rechtskreis": lambda: F("benefit_status_at_intake")},
        counts={"cases": None},
        rates={},
    ),
    Section(
        name="new_cases",
        queryset=families_opened_in,
        dimensions={"rechtskreis": lambda: F("benefit_status_at_intake"), "status": lambda: F("status")},
        counts={"opened": None},
        rates={},
    ),
    Section(
        name="closed_cases",
        queryset=families_closed_in,
        dimensions={
            "closure_outcome": lambda: F("closure_outcome"),
            "rechtskreis": lambda: F("benefit_status_at_intake"),
        },
        counts={"closed": None, "no_longer_on_benefits": Q(benefit_status_at_closure="none")},
        rates={},
    ),
    Section(
        name="goals",
        queryset=goals_agreed_in,
        dimensions={
            "field_of_action": lambda: F("field_of_action__code"),
            "goal_status": lambda: F("status"),
            "rechtskreis": lambda: F("family__benefit_status_at_intake"),
            "residence_category": lambda: Coalesce("person__residence_category", Value(HOUSEHOLD)),
        },
        counts={"goals": None},
        rates={},
    ),
    Section(
        name="referrals",
        queryset=referrals_made_in,
        dimensions={
            "course_type": lambda: Coalesce("course__course_type", Value("provider_only")),
            "referral_status": lambda: F("status"),
            "rechtskreis": lambda: F("family__benefit_status_at_intake"),
            "residence_category": lambda: F("person__residence_category"),
        },
        counts={"referrals": None},
        rates={},
    ),
)

#: (section, dimensions) of every table in the report: the main breakdown, then by Rechtskreis
#: and by residence category where the records concern one member.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cases_by_status", ("status", "rechtskreis")),
    ("new_cases", ("rechtskreis",)),
    ("closed_cases", ("closure_outcome", "rechtskreis")),
    ("goals", ("field_of_action", "goal_status")),
    ("goals", ("goal_status", "rechtskreis")),
    ("goals", ("goal_status", "residence_category")),
    ("referrals", ("course_type", "referral_status")),
    ("referrals", ("referral_status", "rechtskreis")),
    ("referrals", ("referral_status", "residence_category")),
)

#: Indicator -> (table index in TABLES, the cell's group, metric) whose published value is the actual figure.
INDICATOR_CELLS: dict[str, tuple[int, dict[str, str], str]] = {
    ReportIndicator.Code.NEW_CASES: (1, {"rechtskreis": "total"}, "opened"),
    ReportIndicator.Code.CLOSED_CASES: (2, {"closure_outcome": "total", "rechtskreis": "total"}, "closed"),
    ReportIndicator.Code.CLOSED_SELF_SUFFICIENT: (
        2,
        {"closure_outcome": "self_sufficient", "rechtskreis": "total"},
        "closed",
    ),
    ReportIndicator.Code.GOALS_ACHIEVED: (
        3,
        {"field_of_action": "total", "goal_status": "achieved"},
        "goals",
    ),
    ReportIndicator.Code.REFERRALS_COMPLETED: (
        6,
        {"course_type": "total", "referral_status": "completed"},
        "referrals",
    ),
}


def _domains(organisations: list[Organisation]) -> dict[str, list[str]]:
    codes = list(
        FieldOfAction.objects.filter(Q(organisation=None) | Q(organisation__in=organisations))
        .order_by("code")
        .values_list("code", flat=True)
        .distinct()
    )
    return {
        "status": list(Family.Status.values),
        "rechtskreis": [str(r) for r in RECHTSKREISE],
        "closure_outcome": list(Family.ClosureOutcome.values),
        "field_of_action": codes,
        "goal_status": list(Goal.Status.values),
        "residence_category": [*ResidenceCategory.values, HOUSEHOLD],
        "course_type": [*Course.Type.values, "provider_only"],
        "referral_status": list(Referral.Status.values),
    }


def report_scope(organisation: Organisation, *, tree: bool) -> QuerySet[Any]:
    """Ids of the families the report covers: the organisation's, with ``tree`` also its towns'."""
    condition = Q(organisation=organisation)
    if tree:
        condition |= Q(organisation__parent=organisation)
    return Family.objects.filter(condition).values("id")


def land_report(
    *, organisation: Organisation, tree: bool, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """The whole report as plain data (JSON, CSV and HTML are made from it)."""
    ptable = table()
    start, end = quarter_bounds(start, end)
    organisations = [organisation, *(organisation.children.all() if tree else [])]
    scope = report_scope(organisation, tree=tree)
    domains = _domains(organisations)
    sections = {s.name: s for s in SECTIONS}
    tables = []
    for name, dims in TABLES:
        built = _table(sections[name], scope, start, end, list(dims), domains, ptable)
        tables.append({"section": name, **built})
    indicators = []
    targets = {
        i.code: i.target
        for i in ReportIndicator.objects.filter(organisation=organisation, year__in={start.year, end.year})
    }
    for code, (index, group, metric) in INDICATOR_CELLS.items():
        actual = next(
            (row[metric]["value"] for row in tables[index]["rows"] if row["group"] == group),
            None,
        )
        target = targets.get(code)
        indicators.append(
            {
                "code": code,
                "label": ReportIndicator.Code(code).label,
                "target": target,
                "actual": actual,
                "suppressed": actual is None,
                "met": None if actual is None or target is None else actual >= target,
            }
        )
    return {
        "organisation": {"id": str(organisation.pk), "name": organisation.name},
        "includes_member_towns": tree,
        "organisations": [o.name for o in organisations],
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "threshold": ptable.params.threshold,
        "disclosure_control": metadata(ptable.params),
        "tables": tables,
        "indicators": indicators,
    }
