"""Referrals (/api/v1/referrals/) and their lifecycle transitions."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.casework.base import CaseChildViewSet
from api.casework.fields import (
    CatalogueCourseField,
    CatalogueProviderField,
    EditableGoalField,
    EditablePersonField,
)
from api.serializers import OutputModelSerializer, StrictInputSerializer, StrictSerializer, update_input
from casemgmt.models import Referral, ReferralTransition
from casemgmt.services.referrals import referral_create, referral_transition, referral_update


class ReferralInputSerializer(StrictInputSerializer):
    person = EditablePersonField()
    course = CatalogueCourseField(required=False, allow_null=True)
    provider = CatalogueProviderField(required=False, allow_null=True)
    goal = EditableGoalField(required=False, allow_null=True)

    class Meta:
        model = Referral
        fields = ("person", "course", "provider", "goal", "note")


ReferralUpdateInputSerializer = update_input(ReferralInputSerializer, "person", "course", "provider", "goal")


TRANSITIONS = Prefetch("transitions", queryset=ReferralTransition.objects.order_by("at", "id"))


class ReferralTransitionInputSerializer(StrictSerializer):
    to = serializers.ChoiceField(choices=Referral.Status.choices)


class ReferralTransitionSerializer(OutputModelSerializer):
    class Meta:
        model = ReferralTransition
        fields = ("from_status", "to_status", "at", "actor")
        read_only_fields = fields


class ReferralOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    transitions = ReferralTransitionSerializer(many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = (
            "id",
            "family",
            "person",
            "course",
            "provider",
            "goal",
            "status",
            "note",
            "allowed_transitions",
            "transitions",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_allowed_transitions(self, referral: Referral) -> list[str]:
        return list(referral.allowed_transitions())


class ReferralFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    person = django_filters.UUIDFilter(field_name="person_id")
    course = django_filters.UUIDFilter(field_name="course_id")
    goal = django_filters.UUIDFilter(field_name="goal_id")
    status = django_filters.MultipleChoiceFilter(choices=Referral.Status.choices)

    class Meta:
        model = Referral
        fields = ("family", "person", "course", "goal", "status")


class ReferralViewSet(CaseChildViewSet):
    """Referrals of family members to courses and providers (Vermittlungen)."""

    model = Referral
    serializer_class = ReferralOutputSerializer
    input_serializer_class = ReferralInputSerializer
    update_serializer_class = ReferralUpdateInputSerializer
    filterset_class = ReferralFilter
    write_actions = frozenset({"transition"})

    def base_queryset(self) -> QuerySet[Referral]:
        if self.action == "transition":
            # The service re-reads and locks the row; its history is read once, for the answer.
            return Referral.objects.all()
        return Referral.objects.prefetch_related(TRANSITIONS)

    @extend_schema(request=ReferralInputSerializer, responses={201: ReferralOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ReferralUpdateInputSerializer, responses={200: ReferralOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return referral_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return referral_update(referral=instance, acting_user=self.user, **data)  # type: ignore[arg-type]

    @extend_schema(request=ReferralTransitionInputSerializer, responses={200: ReferralOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the referral along its lifecycle; 409 with the allowed states if it cannot."""
        serializer = ReferralTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # No get_object(): the service fetches, authorises and locks the row in one statement
        # (policies.lock_case_record) and answers "not found" for a foreign or missing one.
        try:
            key = uuid.UUID(str(pk))
        except ValueError:
            raise Http404 from None
        referral = referral_transition(
            referral=Referral(pk=key), to=serializer.validated_data["to"], acting_user=self.user
        )
        prefetch_related_objects([referral], TRANSITIONS)
        return self.respond(referral, fresh=False)
