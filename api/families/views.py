"""Family endpoints: thin wrappers around selectors and services."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.concurrency import ETagMixin
from api.families.serializers import (
    FamilyAssignInputSerializer,
    FamilyCloseInputSerializer,
    FamilyInputSerializer,
    FamilyOutputSerializer,
    FamilyOverviewSerializer,
    FamilyUpdateInputSerializer,
)
from api.filters import StrictBooleanFilter
from api.pagination import PageOrCursorPagination
from api.permissions import CASE_WORK, SUPERVISION, ScopeMapPermission, request_districts
from casemgmt import policies
from casemgmt.models import Family, Role
from casemgmt.selectors.families import (
    families_editable_by,
    families_supervised_by,
    families_visible_to,
    family_name_search,
)
from casemgmt.services.access import family_assign
from casemgmt.services.families import family_close, family_create, family_reopen, family_update


class FamilyFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        method="filter_name",
        max_length=200,
        help_text="Exact family name, matched through its blind index (umlaut and case variants match).",
    )
    status = django_filters.ChoiceFilter(choices=Family.Status.choices)

    class Meta:
        model = Family
        fields = ("name", "status")

    def filter_name(self, queryset: QuerySet[Family], name: str, value: str) -> QuerySet[Family]:
        districts = request_districts(self.request)
        return family_name_search(queryset, name=value, districts=districts)


class FamilyViewSet(
    ETagMixin,
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Families (household cases) of the caller's caseload."""

    serializer_class = FamilyOutputSerializer
    filterset_class = FamilyFilter
    pagination_class = PageOrCursorPagination
    permission_classes = (ScopeMapPermission,)
    scope_map = {"assign": SUPERVISION, "*": CASE_WORK}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Family]:
        user = self.request.user
        if self.action == "assign":
            return families_supervised_by(user)  # type: ignore[arg-type]
        if self.action in ("partial_update", "close", "reopen"):
            return families_editable_by(user)  # type: ignore[arg-type]
        return families_visible_to(user)  # type: ignore[arg-type]

    @extend_schema(request=FamilyInputSerializer, responses={201: FamilyOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FamilyInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation", None)
        if organisation is None:
            organisations = list(
                policies.organisations_with_role(request.user, Role.CASE_MANAGER)[:2]  # type: ignore[arg-type]
            )
            if not organisations:
                raise exceptions.PermissionDenied("Only case managers may open families.")
            if len(organisations) > 1:
                raise exceptions.ValidationError(
                    {
                        "organisation": [
                            exceptions.ErrorDetail(
                                "You work for several organisations: name one.", code="required"
                            )
                        ]
                    }
                )
            organisation = organisations[0]
        family = family_create(organisation=organisation, acting_user=request.user, **data)  # type: ignore[arg-type]
        return Response(FamilyOutputSerializer(family).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FamilyUpdateInputSerializer, responses={200: FamilyOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            self.check_if_match(request, kwargs.get("pk"))
            response = self._partial_update(request)
        return self.with_etag(response)

    def _partial_update(self, request: Request) -> Response:
        family = self.get_object()
        serializer = FamilyUpdateInputSerializer(
            family, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        family = family_update(family=family, acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(FamilyOutputSerializer(family).data)

    @extend_schema(request=FamilyAssignInputSerializer, responses={200: FamilyOverviewSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign or transfer the family to a case manager of its organisation (supervisors)."""
        family = self.get_object()
        serializer = FamilyAssignInputSerializer(data=request.data, context={"family": family})
        serializer.is_valid(raise_exception=True)
        family = family_assign(
            family=family,
            case_manager=serializer.validated_data["case_manager"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(FamilyOverviewSerializer(family).data)

    @extend_schema(request=FamilyCloseInputSerializer, responses={200: FamilyOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the case with its outcome; 409 listing the referrals still open."""
        family = self.get_object()
        serializer = FamilyCloseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = family_close(family=family, acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(FamilyOutputSerializer(family).data)

    @extend_schema(request=None, responses={200: FamilyOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Reopen a closed case (an explicit action, so closures stay deliberate)."""
        family = family_reopen(family=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(FamilyOutputSerializer(family).data)


class CaseOverviewFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Family.Status.choices)
    case_manager = django_filters.UUIDFilter(field_name="case_manager_id")
    unassigned = StrictBooleanFilter(field_name="case_manager", lookup_expr="isnull")
    organisation = django_filters.UUIDFilter(field_name="organisation_id")

    class Meta:
        model = Family
        fields = ("status", "case_manager", "unassigned", "organisation")


class CaseOverviewViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):  # type: ignore[type-arg]
    """Supervisors' case list: reference, status, case manager and dates; never names or notes."""

    serializer_class = FamilyOverviewSerializer
    filterset_class = CaseOverviewFilter
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION}

    def get_queryset(self) -> QuerySet[Family]:
        return families_supervised_by(self.request.user)  # type: ignore[arg-type]
