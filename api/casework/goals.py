"""Goals (/api/v1/goals/) and their reviews (/api/v1/goals/{id}/reviews/)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.casework.base import CaseChildViewSet
from api.casework.fields import (
    EditableFamilyField,
    EditablePersonField,
    EditablePlanField,
    FieldOfActionField,
)
from api.concurrency import ETagMixin
from api.filters import StrictBooleanFilter
from api.serializers import StrictInputSerializer, update_input
from casemgmt.models import Goal, GoalReview
from casemgmt.services.goals import goal_create, goal_review_add, goal_update


class GoalInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()
    person = EditablePersonField(required=False, allow_null=True)
    field_of_action = FieldOfActionField()
    plan = EditablePlanField(required=False, allow_null=True)

    class Meta:
        model = Goal
        fields = ("family", "person", "field_of_action", "description", "agreed_on", "target_date", "plan")
        extra_kwargs = {"agreed_on": {"required": False}}


GoalUpdateInputSerializer = update_input(GoalInputSerializer, "family", "agreed_on")


class GoalReviewSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = GoalReview
        fields = ("id", "reviewed_on", "note", "status", "created_by", "created_at")
        read_only_fields = fields


class GoalReviewInputSerializer(StrictInputSerializer):
    class Meta:
        model = GoalReview
        fields = ("reviewed_on", "note", "status")
        extra_kwargs = {"reviewed_on": {"required": False}}


class GoalOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    field_of_action_code = serializers.CharField(source="field_of_action.code", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = (
            "id",
            "family",
            "person",
            "field_of_action",
            "field_of_action_code",
            "description",
            "agreed_on",
            "target_date",
            "status",
            "achieved_at",
            "overdue",
            "conference",
            "plan",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_overdue(self, goal: Goal) -> bool:
        return bool(
            goal.target_date and goal.status in Goal.OPEN_STATUSES and goal.target_date < timezone.localdate()
        )


class GoalFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    person = django_filters.UUIDFilter(field_name="person_id")
    # The id, as in the goal's body (`field_of_action`); the code has its own parameter.
    field_of_action = django_filters.UUIDFilter(field_name="field_of_action_id")
    field_of_action_code = django_filters.CharFilter(
        field_name="field_of_action__code",
        max_length=40,
        help_text="e.g. language (the goal's `field_of_action_code`)",
    )
    status = django_filters.MultipleChoiceFilter(choices=Goal.Status.choices)
    overdue = StrictBooleanFilter(method="filter_overdue")

    class Meta:
        model = Goal
        fields = ("family", "person", "field_of_action", "field_of_action_code", "status", "overdue")

    def filter_overdue(self, queryset: QuerySet[Goal], name: str, value: bool | None) -> QuerySet[Goal]:
        condition = Q(target_date__lt=timezone.localdate(), status__in=Goal.OPEN_STATUSES)
        if value is None:
            return queryset
        return queryset.filter(condition) if value else queryset.exclude(condition)


class GoalViewSet(ETagMixin, CaseChildViewSet):
    """Goals agreed with families and their members (Zielvereinbarungen)."""

    model = Goal
    serializer_class = GoalOutputSerializer
    input_serializer_class = GoalInputSerializer
    update_serializer_class = GoalUpdateInputSerializer
    filterset_class = GoalFilter
    read_back_after_create = False  # a new goal has nothing related beyond what the service loaded

    def base_queryset(self) -> QuerySet[Goal]:
        return Goal.objects.select_related("field_of_action")

    def get_audit_model(self) -> type[Model]:
        return GoalReview if self.action == "reviews" else Goal

    def is_write(self) -> bool:
        return super().is_write() or (self.action == "reviews" and self.request.method == "POST")

    @extend_schema(request=GoalInputSerializer, responses={201: GoalOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=GoalUpdateInputSerializer, responses={200: GoalOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return goal_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return goal_update(goal=instance, acting_user=self.user, **data)  # type: ignore[arg-type]

    @extend_schema(
        methods=["GET"],
        responses={200: GoalReviewSerializer(many=True)},
        filters=False,
    )
    @extend_schema(methods=["POST"], request=GoalReviewInputSerializer, responses={201: GoalReviewSerializer})
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        """The goal's reviews (GET), or add one (POST): the goal takes the review's status."""
        goal = self.get_object()
        if request.method == "GET":
            return Response(GoalReviewSerializer(goal.reviews.all(), many=True).data)
        serializer = GoalReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = goal_review_add(goal=goal, acting_user=self.user, **serializer.validated_data)
        return Response(GoalReviewSerializer(review).data, status=status.HTTP_201_CREATED)
