"""DPO endpoints for Art. 16 rectification, Art. 19 recipient notices and Art. 21 objections."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import dpo_organisations, subject_person
from api.serializers import StrictSerializer
from privacy.models import Objection, RecipientNotice, Rectification


class RectificationInputSerializer(StrictSerializer):
    field = serializers.ChoiceField(choices=Rectification.Field.choices)
    value = serializers.CharField(
        max_length=200, allow_blank=True, help_text="The correct value (dates as YYYY-MM-DD)."
    )
    reason = serializers.CharField(max_length=2000)


class RectificationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Rectification
        fields = ("id", "person", "field", "previous_value", "reason", "rectified_at", "rectified_by")
        read_only_fields = fields


class RectificationView(APIView):
    """Art. 16: correct a person's field (POST); the rectification trail with previous values (GET)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(responses={200: RectificationOutputSerializer(many=True)})
    def get(self, request: Request, person_id: str) -> Response:
        person = subject_person(request, person_id)
        rows = Rectification.objects.filter(person=person)
        return Response(RectificationOutputSerializer(rows, many=True).data)

    @extend_schema(request=RectificationInputSerializer, responses={201: RectificationOutputSerializer})
    def post(self, request: Request, person_id: str) -> Response:
        from privacy.rights import rectification_record

        person = subject_person(request, person_id)
        serializer = RectificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        value: Any = data["value"]
        if data["field"] == "date_of_birth":
            value = serializers.DateField().run_validation(value) if value else None
        rectification = rectification_record(
            person=person, field=data["field"], value=value, reason=data["reason"], acting_user=request.user
        )
        return Response(RectificationOutputSerializer(rectification).data, status=201)


class RecipientNoticeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = RecipientNotice
        fields = (
            "id",
            "person",
            "cause",
            "cause_id",
            "recipient_kind",
            "recipient_name",
            "received_via",
            "created_at",
            "informed_at",
            "informed_by",
        )
        read_only_fields = fields


class RecipientNoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Art. 19: recipients to inform after a rectification, erasure or restriction; mark each informed."""

    serializer_class = RecipientNoticeSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}
    filterset_fields = ("person", "cause")

    def get_queryset(self) -> QuerySet[RecipientNotice]:
        if not self.request.user.is_authenticated:
            return RecipientNotice.objects.none()
        return RecipientNotice.objects.filter(
            person__family__organisation_id__in=dpo_organisations(self.request)
        ).order_by("-created_at", "id")

    @extend_schema(request=None, responses={200: RecipientNoticeSerializer})
    @action(detail=True, methods=["post"])
    def informed(self, request: Request, pk: str | None = None) -> Response:
        from privacy.rights import recipient_notice_informed

        notice = recipient_notice_informed(notice=self.get_object(), acting_user=request.user)
        return Response(RecipientNoticeSerializer(notice).data)


class ObjectionInputSerializer(StrictSerializer):
    person = serializers.UUIDField()
    reason = serializers.CharField(max_length=2000)


class ObjectionDecisionInputSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=[Objection.Decision.UPHELD, Objection.Decision.REJECTED])
    reason = serializers.CharField(max_length=2000)


class ObjectionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Objection
        fields = (
            "id",
            "person",
            "reason",
            "received_at",
            "decision",
            "decision_reason",
            "decided_at",
            "decided_by",
        )
        read_only_fields = fields


class ObjectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Art. 21: objections to processing and the DPO's decision with its reason."""

    serializer_class = ObjectionSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}
    filterset_fields = ("person", "decision")

    def get_queryset(self) -> QuerySet[Objection]:
        if not self.request.user.is_authenticated:
            return Objection.objects.none()
        return Objection.objects.filter(person__family__organisation_id__in=dpo_organisations(self.request))

    @extend_schema(request=ObjectionInputSerializer, responses={201: ObjectionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from privacy.rights import objection_add

        serializer = ObjectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = subject_person(request, str(serializer.validated_data["person"]))
        objection = objection_add(
            person=person, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return Response(ObjectionSerializer(objection).data, status=201)

    @extend_schema(request=ObjectionDecisionInputSerializer, responses={200: ObjectionSerializer})
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        from privacy.rights import objection_decide

        objection = self.get_object()
        serializer = ObjectionDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        objection = objection_decide(
            objection=objection, acting_user=request.user, **serializer.validated_data
        )
        return Response(ObjectionSerializer(objection).data)
