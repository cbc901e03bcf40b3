"""Consents to share (/api/v1/consents/): created and withdrawn, never deleted."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.casework.base import CaseChildViewSet
from api.casework.fields import EditableFamilyField, EditablePersonField
from api.filters import StrictBooleanFilter
from api.serializers import StrictInputSerializer, StrictSerializer
from casemgmt import policies
from casemgmt.models import Consent, Person, SharedCategory
from casemgmt.services.consents import consent_create, consent_withdraw, signed_form_attached, valid_on


class ConsentInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()
    person = EditablePersonField(required=False, allow_null=True)
    members = EditablePersonField(
        many=True,
        required=False,
        allow_empty=False,
        help_text="Members whose data the consent covers (of the same family). Default: the member who "
        "gave it; given by the legal representative: every member of the household.",
    )
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=SharedCategory.choices),
        required=False,
        allow_empty=False,
        help_text="Kinds of data it covers. Default: all.",
    )

    class Meta:
        model = Consent
        fields = (
            "family",
            "person",
            "given_by_representative",
            "recipient",
            "recipient_name",
            "purpose",
            "given_on",
            "valid_until",
            "members",
            "data_categories",
        )


class ConsentWithdrawInputSerializer(StrictSerializer):
    withdrawn_on = serializers.DateField(required=False)


class ConsentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    valid_today = serializers.SerializerMethodField()
    members: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(  # type: ignore[type-arg]
        many=True, read_only=True, help_text="Members whose data the consent covers."
    )
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=SharedCategory.choices),
        read_only=True,
        help_text="Kinds of data it covers.",
    )
    has_signed_form = serializers.SerializerMethodField(
        help_text="Whether the signed form is attached (a document with target_kind consent)."
    )

    class Meta:
        model = Consent
        fields = (
            "id",
            "family",
            "person",
            "given_by_representative",
            "recipient",
            "recipient_name",
            "purpose",
            "given_on",
            "valid_until",
            "withdrawn_on",
            "valid_today",
            "members",
            "data_categories",
            "has_signed_form",
            "created_at",
        )
        read_only_fields = fields

    def get_valid_today(self, consent: Consent) -> bool:
        return consent.covers(timezone.localdate())

    def get_has_signed_form(self, consent: Consent) -> bool:
        annotated = getattr(consent, "has_signed_form", None)
        if annotated is None:
            return bool(Consent.objects.filter(signed_form_attached(), pk=consent.pk).exists())
        return bool(annotated)


class ConsentFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    person = django_filters.UUIDFilter(field_name="person_id")
    member = django_filters.UUIDFilter(
        field_name="members", help_text="Consents covering this member's data."
    )
    recipient = django_filters.ChoiceFilter(choices=Consent._meta.get_field("recipient").choices)
    valid = StrictBooleanFilter(method="filter_valid", help_text="Valid today.")

    class Meta:
        model = Consent
        fields = ("family", "person", "member", "recipient", "valid")

    def filter_valid(self, queryset: QuerySet[Consent], name: str, value: bool | None) -> QuerySet[Consent]:
        if value is None:
            return queryset
        condition = valid_on(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ConsentViewSet(CaseChildViewSet):
    """Consents of a family to share with agencies (Schweigepflichtentbindungen)."""

    model = Consent
    serializer_class = ConsentOutputSerializer
    input_serializer_class = ConsentInputSerializer
    filterset_class = ConsentFilter
    http_method_names = ["get", "post", "head", "options"]
    write_actions = frozenset({"withdraw"})

    def base_queryset(self) -> QuerySet[Consent]:
        # Members' ids in one query for the page (a restricted member left out, as everywhere);
        # whether the signed form is attached inside the rows' query.
        members = Person.objects.exclude(pk__in=policies.restricted_person_ids()).only("id")
        return Consent.objects.annotate(has_signed_form=signed_form_attached()).prefetch_related(
            Prefetch("members", queryset=members)
        )

    @extend_schema(request=ConsentInputSerializer, responses={201: ConsentOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return consent_create(acting_user=self.user, **data)

    @extend_schema(request=ConsentWithdrawInputSerializer, responses={200: ConsentOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw the consent; sharing with that agency stops, the record stays."""
        consent = self.get_object()
        serializer = ConsentWithdrawInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = consent_withdraw(consent=consent, acting_user=self.user, **serializer.validated_data)
        return self.respond(consent)
