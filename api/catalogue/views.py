"""The catalogue: fields of action, providers and courses (read by all staff, edited by
administrators and supervisors of the owning organisation)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, Model, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import StrictBooleanFilter
from api.permissions import CATALOGUE_EDITING, STAFF, ScopeMapPermission
from api.serializers import NOT_FOUND, OutputModelSerializer, StrictInputSerializer, update_input
from api.viewsets import ServiceWriteMixin
from casemgmt import policies
from casemgmt.models import Course, FieldOfAction, Organisation, Provider, Referral
from casemgmt.services.catalogue import (
    course_create,
    course_update,
    field_of_action_create,
    field_of_action_update,
    provider_create,
    provider_update,
)


def editable_organisations(user: Any) -> QuerySet[Organisation]:
    return Organisation.objects.filter(id__in=policies.catalogue_editable_organisation_ids(user))


class CatalogueViewSet(
    ServiceWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Read for every staff member; writes for administrators and supervisors."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    permission_classes = (ScopeMapPermission,)
    scope_map = {"create": CATALOGUE_EDITING, "partial_update": CATALOGUE_EDITING, "*": STAFF}

    def visible_organisation_ids(self) -> Any:
        return policies.catalogue_visible_organisation_ids(self.request.user)  # type: ignore[arg-type]

    def editable_organisation_ids(self) -> Any:
        return policies.catalogue_editable_organisation_ids(self.request.user)  # type: ignore[arg-type]

    def organisation_ids(self) -> Any:
        """Changes reach only the caller's editable catalogue; reads the whole visible one."""
        if self.action == "partial_update":
            return self.editable_organisation_ids()
        return self.visible_organisation_ids()


# --- fields of action


class FieldOfActionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = FieldOfAction
        fields = ("id", "organisation", "code", "name", "name_de", "is_active")
        read_only_fields = fields


class FieldOfActionInputSerializer(StrictInputSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = FieldOfAction
        fields = ("organisation", "code", "name", "name_de", "is_active")
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "organisation" in self.fields:
            self.fields["organisation"].queryset = editable_organisations(request.user)  # type: ignore[attr-defined]


FieldOfActionUpdateInputSerializer = update_input(FieldOfActionInputSerializer, "organisation", "code")


class FieldOfActionViewSet(CatalogueViewSet):
    """Fields of action: the defaults and those an organisation added (Handlungsfelder)."""

    serializer_class = FieldOfActionSerializer
    input_serializer_class = FieldOfActionInputSerializer
    update_serializer_class = FieldOfActionUpdateInputSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[FieldOfAction]:
        if self.action == "partial_update":
            return FieldOfAction.objects.filter(organisation_id__in=self.editable_organisation_ids())
        return FieldOfAction.objects.filter(
            Q(organisation__isnull=True) | Q(organisation_id__in=self.visible_organisation_ids())
        )

    @extend_schema(request=FieldOfActionInputSerializer, responses={201: FieldOfActionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=FieldOfActionUpdateInputSerializer, responses={200: FieldOfActionSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        data.pop("is_active", None)  # a new field of action is active
        return field_of_action_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return field_of_action_update(field=instance, acting_user=self.user, **data)  # type: ignore[arg-type]


# --- providers


class ProviderSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Provider
        fields = ("id", "organisation", "name", "address", "phone", "created_at")
        read_only_fields = fields


class ProviderInputSerializer(StrictInputSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = Provider
        fields = ("organisation", "name", "address", "phone")
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "organisation" in self.fields:
            self.fields["organisation"].queryset = editable_organisations(request.user)  # type: ignore[attr-defined]


ProviderUpdateInputSerializer = update_input(ProviderInputSerializer, "organisation")


class ProviderViewSet(CatalogueViewSet):
    """Providers (Träger) of the district's catalogue."""

    serializer_class = ProviderSerializer
    input_serializer_class = ProviderInputSerializer
    update_serializer_class = ProviderUpdateInputSerializer
    filterset_fields = ("organisation",)

    def get_queryset(self) -> QuerySet[Provider]:
        return Provider.objects.filter(organisation_id__in=self.organisation_ids())

    @extend_schema(request=ProviderInputSerializer, responses={201: ProviderSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ProviderUpdateInputSerializer, responses={200: ProviderSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return provider_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return provider_update(provider=instance, acting_user=self.user, **data)  # type: ignore[arg-type]


# --- courses


class CourseSerializer(OutputModelSerializer):
    seats_taken = serializers.IntegerField(read_only=True)

    class Meta:
        model = Course
        fields = (
            "id",
            "provider",
            "organisation",
            "title",
            "course_type",
            "cefr_level",
            "starts_on",
            "ends_on",
            "place",
            "capacity",
            "seats_taken",
            "created_at",
        )
        read_only_fields = fields


class CourseInputSerializer(StrictInputSerializer):
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = Course
        fields = (
            "provider",
            "title",
            "course_type",
            "cefr_level",
            "starts_on",
            "ends_on",
            "place",
            "capacity",
        )
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "provider" in self.fields:
            self.fields["provider"].queryset = Provider.objects.filter(  # type: ignore[attr-defined]
                organisation_id__in=policies.catalogue_editable_organisation_ids(request.user)
            )


CourseUpdateInputSerializer = update_input(CourseInputSerializer, "provider")


class CourseFilter(django_filters.FilterSet):
    provider = django_filters.UUIDFilter(field_name="provider_id")
    course_type = django_filters.ChoiceFilter(choices=Course.Type.choices)
    cefr_level = django_filters.ChoiceFilter(choices=Course.CefrLevel.choices)
    starts_from = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    has_seats = StrictBooleanFilter(method="filter_has_seats")

    class Meta:
        model = Course
        fields = ("provider", "course_type", "cefr_level", "starts_from", "has_seats")

    def filter_has_seats(self, queryset: QuerySet[Course], name: str, value: bool | None) -> QuerySet[Course]:
        from django.db.models import F

        if value is None:
            return queryset
        condition = Q(seats_taken__lt=F("capacity"))
        return queryset.filter(condition) if value else queryset.exclude(condition)


class CourseViewSet(CatalogueViewSet):
    """Courses and offers with capacity and seats taken (Angebote, Integrationskurse)."""

    serializer_class = CourseSerializer
    input_serializer_class = CourseInputSerializer
    update_serializer_class = CourseUpdateInputSerializer
    filterset_class = CourseFilter

    def get_queryset(self) -> QuerySet[Course]:
        return (
            Course.objects.filter(organisation_id__in=self.organisation_ids())
            .annotate(seats_taken=Count("referrals", filter=Q(referrals__status__in=Referral.SEAT_STATUSES)))
            .order_by("starts_on", "title", "id")
        )

    @extend_schema(request=CourseInputSerializer, responses={201: CourseSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=CourseUpdateInputSerializer, responses={200: CourseSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return course_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return course_update(course=instance, acting_user=self.user, **data)  # type: ignore[arg-type]
