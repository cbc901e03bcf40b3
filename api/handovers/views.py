"""Case handover inside a district tree: offer (case manager), accept or decline (receiving supervisor)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.permissions import CASE_WORK, CASE_WORK_OR_SUPERVISION, SUPERVISION, ScopeMapPermission
from api.serializers import NOT_FOUND, StrictSerializer
from casemgmt import policies
from casemgmt.models import Consent, Family, Handover, Organisation, Role, User
from casemgmt.models.handover import HANDOVER_NOTE_MAX_LENGTH
from casemgmt.selectors.families import families_editable_by
from casemgmt.selectors.handovers import CASE, RECEIVER, SENDER, handovers_for
from casemgmt.services.handovers import handover_accept, handover_decline, handover_offer, handover_withdraw

#: What each side of an offer reads; every other field is sent as null.
VISIBLE = {
    CASE: None,  # everything
    SENDER: frozenset(
        {
            "id", "side", "family", "from_organisation", "to_organisation", "status", "reason",
            "legal_basis", "household_size", "offered_by", "created_at", "expires_at",
            "decided_by", "decided_at", "case_manager",
        }
    ),
    # The receiver learns neither which family nor anything typed about it until it accepts.
    RECEIVER: frozenset(
        {
            "id", "side", "from_organisation", "to_organisation", "status", "reason", "legal_basis",
            "household_size", "created_at", "expires_at", "decided_at", "case_manager",
        }
    ),
}  # fmt: skip


class HandoverOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An offer as its reader may see it: fields outside the reader's side are null."""

    side = serializers.ChoiceField(
        choices=[CASE, SENDER, RECEIVER],
        read_only=True,
        help_text="case: the sending case manager; sender: a supervisor of the offering organisation; "
        "receiver: a supervisor of the receiving organisation (the offer only, until accepted).",
    )
    status = serializers.ChoiceField(
        choices=Handover.Status.choices, source="effective_status", read_only=True
    )
    family = serializers.UUIDField(source="family_id", read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True, allow_null=True)
    consent = serializers.UUIDField(source="consent_id", read_only=True, allow_null=True)
    offered_by = serializers.UUIDField(source="offered_by_id", read_only=True, allow_null=True)
    decided_by = serializers.UUIDField(source="decided_by_id", read_only=True, allow_null=True)
    case_manager = serializers.UUIDField(source="case_manager_id", read_only=True, allow_null=True)

    class Meta:
        model = Handover
        fields = (
            "id",
            "side",
            "family",
            "from_organisation",
            "to_organisation",
            "status",
            "reason",
            "note",
            "legal_basis",
            "consent",
            "household_size",
            "offered_by",
            "created_at",
            "expires_at",
            "decided_by",
            "decided_at",
            "case_manager",
        )
        read_only_fields = fields

    def to_representation(self, instance: Handover) -> dict[str, Any]:
        side = getattr(instance, "side", RECEIVER)
        visible = VISIBLE.get(side, VISIBLE[RECEIVER])
        if visible is not None and side == RECEIVER and instance.status == Handover.Status.ACCEPTED:
            visible = visible | {"family"}  # accepted: the case is now the receiver's
        data: dict[str, Any] = super().to_representation(instance)
        if visible is None:
            return data
        return {name: (value if name in visible else None) for name, value in data.items()}


class HandoverInputSerializer(StrictSerializer):
    """An offer: the family, the receiving organisation, a reason and the legal basis."""

    family = serializers.PrimaryKeyRelatedField(
        queryset=Family.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )
    to_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(), error_messages={"does_not_exist": NOT_FOUND}
    )
    reason = serializers.ChoiceField(choices=Handover.Reason.choices)
    legal_basis = serializers.ChoiceField(choices=Handover.LegalBasis.choices)
    consent = serializers.PrimaryKeyRelatedField(
        queryset=Consent.objects.none(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": NOT_FOUND},
        help_text="The family's consent to the handover; required when legal_basis is consent.",
    )
    note = serializers.CharField(
        max_length=HANDOVER_NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Encrypted; shown to the sending side only, never to the receiver before acceptance.",
    )


class HandoverAcceptInputSerializer(StrictSerializer):
    """The case manager of the receiving organisation who takes the case."""

    case_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), error_messages={"does_not_exist": NOT_FOUND}
    )


class HandoverViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Offers of cases to another organisation of the district tree."""

    serializer_class = HandoverOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {
        "create": CASE_WORK,
        "accept": SUPERVISION,
        "decline": SUPERVISION,
        "*": CASE_WORK_OR_SUPERVISION,
    }

    def get_queryset(self) -> QuerySet[Handover]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return Handover.objects.none()
        queryset = handovers_for(user)  # type: ignore[arg-type]
        direction = self.request.query_params.get("direction")
        if direction not in (None, "incoming", "outgoing"):
            raise serializers.ValidationError({"direction": ["Give incoming or outgoing."]})
        if direction == "incoming":
            queryset = queryset.filter(side=RECEIVER)  # type: ignore[misc]
        elif direction == "outgoing":
            queryset = queryset.exclude(side=RECEIVER)  # type: ignore[misc]
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "direction",
                str,
                enum=["incoming", "outgoing"],
                description="incoming: offers to the caller's organisations; outgoing: offers made by them.",
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=HandoverInputSerializer, responses={201: HandoverOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = HandoverInputSerializer(data=request.data)
        serializer.fields["family"].queryset = families_editable_by(request.user)  # type: ignore[attr-defined,arg-type]
        # Organisations of the caller's district trees only: another district's is "no such object".
        own = policies.organisation_ids_with_role(request.user, Role.CASE_MANAGER)  # type: ignore[arg-type]
        serializer.fields["to_organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            id__in=policies.catalogue_organisation_ids(own)
        )
        serializer.fields["consent"].queryset = Consent.objects.filter(  # type: ignore[attr-defined]
            family__in=families_editable_by(request.user).values("id")  # type: ignore[arg-type]
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        handover = handover_offer(
            family=data["family"],
            to_organisation=data["to_organisation"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            consent=data.get("consent"),
            note=data.get("note", ""),
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(self._shaped(handover), status=status.HTTP_201_CREATED)

    def _shaped(self, handover: Handover) -> dict[str, Any]:
        return HandoverOutputSerializer(self.get_queryset().get(pk=handover.pk)).data  # type: ignore[return-value]

    @extend_schema(request=HandoverAcceptInputSerializer, responses={200: HandoverOutputSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The receiving supervisor takes the case and names its case manager."""
        handover = self.get_object()
        serializer = HandoverAcceptInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        handover = handover_accept(
            handover=handover,
            case_manager=serializer.validated_data["case_manager"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(self._shaped(handover))

    @extend_schema(request=None, responses={200: HandoverOutputSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The receiving supervisor declines; the case stays with the sender."""
        handover = handover_decline(handover=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(self._shaped(handover))

    @extend_schema(request=None, responses={200: HandoverOutputSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """The sending side withdraws an open offer."""
        handover = handover_withdraw(handover=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(self._shaped(handover))
