"""DPO endpoint: the record of processing activities (Art. 30)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import (
    PERIOD_FROM,
    PERIOD_TO,
    OwnFormatParameter,
    check_params,
    choice,
    period,
    report_responses,
)
from api.permissions import DPO, ScopeMapPermission
from api.serializers import StrictSerializer
from casemgmt import policies
from casemgmt.models import Organisation, Role
from privacy import observed, registry, rendering
from privacy.models import AuditEntry, RecordVersion

FORMATS = ("json", "csv", "html")


def controller_organisation(request: Request, raw: str | None) -> Organisation:
    """The organisation whose record is asked for: one of the DPO's, else 404."""
    orgs = Organisation.objects.filter(
        pk__in=policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]
    ).order_by(F("parent").asc(nulls_first=True), "name")
    if raw is None:
        first = orgs.first()
        if first is None:
            raise exceptions.NotFound()
        return first
    try:
        return orgs.get(pk=uuid.UUID(raw))
    except (ValueError, Organisation.DoesNotExist):
        raise exceptions.NotFound() from None


class RegistryView(OwnFormatParameter, APIView):
    """The Art. 30 record, generated from the running system, with observed figures for a period."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="json (default), csv or html"),
            OpenApiParameter("lang", str, enum=["en", "de"]),
            OpenApiParameter(
                "organisation",
                OpenApiTypes.UUID,
                description="The controller whose record to generate (one of the DPO's organisations; "
                "default: the DPO's top-level organisation).",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description=PERIOD_FROM),
            OpenApiParameter("to", OpenApiTypes.DATE, description=PERIOD_TO),
        ],
        responses=report_responses("text/csv", "text/html"),
    )
    def get(self, request: Request) -> Any:
        params = request.query_params
        check_params(params, {"format", "lang", "from", "to", "organisation"})
        fmt = choice(params, "format", FORMATS, "json")
        lang = choice(params, "lang", ("en", "de"), "en")
        start, end = period(params)
        orgs = policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]
        entries = AuditEntry.objects.filter(observed.audit_scope(orgs), observed.period_filter(start, end))
        ops = observed.operations(entries)
        used = observed.recipients_used(orgs, start, end)
        organisation = controller_organisation(request, params.get("organisation"))
        data = registry.record(lang, organisation=organisation)
        latest = RecordVersion.objects.filter(organisation=organisation).order_by("-number").first()
        # "Last changed": the latest stored version (POST …/registry/versions/ stores one when it changed).
        data["version"] = (
            {"number": latest.number, "last_changed": latest.created_at.isoformat(timespec="seconds")}
            if latest
            else None
        )
        for activity in data["activities"]:
            activity["observed"] = {
                "operations": ops.get(activity["code"], {}),
                "recipients_used": used.get(activity["code"], {}),
            }
        data["period"] = {"from": start.isoformat(), "to": end.isoformat()}
        data["generated"] = timezone.now().isoformat(timespec="seconds")
        if fmt == "csv":
            return rendering.registry_csv(data)
        if fmt == "html":
            return rendering.registry_html(data, lang)
        return Response(data)


class RecordVersionInputSerializer(StrictSerializer):
    organisation = serializers.UUIDField(
        required=False, help_text="default: the DPO's top-level organisation"
    )


class RecordVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    diff = serializers.ListField(
        child=serializers.DictField(), read_only=True, help_text="added / removed / changed items by path"
    )

    class Meta:
        model = RecordVersion
        fields = ("id", "organisation", "number", "created_at", "created_by", "diff")
        read_only_fields = fields


class RecordVersionsView(APIView):
    """The history of the record: GET lists the stored versions with their diffs, POST stores the
    current record as a new version when it changed (201) or answers the latest (200)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[OpenApiParameter("organisation", OpenApiTypes.UUID)],
        responses={200: RecordVersionSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        check_params(request.query_params, {"organisation"})
        organisation = controller_organisation(request, request.query_params.get("organisation"))
        versions = RecordVersion.objects.filter(organisation=organisation).order_by("-number")
        return Response(RecordVersionSerializer(versions, many=True).data)

    @extend_schema(
        request=RecordVersionInputSerializer,
        responses={200: RecordVersionSerializer, 201: RecordVersionSerializer},
    )
    def post(self, request: Request) -> Response:
        from privacy.controllers import record_version_save

        serializer = RecordVersionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data.get("organisation")
        organisation = controller_organisation(request, str(raw) if raw else None)
        version, created = record_version_save(organisation=organisation, acting_user=request.user)
        return Response(RecordVersionSerializer(version).data, status=201 if created else 200)
