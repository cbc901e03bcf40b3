"""The duplicate review list: possible duplicates found at person creation, for supervisors and DPOs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.permissions import SUPERVISION_OR_DPO, ScopeMapPermission
from api.serializers import StrictInputSerializer
from casemgmt.models import DuplicateReview
from casemgmt.selectors.persons import duplicate_reviews_for
from casemgmt.services.persons import duplicate_review_resolve


class DuplicateReviewOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A possible duplicate: person ids and family references only, never names."""

    person_family_reference = serializers.CharField(source="person.family.reference", read_only=True)
    candidate_family_reference = serializers.CharField(source="candidate.family.reference", read_only=True)

    class Meta:
        model = DuplicateReview
        fields = (
            "id",
            "organisation",
            "person",
            "person_family_reference",
            "candidate",
            "candidate_family_reference",
            "match",
            "status",
            "created_at",
            "reviewed_by",
            "reviewed_at",
        )
        read_only_fields = fields


class DuplicateReviewInputSerializer(StrictInputSerializer):
    """The reviewer's decision."""

    status = serializers.ChoiceField(
        choices=[DuplicateReview.Status.DUPLICATE.value, DuplicateReview.Status.NOT_DUPLICATE.value]
    )

    class Meta:
        model = DuplicateReview
        fields = ("status",)


class DuplicateReviewViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Possible duplicates in families the creating case manager could not see (no oracle for them)."""

    serializer_class = DuplicateReviewOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": SUPERVISION_OR_DPO}

    def get_queryset(self) -> QuerySet[DuplicateReview]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return DuplicateReview.objects.none()
        queryset = duplicate_reviews_for(user)  # type: ignore[arg-type]
        only_open = self.request.query_params.get("open")
        if only_open not in (None, "true", "false", "1", "0"):
            raise serializers.ValidationError({"open": ["Give true or false."]})
        if only_open in ("1", "true"):
            queryset = queryset.filter(status=DuplicateReview.Status.OPEN)
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("open", bool, description="true: only the ones not yet reviewed."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DuplicateReviewInputSerializer, responses={200: DuplicateReviewOutputSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Record whether the two persons are the same."""
        review = self.get_object()
        serializer = DuplicateReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = duplicate_review_resolve(
            review=review,
            acting_user=request.user,  # type: ignore[arg-type]
            status=serializer.validated_data["status"],
        )
        return Response(DuplicateReviewOutputSerializer(review).data)
