"""Anonymised outcome statistics: JSON, CSV and an SVG chart, for supervisors (and case
managers for their own caseload only)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import OwnFormatParameter, check_params, choice, period
from api.permissions import IsCaseManagerOrSupervisor
from api.stats.charts import achievement_chart
from casemgmt import policies
from casemgmt.models import Family, Role
from casemgmt.selectors.families import families_visible_to
from casemgmt.selectors.stats import GROUP_KEYS, outcome_statistics
from privacy.audit import log_access

PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="start (widened to the start of its quarter)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="end (widened to the end of its quarter)"),
    OpenApiParameter("group_by", str, description=f"one or two of {', '.join(GROUP_KEYS)}, comma-separated"),
]


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
    """Goals, referrals, case openings and closures, contacts and conferences, with small cells withheld."""

    permission_classes = (IsCaseManagerOrSupervisor,)

    @extend_schema(
        parameters=[*PARAMS, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: OpenApiTypes.OBJECT},
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
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="outcomes-{"-".join(group_by) or "total"}.csv"'
        )
        return response


class OutcomeChartView(OwnFormatParameter, APIView):
    """An SVG chart for reports: achievement rate by field of action per quarter."""

    permission_classes = (IsCaseManagerOrSupervisor,)

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
