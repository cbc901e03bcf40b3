"""DPO endpoints about one data subject: Art. 15 export, Art. 18 restriction, legal hold."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import OwnFormatParameter, check_params, choice, report_responses
from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import subject_family, subject_person
from api.serializers import StrictSerializer
from privacy import rendering


class SubjectExportView(OwnFormatParameter, APIView):
    """Art. 15 export of everything held on a person (JSON or a readable HTML document)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "html"]),
            OpenApiParameter("lang", str, enum=["en", "de"]),
            OpenApiParameter(
                "redact",
                str,
                enum=["true", "false"],
                description="true: the copy for the person (Art. 15(3)/(4)); household-level free text, "
                "which may concern other members, is replaced by a marker.",
            ),
        ],
        responses=report_responses("text/html"),
    )
    def get(self, request: Request, person_id: str) -> Any:
        from api.audit import log_access
        from privacy.exports import subject_export

        check_params(request.query_params, {"format", "lang", "redact"})
        fmt = choice(request.query_params, "format", ("json", "html"), "json")
        lang = choice(request.query_params, "lang", ("en", "de"), "en")
        person = subject_person(request, person_id)
        redact = choice(request.query_params, "redact", ("true", "false"), "false") == "true"
        data = subject_export(person, lang, redact=redact)
        from casemgmt.models import Person

        log_access(
            request=request,
            model=Person,
            object_ids=[person.pk],
            activity="data_subject_rights",
            organisation_id=person.family.organisation_id,
        )
        if fmt == "html":
            return rendering.subject_export_html(data, lang)
        return Response(data)


class ReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class RestrictionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    person = serializers.UUIDField(source="person_id")
    restricted_at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)


class RestrictionView(APIView):
    """Restrict processing of a person (POST) or lift the restriction (DELETE)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(request=ReasonInputSerializer, responses={201: RestrictionOutputSerializer})
    def post(self, request: Request, person_id: str) -> Response:
        from privacy.rights import restriction_add

        person = subject_person(request, person_id)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        restriction = restriction_add(
            person=person, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return Response(RestrictionOutputSerializer(restriction).data, status=201)

    @extend_schema(request=None, responses={200: RestrictionOutputSerializer})
    def delete(self, request: Request, person_id: str) -> Response:
        from privacy.rights import restriction_lift

        restriction = restriction_lift(person=subject_person(request, person_id), acting_user=request.user)
        return Response(RestrictionOutputSerializer(restriction).data)


class LegalHoldInputSerializer(StrictSerializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class LegalHoldOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    family = serializers.UUIDField(source="pk")
    reference = serializers.CharField()
    legal_hold_until = serializers.DateField(allow_null=True)


class LegalHoldView(APIView):
    """Set (POST) or clear (DELETE) a legal hold that keeps a family from erasure and retention."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(request=LegalHoldInputSerializer, responses={200: LegalHoldOutputSerializer})
    def post(self, request: Request, family_id: str) -> Response:
        from privacy.rights import legal_hold_set

        family = subject_family(request, family_id)
        serializer = LegalHoldInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = legal_hold_set(family=family, acting_user=request.user, **serializer.validated_data)
        return Response(LegalHoldOutputSerializer(family).data)

    @extend_schema(request=None, responses={200: LegalHoldOutputSerializer})
    def delete(self, request: Request, family_id: str) -> Response:
        from privacy.rights import legal_hold_clear

        family = legal_hold_clear(family=subject_family(request, family_id), acting_user=request.user)
        return Response(LegalHoldOutputSerializer(family).data)
