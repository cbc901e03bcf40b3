"""Family endpoints: thin wrappers around selectors and services."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.families.serializers import FamilyInputSerializer, FamilyOutputSerializer
from casemgmt import policies
from casemgmt.models import Family
from casemgmt.selectors.families import families_visible_to, name_filter
from casemgmt.services.families import family_create, family_update


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
        return queryset.filter(name_filter(value))


class FamilyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Families (household cases) of the caller's caseload."""

    serializer_class = FamilyOutputSerializer
    filterset_class = FamilyFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Family]:
        return families_visible_to(self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=FamilyInputSerializer, responses={201: FamilyOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FamilyInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation", None)
        if organisation is None:
            organisations = list(policies.case_manager_organisations(request.user)[:2])  # type: ignore[arg-type]
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

    @extend_schema(request=FamilyInputSerializer, responses={200: FamilyOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        family = self.get_object()
        serializer = FamilyInputSerializer(
            family, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        family = family_update(family=family, acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(FamilyOutputSerializer(family).data)
