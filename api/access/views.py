"""Deputies (absence cover) and break-the-glass emergency access."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.access.serializers import (
    DeputyshipInputSerializer,
    DeputyshipOutputSerializer,
    EmergencyAccessInputSerializer,
    EmergencyAccessOutputSerializer,
    EmergencyAccessReviewInputSerializer,
)
from api.audit import ReadAuditMixin
from api.permissions import IsCaseManager, IsCaseManagerOrSupervisor, IsCaseManagerSupervisorOrDpo
from casemgmt import policies
from casemgmt.models import Deputyship, EmergencyAccess, Role
from casemgmt.selectors.families import families_openable_in_emergency_by
from casemgmt.services.access import (
    deputy_add,
    deputy_remove,
    emergency_access_end,
    emergency_access_open,
    emergency_access_review,
)


class DeputyshipViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Deputies: a case manager names colleagues who may open their caseload while they are away."""

    serializer_class = DeputyshipOutputSerializer
    permission_classes = (IsCaseManagerOrSupervisor,)

    def get_queryset(self) -> QuerySet[Deputyship]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return Deputyship.objects.none()
        supervised = policies.organisation_ids_with_role(user, Role.SUPERVISOR)  # type: ignore[arg-type]
        return Deputyship.objects.filter(
            Q(principal=user) | Q(deputy=user) | Q(organisation_id__in=supervised)
        ).order_by("-created_at")

    @extend_schema(request=DeputyshipInputSerializer, responses={201: DeputyshipOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DeputyshipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deputyship = deputy_add(
            principal=serializer.validated_data.get("principal", request.user),
            deputy=serializer.validated_data["deputy"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(DeputyshipOutputSerializer(deputyship).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deputy_remove(deputyship=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmergencyAccessViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Break the glass: time-limited access to an unassigned family, with a reason, for review."""

    serializer_class = EmergencyAccessOutputSerializer
    permission_classes = (IsCaseManagerSupervisorOrDpo,)

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsCaseManager()]
        return list(super().get_permissions())

    def get_queryset(self) -> QuerySet[EmergencyAccess]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return EmergencyAccess.objects.none()
        reviewers = policies.organisation_ids_with_role(user, Role.SUPERVISOR, Role.DPO)  # type: ignore[arg-type]
        queryset = EmergencyAccess.objects.filter(
            Q(user=user) | Q(family__organisation_id__in=reviewers)
        ).select_related("family")
        if self.request.query_params.get("unreviewed") in ("1", "true"):
            queryset = queryset.filter(reviewed_at__isnull=True)
        return queryset

    @extend_schema(request=EmergencyAccessInputSerializer, responses={201: EmergencyAccessOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EmergencyAccessInputSerializer(data=request.data)
        serializer.fields["family"].queryset = families_openable_in_emergency_by(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        access = emergency_access_open(
            family=serializer.validated_data["family"],
            acting_user=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        return Response(EmergencyAccessOutputSerializer(access).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: EmergencyAccessOutputSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the access before it expires."""
        access = emergency_access_end(access=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(EmergencyAccessOutputSerializer(access).data)

    @extend_schema(
        request=EmergencyAccessReviewInputSerializer, responses={200: EmergencyAccessOutputSerializer}
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Record the review of an emergency access (supervisor or DPO)."""
        access = self.get_object()
        serializer = EmergencyAccessReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        access = emergency_access_review(
            access=access,
            acting_user=request.user,  # type: ignore[arg-type]
            note=serializer.validated_data["note"],
        )
        return Response(EmergencyAccessOutputSerializer(access).data)
