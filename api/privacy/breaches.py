"""DPO endpoint: the breach register (Art. 33(5)) and the affected persons of a breach window."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.params import check_params, choice
from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import dpo_organisations
from api.serializers import StrictSerializer
from casemgmt.models import Organisation
from privacy.classification import DataCategory
from privacy.models import Breach


class BreachInputSerializer(StrictSerializer):
    organisation = serializers.UUIDField()
    description = serializers.CharField(max_length=4000)
    occurred_from = serializers.DateTimeField()
    occurred_to = serializers.DateTimeField()
    discovered_at = serializers.DateTimeField()
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), default=list
    )
    approximate_persons = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    measures = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    notified_authority_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class BreachSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), read_only=True
    )

    class Meta:
        model = Breach
        fields = (
            "id",
            "organisation",
            "description",
            "occurred_from",
            "occurred_to",
            "discovered_at",
            "categories",
            "approximate_persons",
            "measures",
            "notified_authority_at",
            "recorded_at",
            "recorded_by",
        )
        read_only_fields = fields


class AffectedPersonSerializer(StrictSerializer):
    id = serializers.UUIDField()
    family_reference = serializers.CharField()


class AffectedCategorySerializer(StrictSerializer):
    code = serializers.ChoiceField(choices=DataCategory.choices)

    def get_fields(self) -> Any:
        fields = super().get_fields()
        fields["label"] = serializers.CharField()  # not a class attribute: it would shadow Field.label
        return fields


class WindowSerializer(StrictSerializer):
    to = serializers.CharField()

    def get_fields(self) -> Any:
        fields = super().get_fields()
        fields["from"] = serializers.CharField()
        return fields


class AffectedSerializer(StrictSerializer):
    breach = serializers.UUIDField()
    window = WindowSerializer()
    entries = serializers.IntegerField(help_text="Audit entries in the window that were examined")
    complete = serializers.BooleanField(help_text="false: the window held more entries than one export reads")
    persons = AffectedPersonSerializer(many=True)
    categories = AffectedCategorySerializer(many=True)


class BreachViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """The breach register of the DPO's organisations; for each breach, who and what was affected."""

    serializer_class = BreachSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    def get_queryset(self) -> QuerySet[Breach]:
        if not self.request.user.is_authenticated:
            return Breach.objects.none()
        return Breach.objects.filter(organisation_id__in=dpo_organisations(self.request))

    @extend_schema(request=BreachInputSerializer, responses={201: BreachSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from privacy.breaches import breach_record

        serializer = BreachInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        try:
            organisation = Organisation.objects.get(
                pk=uuid.UUID(str(data.pop("organisation"))), pk__in=dpo_organisations(request)
            )
        except Organisation.DoesNotExist:
            raise exceptions.NotFound() from None
        breach = breach_record(organisation=organisation, acting_user=request.user, **data)
        return Response(BreachSerializer(breach).data, status=201)

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, enum=["en", "de"])], responses={200: AffectedSerializer}
    )
    @action(detail=True, methods=["get"])
    def affected(self, request: Request, pk: str | None = None) -> Response:
        """Persons and data categories touched in the breach window, from the audit log (Art. 33/34)."""
        from api.audit import log_access
        from privacy.breaches import affected

        check_params(request.query_params, {"lang"})
        lang = choice(request.query_params, "lang", ("en", "de"), "en")
        breach = self.get_object()
        data = affected(breach, lang)
        from casemgmt.models import Person

        # Listing affected persons is itself a read of their data: on the trail, under its activity.
        log_access(
            request=request,
            model=Person,
            object_ids=[p["id"] for p in data["persons"]],
            activity="audit_logging",
            organisation_id=breach.organisation_id,
        )
        return Response(data)
