"""Integration plans (/api/v1/plans/), their versions (/api/v1/plan-versions/), the supervisor's
approval list (/api/v1/plan-approvals/) and assessments (/api/v1/assessments/)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.casework.base import CaseChildViewSet
from api.casework.fields import (
    EditableFamilyField,
    EditablePersonField,
    FieldOfActionField,
    ScopedRelatedField,
)
from api.permissions import SUPERVISION, ScopeMapPermission
from api.serializers import StrictInputSerializer, update_input
from casemgmt.models import Assessment, IntegrationPlan, PlanVersion
from casemgmt.selectors.casework import case_records_for
from casemgmt.selectors.plans import plan_versions_for_approval
from casemgmt.services.plans import (
    assessment_create,
    assessment_update,
    plan_create,
    plan_update,
    plan_version_approve,
    plan_version_create,
    plan_version_record_agreement,
    plan_version_return,
    plan_version_submit,
    plan_version_update,
)

# --- plans


class PlanInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()

    class Meta:
        model = IntegrationPlan
        fields = ("family", "review_on")


PlanUpdateInputSerializer = update_input(PlanInputSerializer, "family")


class PlanOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = IntegrationPlan
        fields = ("id", "family", "review_on", "created_by", "created_at", "updated_at")
        read_only_fields = fields


class PlanFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")

    class Meta:
        model = IntegrationPlan
        fields = ("family",)


class PlanViewSet(CaseChildViewSet):
    """A family's integration plan (Integrationsplan): goals link to it, versions freeze it."""

    model = IntegrationPlan
    serializer_class = PlanOutputSerializer
    input_serializer_class = PlanInputSerializer
    update_serializer_class = PlanUpdateInputSerializer
    filterset_class = PlanFilter

    @extend_schema(request=PlanInputSerializer, responses={201: PlanOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PlanUpdateInputSerializer, responses={200: PlanOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return plan_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return plan_update(plan=instance, acting_user=self.user, **data)  # type: ignore[arg-type]


# --- versions


class EditablePlanVersionPlanField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        return IntegrationPlan.objects.select_related("family")

    def scope(self, queryset: Any, user: Any) -> Any:
        return case_records_for(user, queryset, change=True)


class PlanVersionInputSerializer(StrictInputSerializer):
    plan = EditablePlanVersionPlanField()

    class Meta:
        model = PlanVersion
        fields = ("plan", "summary")


PlanVersionUpdateInputSerializer = update_input(PlanVersionInputSerializer, "plan")


class AgreementInputSerializer(StrictInputSerializer):
    """The family's agreement to a version: the date and who agreed (a member or a representative)."""

    agreed_by_person = EditablePersonField(required=False, allow_null=True)

    class Meta:
        model = PlanVersion
        fields = ("agreed_on", "agreed_by_person", "agreed_by_representative")
        extra_kwargs = {"agreed_on": {"required": True, "allow_null": False}}


class PlanVersionOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    family = serializers.UUIDField(source="plan.family_id", read_only=True)
    goal_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)

    class Meta:
        model = PlanVersion
        fields = (
            "id",
            "plan",
            "family",
            "number",
            "status",
            "summary",
            "goal_ids",
            "submitted_at",
            "decided_by",
            "decided_at",
            "agreed_on",
            "agreed_by_person",
            "agreed_by_representative",
            "created_by",
            "created_at",
        )
        read_only_fields = fields


class PlanVersionFilter(django_filters.FilterSet):
    plan = django_filters.UUIDFilter(field_name="plan_id")
    family = django_filters.UUIDFilter(field_name="plan__family_id")
    status = django_filters.MultipleChoiceFilter(choices=PlanVersion.Status.choices)

    class Meta:
        model = PlanVersion
        fields = ("plan", "family", "status")


class PlanVersionViewSet(CaseChildViewSet):
    """Numbered versions of a plan: draft, submitted, approved or returned, and the family's agreement."""

    model = PlanVersion
    serializer_class = PlanVersionOutputSerializer
    input_serializer_class = PlanVersionInputSerializer
    update_serializer_class = PlanVersionUpdateInputSerializer
    filterset_class = PlanVersionFilter
    write_actions = frozenset({"submit", "agreement"})

    def base_queryset(self) -> QuerySet[PlanVersion]:
        return PlanVersion.objects.select_related("plan")

    @extend_schema(request=PlanVersionInputSerializer, responses={201: PlanVersionOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PlanVersionUpdateInputSerializer, responses={200: PlanVersionOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return plan_version_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return plan_version_update(version=instance, acting_user=self.user, **data)  # type: ignore[arg-type]

    @extend_schema(request=None, responses={200: PlanVersionOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit the version for the supervisor's approval (409 unless draft or returned)."""
        return self.respond(plan_version_submit(version=self.get_object(), acting_user=self.user))

    @extend_schema(request=AgreementInputSerializer, responses={200: PlanVersionOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def agreement(self, request: Request, pk: str | None = None) -> Response:
        """Record the family's agreement (the signed form is attached as a document)."""
        version = self.get_object()
        serializer = AgreementInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self.respond(
            plan_version_record_agreement(version=version, acting_user=self.user, **serializer.validated_data)
        )


# --- the supervisor's approval list: no names, no free text


class PlanApprovalOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A version as a supervisor sees it: the case's reference, number, status and goal counts."""

    family_reference = serializers.CharField(source="plan.family.reference", read_only=True)
    organisation = serializers.UUIDField(source="plan.family.organisation_id", read_only=True)
    case_manager = serializers.UUIDField(
        source="plan.family.case_manager_id", read_only=True, allow_null=True
    )
    goal_count = serializers.SerializerMethodField()

    class Meta:
        model = PlanVersion
        fields = (
            "id",
            "family_reference",
            "organisation",
            "case_manager",
            "number",
            "status",
            "goal_count",
            "submitted_at",
            "decided_by",
            "decided_at",
            "agreed_on",
        )
        read_only_fields = fields

    def get_goal_count(self, version: PlanVersion) -> int:
        return len(version.goal_ids or [])


class PlanApprovalFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PlanVersion.Status.choices)

    class Meta:
        model = PlanVersion
        fields = ("status",)


class PlanApprovalViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Plan versions of the supervisor's organisations (submitted by default): approve or return."""

    serializer_class = PlanApprovalOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION}
    filterset_class = PlanApprovalFilter

    def get_queryset(self) -> QuerySet[PlanVersion]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return PlanVersion.objects.none()
        return plan_versions_for_approval(user)  # type: ignore[arg-type]

    def _decided(self, version: PlanVersion) -> Response:
        fresh = self.get_queryset().get(pk=version.pk)
        return Response(PlanApprovalOutputSerializer(fresh).data)

    @extend_schema(request=None, responses={200: PlanApprovalOutputSerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a submitted version (409 unless submitted)."""
        version = plan_version_approve(version=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return self._decided(version)

    @extend_schema(request=None, responses={200: PlanApprovalOutputSerializer})
    @action(detail=True, methods=["post"], url_path="return", filterset_class=None, pagination_class=None)
    def return_for_changes(self, request: Request, pk: str | None = None) -> Response:
        """Return a submitted version to the case manager for changes (409 unless submitted)."""
        version = plan_version_return(version=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return self._decided(version)


# --- assessments


class AssessmentInputSerializer(StrictInputSerializer):
    family = EditableFamilyField()
    person = EditablePersonField(required=False, allow_null=True)
    field_of_action = FieldOfActionField()

    class Meta:
        model = Assessment
        fields = ("family", "person", "field_of_action", "kind", "assessed_on", "score", "notes")
        extra_kwargs = {"assessed_on": {"required": False}}


AssessmentUpdateInputSerializer = update_input(
    AssessmentInputSerializer, "family", "person", "field_of_action", "kind"
)


class AssessmentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    field_of_action_code = serializers.CharField(source="field_of_action.code", read_only=True)

    class Meta:
        model = Assessment
        fields = (
            "id",
            "family",
            "person",
            "field_of_action",
            "field_of_action_code",
            "kind",
            "assessed_on",
            "score",
            "notes",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class AssessmentFilter(django_filters.FilterSet):
    family = django_filters.UUIDFilter(field_name="family_id")
    person = django_filters.UUIDFilter(field_name="person_id")
    field_of_action = django_filters.UUIDFilter(field_name="field_of_action_id")
    kind = django_filters.ChoiceFilter(choices=Assessment.Kind.choices)

    class Meta:
        model = Assessment
        fields = ("family", "person", "field_of_action", "kind")


class AssessmentViewSet(CaseChildViewSet):
    """Assessments per field of action: a baseline at intake and follow-ups (scale 1-5)."""

    model = Assessment
    serializer_class = AssessmentOutputSerializer
    input_serializer_class = AssessmentInputSerializer
    update_serializer_class = AssessmentUpdateInputSerializer
    filterset_class = AssessmentFilter

    def base_queryset(self) -> QuerySet[Assessment]:
        return Assessment.objects.select_related("field_of_action")

    @extend_schema(request=AssessmentInputSerializer, responses={201: AssessmentOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=AssessmentUpdateInputSerializer, responses={200: AssessmentOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        return assessment_create(acting_user=self.user, **data)

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        return assessment_update(assessment=instance, acting_user=self.user, **data)  # type: ignore[arg-type]
