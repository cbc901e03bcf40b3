"""Anonymised outcome statistics: JSON, CSV and an SVG chart, for supervisors (and case
managers for their own caseload only)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import log_access
from api.params import (
    PERIOD_FROM,
    PERIOD_TO,
    OwnFormatParameter,
    check_params,
    choice,
    period,
)
from api.permissions import CASE_WORK_OR_SUPERVISION, ScopeMapPermission
from api.stats.charts import achievement_chart
from casemgmt import policies
from casemgmt.models import Family, Role
from casemgmt.selectors.families import families_visible_to
from casemgmt.selectors.stats import GROUP_KEYS, outcome_statistics

PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description=f"{PERIOD_FROM}; widened to its quarter's start"),
    OpenApiParameter("to", OpenApiTypes.DATE, description=f"{PERIOD_TO}; widened to its quarter's end"),
    OpenApiParameter("group_by", str, description=f"one or two of {', '.join(GROUP_KEYS)}, comma-separated"),
]


#: The response's fixed part; each section is a table (``dimensions``, ``rows``) or ``not_applicable``.
STATISTICS_RESPONSE = inline_serializer(
    "OutcomeStatistics",
    {
        "period": inline_serializer(
            "StatisticsPeriod", {"from": serializers.DateField(), "to": serializers.DateField()}
        ),
        "group_by": serializers.ListField(child=serializers.CharField()),
        "threshold": serializers.IntegerField(),
        "disclosure_control": inline_serializer(
            "DisclosureControl",
            {
                "method": serializers.CharField(),
                "perturbed": serializers.BooleanField(),
                "max_noise": serializers.IntegerField(),
                "noise_variance": serializers.FloatField(),
                "threshold": serializers.IntegerField(),
                "median_min_count": serializers.IntegerField(),
                "note": serializers.CharField(),
            },
        ),
        "organisations": inline_serializer(
            "StatisticsOrganisation",
            {"id": serializers.CharField(), "name": serializers.CharField()},
            many=True,
        ),
        **{
            name: serializers.DictField(help_text="a table: dimensions and rows, or not_applicable")
            for name in (
                "goals",
                "assessment_change",
                "referrals",
                "families_opened",
                "families_closed",
                "contacts",
                "conferences_held",
            )
        },
    },
)


def statistics_scope(user: Any) -> QuerySet[Family]:
    """Supervisors: every family of their organisations and, for a district, of its towns.
    Case managers: only their own caseload. Nobody else gets statistics."""
    supervised = policies.organisation_ids_with_role(user, Role.SUPERVISOR)
    families = Family.objects.filter(
        Q(organisation_id__in=supervised) | Q(organisation__parent_id__in=supervised)
    )
    if policies.has_role(user, Role.SUPERVISOR):
        return families.values("id")  # type: ignore[return-value]
    return families_visible_to(user).values("id")  # type: ignore[return-value]


def _group_by(params: Any) -> list[str]:
    raw = params.get("group_by", "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise exceptions.ValidationError(
            {"group_by": [f"Unknown group key(s) {', '.join(unknown)}; use {', '.join(GROUP_KEYS)}."]}
        )
    if len(keys) > 2 or len(set(keys)) != len(keys):
        raise exceptions.ValidationError({"group_by": ["Group by at most two different keys."]})
    return keys


class OutcomeStatisticsView(OwnFormatParameter, APIView):
    """Goals, referrals, openings, closures, contacts and conferences: perturbed counts (cell key method)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK_OR_SUPERVISION}

    @extend_schema(
        parameters=[*PARAMS, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={(200, "application/json"): STATISTICS_RESPONSE, (200, "text/csv"): OpenApiTypes.STR},
        description=(
            "Counts are perturbed by the cell key method (at most ±max_noise; values below the "
            "threshold withheld); `disclosure_control` states the parameters, and with "
            "`format=csv` the last line is the same note."
        ),
    )
    def get(self, request: Request) -> Any:
        check_params(request.query_params, {"from", "to", "group_by", "format"})
        fmt = choice(request.query_params, "format", ("json", "csv"), "json")
        group_by = _group_by(request.query_params)
        start, end = period(request.query_params)
        stats = outcome_statistics(
            families=statistics_scope(request.user), start=start, end=end, group_by=group_by
        )
        log_access(
            request=request, model=Family, object_ids=[], activity="outcome_statistics", personal_data=False
        )
        if fmt == "csv":
            return self._csv(stats)
        return Response(stats)

    def _csv(self, stats: dict[str, Any]) -> HttpResponse:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        group_by = stats["group_by"]
        writer.writerow(
            ["section", "dimension_1", "value_1", "dimension_2", "value_2", "metric", "value", "suppressed"]
        )
        for name, section in stats.items():
            if not isinstance(section, dict) or "rows" not in section:
                continue
            dims = section["dimensions"]
            for row in section["rows"]:
                groups = [(d, row["group"][d]) for d in dims] + [("", "")] * (2 - len(dims))
                for metric, cell in row.items():
                    if metric == "group":
                        continue
                    writer.writerow(
                        [
                            name,
                            groups[0][0],
                            groups[0][1],
                            groups[1][0],
                            groups[1][1],
                            metric,
                            "" if cell["value"] is None else cell["value"],
                            cell["suppressed"],
                        ]
                    )
        # The footnote every table carries: values are perturbed, and by how much at most.
        writer.writerow([])
        writer.writerow([f"# {stats['disclosure_control']['note']}"])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="outcomes-{"-".join(group_by) or "total"}.csv"'
        )
        return response


class OutcomeChartView(OwnFormatParameter, APIView):
    """An SVG chart for reports: achievement rate by field of action per quarter."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK_OR_SUPERVISION}

    @extend_schema(parameters=PARAMS[:2], responses={(200, "image/svg+xml"): OpenApiTypes.STR})
    def get(self, request: Request) -> Any:
        check_params(request.query_params, {"from", "to"})
        start, end = period(request.query_params)
        stats = outcome_statistics(
            families=statistics_scope(request.user),
            start=start,
            end=end,
            group_by=["field_of_action", "quarter"],
        )
        log_access(
            request=request, model=Family, object_ids=[], activity="outcome_statistics", personal_data=False
        )
        svg = achievement_chart(stats, "Goal achievement rate by field of action and quarter")
        return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
