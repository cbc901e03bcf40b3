"""The DPO's report of every grant of case access over a period (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import log_access
from api.params import OwnFormatParameter, check_params, choice, period
from api.permissions import DPO, ScopeMapPermission
from casemgmt import policies
from casemgmt.models import AccessGrant, Role
from casemgmt.selectors.access_grants import COLUMNS, access_grants_list

_ROW_FIELDS: dict[str, Any] = {
    "kind": serializers.ChoiceField(choices=["assignment", "deputy", "emergency_access"]),
    "granted_at": serializers.DateTimeField(),
    "grantee": serializers.UUIDField(),
    "grantee_username": serializers.CharField(),
    "granted_by": serializers.UUIDField(allow_null=True),
    "granted_by_username": serializers.CharField(allow_null=True),
    "family": serializers.UUIDField(allow_null=True),
    "family_reference": serializers.CharField(allow_null=True),
    "principal": serializers.UUIDField(allow_null=True),
    "principal_username": serializers.CharField(allow_null=True),
    "ends_at": serializers.DateTimeField(allow_null=True),
    "revoked_at": serializers.DateTimeField(allow_null=True),
    "revoked_by": serializers.UUIDField(allow_null=True),
    "organisation": serializers.UUIDField(),
}


class AccessGrantReportView(OwnFormatParameter, APIView):
    """Who was given access to which cases, by whom and when: assignments, deputies, emergencies."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (default: 1 January)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day (default: today)"),
        ],
        responses={
            (200, "application/json"): inline_serializer(
                "AccessGrantReport",
                {
                    "period": inline_serializer(
                        "AccessGrantPeriod", {"from": serializers.DateField(), "to": serializers.DateField()}
                    ),
                    "generated": serializers.DateTimeField(),
                    "grants": inline_serializer("AccessGrantRow", _ROW_FIELDS, many=True),
                },
            ),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request) -> Any:
        params = request.query_params
        check_params(params, {"format", "from", "to"})
        fmt = choice(params, "format", ("json", "csv"), "json")
        start, end = period(params)
        orgs = policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]
        rows = access_grants_list(organisation_ids=orgs, start=start, end=end)
        # Staff account data was read: the read is audited like any other.
        log_access(
            request=request,
            model=AccessGrant,
            object_ids=[row["grantee"] for row in rows],
            activity="account_management",
        )
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="access-grants.csv"'
            return response
        return Response(
            {
                "period": {"from": start.isoformat(), "to": end.isoformat()},
                "generated": timezone.now().isoformat(timespec="seconds"),
                "grants": rows,
            }
        )
