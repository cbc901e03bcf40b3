"""The caseload dashboard: deadlines due or overdue (/api/v1/dashboard/) and, for supervisors,
the counts per case manager without personal data (/api/v1/dashboard/caseloads/)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import ReadAuditMixin
from api.params import check_params
from api.permissions import CASE_WORK, SUPERVISION, ScopeMapPermission
from casemgmt.models import Family
from casemgmt.selectors.deadlines import (
    KINDS,
    deadline_counts_per_case_manager,
    deadline_summary,
    horizon_end,
)

MAX_WITHIN_DAYS = 365
DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class DashboardParamsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    within = serializers.IntegerField(min_value=0, max_value=MAX_WITHIN_DAYS, required=False)
    kind = serializers.ListField(child=serializers.ChoiceField(choices=KINDS), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)


def _params(request: Request, allowed: set[str]) -> dict[str, Any]:
    check_params(request.query_params, allowed)
    data: dict[str, Any] = {}
    for name in ("within", "limit"):
        if name in allowed and name in request.query_params:
            data[name] = request.query_params[name]
    if "kind" in allowed and "kind" in request.query_params:
        data["kind"] = request.query_params.getlist("kind")
    serializer = DashboardParamsSerializer(data=data)
    if not serializer.is_valid():
        raise exceptions.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


COUNT = inline_serializer(
    "DeadlineCount", {"due": serializers.IntegerField(), "overdue": serializers.IntegerField()}
)
BY_KIND = inline_serializer("DeadlineCountsByKind", {kind: COUNT for kind in KINDS})
BY_KIND_WITHOUT_RESIDENCE = inline_serializer(
    "CaseloadCountsByKind", {kind: COUNT for kind in KINDS if kind != "residence_expiry"}
)

DASHBOARD_RESPONSE = inline_serializer(
    "CaseloadDashboard",
    {
        "today": serializers.DateField(),
        "until": serializers.DateField(),
        "counts": inline_serializer(
            "DashboardCounts",
            {"by_kind": BY_KIND, "due": serializers.IntegerField(), "overdue": serializers.IntegerField()},
        ),
        "items": inline_serializer(
            "Deadline",
            {
                "kind": serializers.ChoiceField(choices=KINDS),
                "due_on": serializers.DateField(),
                "overdue": serializers.BooleanField(),
                "object": serializers.UUIDField(
                    help_text="the goal, plan, conference, consent, referral, "
                    "person (residence) or family (dormant case) the deadline belongs to"
                ),
                "family": serializers.UUIDField(),
                "family_reference": serializers.CharField(),
                "person": serializers.UUIDField(allow_null=True),
            },
            many=True,
        ),
    },
)

CASELOADS_RESPONSE = inline_serializer(
    "CaseloadCounts",
    {
        "today": serializers.DateField(),
        "until": serializers.DateField(),
        "case_managers": inline_serializer(
            "CaseManagerDeadlineCounts",
            {
                "case_manager": serializers.UUIDField(allow_null=True),
                "username": serializers.CharField(allow_null=True),
                "by_kind": BY_KIND_WITHOUT_RESIDENCE,
                "due": serializers.IntegerField(),
                "overdue": serializers.IntegerField(),
            },
            many=True,
        ),
    },
)

WITHIN = OpenApiParameter(
    "within",
    int,
    description=f"horizon in days from today (0-{MAX_WITHIN_DAYS}; default DEADLINE_HORIZON_DAYS, 14)",
)


class DashboardView(ReadAuditMixin, APIView):
    """What is due or overdue in the caller's families, soonest first, with counts per kind."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK}

    @extend_schema(
        parameters=[
            WITHIN,
            OpenApiParameter(
                "kind", str, many=True, enum=list(KINDS), description="only these kinds (repeatable)"
            ),
            OpenApiParameter(
                "limit",
                int,
                description=f"at most this many items, soonest first (1-{MAX_LIMIT}, "
                f"default {DEFAULT_LIMIT}); the counts always cover everything",
            ),
        ],
        responses={200: DASHBOARD_RESPONSE},
    )
    def get(self, request: Request) -> Response:
        params = _params(request, {"within", "kind", "limit"})
        today = timezone.localdate()
        items, counts = deadline_summary(
            request.user,  # type: ignore[arg-type]
            today=today,
            within_days=params.get("within"),
            kinds=params.get("kind") or KINDS,
            limit=params.get("limit", DEFAULT_LIMIT),
        )
        # Deadlines name families (by reference) and members (by id): a read of case data.
        self.record_read(
            model=Family, object_ids=sorted({i["family"] for i in items}), activity="case_management"
        )
        return Response(
            {
                "today": today,
                "until": horizon_end(today, params.get("within")),
                "counts": counts,
                "items": items,
            }
        )


class CaseloadCountsView(ReadAuditMixin, APIView):
    """For supervisors: per case manager of their organisations, deadlines due and overdue (counts only)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION}

    @extend_schema(parameters=[WITHIN], responses={200: CASELOADS_RESPONSE})
    def get(self, request: Request) -> Response:
        params = _params(request, {"within"})
        today = timezone.localdate()
        rows = deadline_counts_per_case_manager(
            request.user,  # type: ignore[arg-type]
            today=today,
            within_days=params.get("within"),
        )
        self.record_read(model=Family, object_ids=[], activity="case_management", personal_data=False)
        return Response(
            {"today": today, "until": horizon_end(today, params.get("within")), "case_managers": rows}
        )
