"""Person endpoints."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.concurrency import ETagMixin
from api.pagination import KnownCount
from api.permissions import CASE_WORK, ScopeMapPermission, request_districts
from api.persons.serializers import PersonCreatedSerializer, PersonInputSerializer, PersonOutputSerializer
from casemgmt.models import Person
from casemgmt.selectors.persons import (
    person_search,
    persons_editable_by,
    persons_visible_to,
)
from casemgmt.services.persons import person_create, person_possible_duplicates, person_update


class PersonFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    name = django_filters.CharFilter(
        method="filter_name",
        max_length=200,
        help_text="Any parts of the given and family names, in any order (each part must match; "
        "umlaut, ß and case variants match). Exact matches come first, then possible matches "
        "that sound alike (Kölner Phonetik); see the `match` field.",
    )
    date_of_birth = django_filters.DateFilter(
        method="filter_date_of_birth", help_text="Exact date, YYYY-MM-DD."
    )

    class Meta:
        model = Person
        fields = ("family", "name", "date_of_birth")

    def filter_name(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        return queryset  # applied together with the date of birth in filter_queryset

    def filter_date_of_birth(
        self, queryset: QuerySet[Person], name: str, value: datetime.date
    ) -> QuerySet[Person]:
        return queryset  # applied together with the name in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        queryset = super().filter_queryset(queryset)
        name = self.form.cleaned_data.get("name") or None
        date_of_birth = self.form.cleaned_data.get("date_of_birth")
        if name is None and date_of_birth is None:
            return queryset
        found = person_search(
            queryset,
            districts=request_districts(self.request),
            name=name,
            date_of_birth=date_of_birth,
            whole_rows=True,
        )
        # The matches are known and loaded here: the page needs no COUNT(*) and no other SELECT.
        return KnownCount(found.ranked_rows(), len(found.exact) + len(found.possible), model=Person)  # type: ignore[return-value]


class PersonViewSet(
    ETagMixin,
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Members of the families in the caller's caseload."""

    serializer_class = PersonOutputSerializer
    filterset_class = PersonFilter
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Person]:
        if self.action == "partial_update":
            return persons_editable_by(self.request.user).select_related("family")  # type: ignore[arg-type]
        return persons_visible_to(self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=PersonInputSerializer, responses={201: PersonCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PersonInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        person = person_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        body = dict(PersonOutputSerializer(person).data)
        body["warnings"] = person_possible_duplicates(person=person, acting_user=request.user)  # type: ignore[arg-type]
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonInputSerializer, responses={200: PersonOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            self.check_if_match(request, kwargs.get("pk"))
            response = self._partial_update(request)
        return self.with_etag(response)

    def _partial_update(self, request: Request) -> Response:
        person = self.get_object()
        serializer = PersonInputSerializer(
            person, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        person = person_update(person=person, acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(PersonOutputSerializer(person).data)
