"""Contacts (/api/v1/contacts/): home visits, office appointments, calls."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.casework.base import CaseChildViewSet
from api.casework.fields import EditableFamilyField, EditablePersonField
from api.serializers import StrictInputSerializer, update_input
from casemgmt.models import Contact
from casemgmt.services.contacts import contact_create, contact_update


class ContactInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()
    person = EditablePersonField(required=False, allow_null=True)

    class Meta:
        model = Contact
        fields = (
            "family",
            "person",
            "occurred_on",
            "kind",
            "initiated_by",
            "duration_minutes",
            "interpreter_used",
            "notes",
        )


ContactUpdateInputSerializer = update_input(ContactInputSerializer, "family")


class ContactOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Contact
        fields = (
            "id",
            "family",
            "person",
            "occurred_on",
            "kind",
            "initiated_by",
            "duration_minutes",
            "interpreter_used",
            "notes",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ContactFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    person = django_filters.UUIDFilter(field_name="person_id")
    kind = django_filters.ChoiceFilter(choices=Contact.Kind.choices)
    initiated_by = django_filters.ChoiceFilter(choices=Contact.InitiatedBy.choices)
    occurred_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")

    class Meta:
        model = Contact
        fields = ("family", "person", "kind", "initiated_by", "occurred_from", "occurred_to")


class ContactViewSet(CaseChildViewSet):
    """Contacts with families (Kontakte, Hausbesuche, Beratungen)."""

    model = Contact
    serializer_class = ContactOutputSerializer
    input_serializer_class = ContactInputSerializer
    update_serializer_class = ContactUpdateInputSerializer
    filterset_class = ContactFilter

    @extend_schema(request=ContactInputSerializer, responses={201: ContactOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ContactUpdateInputSerializer, responses={200: ContactOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return contact_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return contact_update(contact=instance, acting_user=self.user, **data)  # type: ignore[arg-type]
