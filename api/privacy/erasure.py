"""DPO endpoint: erasure requests (Art. 17)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import dpo_organisations, subject_family, subject_person
from api.serializers import StrictSerializer


class ErasureRequestInputSerializer(StrictSerializer):
    person = serializers.UUIDField(required=False)
    family = serializers.UUIDField(required=False)
    dry_run = serializers.BooleanField(default=True, help_text="Defaults to true: say false to erase.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("person" in attrs) == ("family" in attrs):
            raise serializers.ValidationError(
                {"person": [serializers.ErrorDetail("Name either a person or a family.", code="required")]}
            )
        return attrs


class ErasureRequestSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        from privacy.models import ErasureRequest

        model = ErasureRequest
        fields = (
            "id",
            "subject_type",
            "subject_id",
            "requested_by",
            "requested_at",
            "outcome",
            "refusal_code",
            "summary",
        )
        read_only_fields = fields


class ErasureRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Erasure requests (Art. 17): dry run first, then execute; refusals are recorded with their reason."""

    serializer_class = ErasureRequestSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    def get_queryset(self) -> Any:
        from privacy.models import ErasureRequest

        if not self.request.user.is_authenticated:
            return ErasureRequest.objects.none()
        return ErasureRequest.objects.filter(organisation_id__in=dpo_organisations(self.request))

    @extend_schema(
        request=ErasureRequestInputSerializer,
        responses={200: ErasureRequestSerializer, 201: ErasureRequestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from privacy.rights import erasure_request

        serializer = ErasureRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "person" in data:
            subject, subject_type = subject_person(request, str(data["person"])), "person"
        else:
            subject, subject_type = subject_family(request, str(data["family"])), "family"
        record, _summary = erasure_request(
            subject=subject, subject_type=subject_type, dry_run=data["dry_run"], acting_user=request.user
        )
        body = ErasureRequestSerializer(record).data
        if record.outcome == "refused":
            return Response(
                {"code": record.refusal_code, "detail": record.summary["reason"], "request": body}, status=409
            )
        return Response(body, status=201 if record.outcome == "executed" else 200)
