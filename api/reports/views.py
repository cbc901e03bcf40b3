"""The report to the Land (KIM reporting) and the indicator targets behind it: supervisors only."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
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
    report_responses,
)
from api.permissions import SUPERVISION, ScopeMapPermission
from api.serializers import NOT_FOUND, StrictInputSerializer
from casemgmt import policies
from casemgmt.models import Family, Organisation, ReportIndicator, Role
from casemgmt.selectors.land_report import land_report
from casemgmt.services.reporting import report_indicator_delete, report_indicator_set


def _metric(row: dict[str, Any]) -> str:
    return next(k for k in row if k != "group")


class LandReportView(OwnFormatParameter, APIView):
    """Cases, closures, goals and referrals by Rechtskreis and residence category: perturbed counts."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "organisation", OpenApiTypes.UUID, required=True, description="The reporting organisation"
            ),
            OpenApiParameter(
                "tree", bool, description="true: include the member towns (a district's report)"
            ),
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description=f"{PERIOD_FROM}; widened to its quarter's start"
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description=f"{PERIOD_TO}; widened to its quarter's end"
            ),
            OpenApiParameter("format", str, enum=["json", "csv", "html"]),
        ],
        responses=report_responses("text/csv", "text/html"),
    )
    def get(self, request: Request) -> Any:
        params = request.query_params
        check_params(params, {"organisation", "tree", "from", "to", "format"})
        fmt = choice(params, "format", ("json", "csv", "html"), "json")
        tree = choice(params, "tree", ("true", "false"), "false") == "true"
        start, end = period(params)
        organisation = _supervised_organisation(request, params.get("organisation"))
        report = land_report(organisation=organisation, tree=tree, start=start, end=end)
        log_access(
            request=request,
            model=Family,
            object_ids=[],
            activity="outcome_statistics",
            personal_data=False,
            organisation_id=organisation.pk,
        )
        if fmt == "csv":
            return self._csv(report)
        if fmt == "html":
            return self._html(report)
        return Response(report)

    def _csv(self, report: dict[str, Any]) -> HttpResponse:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["section", "dimension_1", "value_1", "dimension_2", "value_2", "metric", "value", "suppressed"]
        )
        for t in report["tables"]:
            dims = t["dimensions"]
            for row in t["rows"]:
                groups = [(d, row["group"][d]) for d in dims] + [("", "")] * (2 - len(dims))
                for metric, cell in row.items():
                    if metric == "group":
                        continue
                    value = "" if cell["value"] is None else cell["value"]
                    writer.writerow([t["section"], *groups[0], *groups[1], metric, value, cell["suppressed"]])
        for i in report["indicators"]:
            writer.writerow(["indicator", "code", i["code"], "target", i["target"] or "", "actual",
                             "" if i["actual"] is None else i["actual"], i["suppressed"]])  # fmt: skip
        writer.writerow([])
        writer.writerow([f"# {report['disclosure_control']['note']}"])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="kim-report-{report["period"]["from"]}.csv"'
        return response

    def _html(self, report: dict[str, Any]) -> HttpResponse:
        shaped = {
            **report,
            "tables": [
                {
                    **t,
                    "rows": [
                        {
                            "cells": [row["group"][d] for d in t["dimensions"]],
                            "value": row[_metric(row)]["value"],
                        }
                        for row in t["rows"]
                    ],
                }
                for t in report["tables"]
            ],
        }
        return HttpResponse(
            render_to_string("privacy/land_report.html", {"r": shaped}),
            content_type="text/html; charset=utf-8",
        )


def _supervised_organisation(request: Request, raw: str | None) -> Organisation:
    if not raw:
        raise exceptions.ValidationError({"organisation": ["This parameter is required."]})
    try:
        pk = uuid.UUID(raw)
    except ValueError:
        raise exceptions.ValidationError({"organisation": ["Not a valid UUID."]}) from None
    organisation = policies.organisations_with_role(request.user, Role.SUPERVISOR).filter(pk=pk).first()  # type: ignore[arg-type]
    if organisation is None:
        raise exceptions.NotFound(NOT_FOUND)
    return organisation


class ReportIndicatorSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ReportIndicator
        fields = ("id", "organisation", "year", "code", "target", "set_by", "updated_at")
        read_only_fields = fields


class ReportIndicatorInputSerializer(StrictInputSerializer):
    """A target value for a report figure; setting it again for the same year and code replaces it."""

    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = ReportIndicator
        fields = ("organisation", "year", "code", "target")
        validators: list[Any] = []  # the service replaces an existing target instead of refusing it


class ReportIndicatorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Indicator targets of the organisations the caller supervises (no personal data)."""

    serializer_class = ReportIndicatorSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION}

    def get_queryset(self) -> QuerySet[ReportIndicator]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return ReportIndicator.objects.none()
        return ReportIndicator.objects.filter(
            organisation_id__in=policies.organisation_ids_with_role(user, Role.SUPERVISOR)  # type: ignore[arg-type]
        ).order_by("organisation_id", "year", "code")

    @extend_schema(request=ReportIndicatorInputSerializer, responses={201: ReportIndicatorSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReportIndicatorInputSerializer(data=request.data)
        supervised = policies.organisations_with_role(request.user, Role.SUPERVISOR)  # type: ignore[arg-type]
        serializer.fields["organisation"].queryset = supervised  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        indicator = report_indicator_set(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(ReportIndicatorSerializer(indicator).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report_indicator_delete(indicator=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
