"""Case conferences (/api/v1/conferences/): participants under consent, minutes, decisions."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model, Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.casework.base import CaseChildViewSet
from api.casework.fields import EditableFamilyField, EditablePersonField, FieldOfActionField
from api.concurrency import ETagMixin
from api.serializers import (
    NOT_FOUND,
    OutputModelSerializer,
    StrictInputSerializer,
    StrictSerializer,
    update_input,
)
from casemgmt import policies
from casemgmt.models import Agency, CaseConference, ConferenceParticipant, Goal, Person, SharedCategory, User
from casemgmt.selectors.casework import not_restricted
from casemgmt.services.conferences import (
    conference_cancel,
    conference_create,
    conference_hold,
    conference_participant_add,
    conference_update,
)


class ParticipantInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ConferenceParticipant.Kind.choices)
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        error_messages={"does_not_exist": NOT_FOUND},
    )
    person = EditablePersonField(required=False)
    agency = serializers.ChoiceField(choices=Agency.choices, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    legal_basis = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ParticipantOutputSerializer(OutputModelSerializer):
    class Meta:
        model = ConferenceParticipant
        fields = (
            "id",
            "kind",
            "user",
            "person",
            "agency",
            "name",
            "role",
            "reason",
            "legal_basis",
            "consent",
        )
        read_only_fields = fields


class ConferenceInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()
    participants = ParticipantInputSerializer(many=True, required=False)
    agenda_members = EditablePersonField(
        many=True,
        required=False,
        help_text="Members whose data is on the agenda (of the same family; none named: the household).",
    )
    agenda_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=SharedCategory.choices),
        required=False,
        help_text="Kinds of data on the agenda (none named: every category).",
    )

    class Meta:
        model = CaseConference
        fields = (
            "family",
            "scheduled_at",
            "format",
            "agenda",
            "agenda_members",
            "agenda_categories",
            "participants",
        )
        validators: list[Any] = []


ConferenceUpdateInputSerializer = update_input(ConferenceInputSerializer, "family", "participants")


class DecisionInputSerializer(StrictSerializer):
    field_of_action = FieldOfActionField()
    person = EditablePersonField(required=False, allow_null=True)
    description = serializers.CharField(max_length=10_000)
    target_date = serializers.DateField(required=False, allow_null=True)


class ConferenceHoldInputSerializer(StrictSerializer):
    held_at = serializers.DateTimeField(required=False)
    minutes = serializers.CharField(max_length=50_000, required=False, allow_blank=True)
    decisions = DecisionInputSerializer(many=True, required=False)


class ConferenceOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    participants = ParticipantOutputSerializer(many=True, read_only=True)
    decided_goals: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(  # type: ignore[type-arg]
        many=True, read_only=True
    )
    agenda_members: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(  # type: ignore[type-arg]
        many=True, read_only=True, help_text="Members whose data is on the agenda (none: the household)."
    )
    agenda_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=SharedCategory.choices),
        read_only=True,
        help_text="Kinds of data on the agenda (none: every category).",
    )

    class Meta:
        model = CaseConference
        fields = (
            "id",
            "family",
            "scheduled_at",
            "held_at",
            "format",
            "status",
            "agenda",
            "agenda_members",
            "agenda_categories",
            "minutes",
            "participants",
            "decided_goals",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ConferenceFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    status = django_filters.ChoiceFilter(choices=CaseConference.Status.choices)
    scheduled_from = django_filters.IsoDateTimeFilter(field_name="scheduled_at", lookup_expr="gte")
    scheduled_to = django_filters.IsoDateTimeFilter(field_name="scheduled_at", lookup_expr="lte")

    class Meta:
        model = CaseConference
        fields = ("family", "status", "scheduled_from", "scheduled_to")


class ConferenceViewSet(ETagMixin, CaseChildViewSet):
    """Multi-agency case conferences (Fallkonferenzen)."""

    model = CaseConference
    serializer_class = ConferenceOutputSerializer
    input_serializer_class = ConferenceInputSerializer
    update_serializer_class = ConferenceUpdateInputSerializer
    filterset_class = ConferenceFilter
    write_actions = frozenset({"participants", "hold", "cancel"})

    def base_queryset(self) -> QuerySet[CaseConference]:
        # A restricted member's participation and the goals decided for them are left out.
        return CaseConference.objects.prefetch_related(
            Prefetch("participants", queryset=not_restricted(ConferenceParticipant.objects.all())),
            Prefetch("decided_goals", queryset=not_restricted(Goal.objects.all())),
            Prefetch(
                "agenda_members",
                queryset=Person.objects.exclude(pk__in=policies.restricted_person_ids()).only("id"),
            ),
        )

    @extend_schema(request=ConferenceInputSerializer, responses={201: ConferenceOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ConferenceUpdateInputSerializer, responses={200: ConferenceOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return conference_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return conference_update(conference=instance, acting_user=self.user, **data)  # type: ignore[arg-type]

    @extend_schema(request=ParticipantInputSerializer, responses={201: ParticipantOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def participants(self, request: Request, pk: str | None = None) -> Response:
        """Invite a participant; an external agency needs consents covering the agenda (else 409)."""
        conference = self.get_object()
        serializer = ParticipantInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        participant = conference_participant_add(
            conference=conference, acting_user=self.user, participant=dict(serializer.validated_data)
        )
        return Response(ParticipantOutputSerializer(participant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConferenceHoldInputSerializer, responses={200: ConferenceOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def hold(self, request: Request, pk: str | None = None) -> Response:
        """Record the conference as held, with minutes; decisions become goals in the same request."""
        conference = self.get_object()
        serializer = ConferenceHoldInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["decisions"] = [dict(d) for d in data.get("decisions", [])]
        conference = conference_hold(conference=conference, acting_user=self.user, **data)
        return self.respond(conference)

    @extend_schema(request=None, responses={200: ConferenceOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a planned conference."""
        return self.respond(conference_cancel(conference=self.get_object(), acting_user=self.user))
