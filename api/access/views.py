"""Deputies (absence cover) and break-the-glass emergency access."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
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
    EmergencyAccessRequestOutputSerializer,
    EmergencyAccessReviewInputSerializer,
)
from api.audit import ReadAuditMixin
from api.permissions import (
    CASE_WORK,
    CASE_WORK_OR_SUPERVISION,
    CASE_WORK_SUPERVISION_OR_DPO,
    SUPERVISION,
    ScopeMapPermission,
)
from casemgmt import policies
from casemgmt.models import Deputyship, EmergencyAccess, EmergencyAccessRequest, Role
from casemgmt.selectors.access import emergency_access_requests_for, emergency_openings_of_families_of
from casemgmt.selectors.families import families_openable_in_emergency_by
from casemgmt.services.access import (
    deputy_add,
    deputy_remove,
    emergency_access_end,
    emergency_access_open,
    emergency_access_request,
    emergency_access_request_approve,
    emergency_access_request_decline,
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
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK_OR_SUPERVISION}

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
            ends_at=serializer.validated_data.get("ends_at"),
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
    permission_classes = (ScopeMapPermission,)
    scope_map = {"create": CASE_WORK, "*": CASE_WORK_SUPERVISION_OR_DPO}

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


class EmergencyOpeningFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    # A choice, not BooleanFilter: that one silently ignores "maybe" instead of answering 400.
    active = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")), method="filter_active", help_text="Still running now."
    )

    class Meta:
        model = EmergencyAccess
        fields = ("family", "active")

    def filter_active(
        self, queryset: QuerySet[EmergencyAccess], name: str, value: str
    ) -> QuerySet[EmergencyAccess]:
        running = Q(ended_at__isnull=True, expires_at__gt=timezone.now())
        return queryset.filter(running) if value == "true" else queryset.exclude(running)


class EmergencyOpeningViewSet(ReadAuditMixin, mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Emergency openings of the families the caller answers for (assigned case manager, supervisor).

    A case manager learns here that a colleague broke the glass on one of their families,
    with the reason, and can ask their supervisor about it.
    """

    serializer_class = EmergencyAccessOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK_OR_SUPERVISION}
    filterset_class = EmergencyOpeningFilter

    def get_queryset(self) -> QuerySet[EmergencyAccess]:
        if not self.request.user.is_authenticated:  # schema generation
            return EmergencyAccess.objects.none()
        return emergency_openings_of_families_of(self.request.user)  # type: ignore[arg-type]


class EmergencyAccessRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EmergencyAccessRequest.Status.choices)

    class Meta:
        model = EmergencyAccessRequest
        fields = ("status",)


class EmergencyAccessRequestViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Reopening a family soon after one's emergency access to it ended: a supervisor approves first."""

    serializer_class = EmergencyAccessRequestOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {
        "create": CASE_WORK,
        "approve": SUPERVISION,
        "decline": SUPERVISION,
        "*": CASE_WORK_OR_SUPERVISION,
    }
    filterset_class = EmergencyAccessRequestFilter

    def get_queryset(self) -> QuerySet[EmergencyAccessRequest]:
        if not self.request.user.is_authenticated:  # schema generation
            return EmergencyAccessRequest.objects.none()
        return emergency_access_requests_for(self.request.user)  # type: ignore[arg-type]

    @extend_schema(
        request=EmergencyAccessInputSerializer, responses={201: EmergencyAccessRequestOutputSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EmergencyAccessInputSerializer(data=request.data)
        serializer.fields["family"].queryset = families_openable_in_emergency_by(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        access_request = emergency_access_request(
            family=serializer.validated_data["family"],
            acting_user=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        return Response(
            EmergencyAccessRequestOutputSerializer(access_request).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: EmergencyAccessRequestOutputSerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the request: the emergency access opens now, for the usual time."""
        decided = emergency_access_request_approve(request=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(EmergencyAccessRequestOutputSerializer(decided).data)

    @extend_schema(request=None, responses={200: EmergencyAccessRequestOutputSerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline the request: nothing opens."""
        decided = emergency_access_request_decline(request=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(EmergencyAccessRequestOutputSerializer(decided).data)
