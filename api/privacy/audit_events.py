"""DPO endpoint: the audit trail, with inclusion proofs against signed checkpoints."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.params import check_params
from api.permissions import DPO_HIDDEN, ScopeMapPermission
from api.serializers import StrictSerializer
from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Role
from privacy import observed, registry
from privacy.models import AuditCheckpoint, AuditEntry


class AuditEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    model = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    checkpoint = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Tree size of the first signed checkpoint that covers this entry (null: not sealed yet); "
        "GET …/proof/?checkpoint=<size> proves the entry against it.",
    )

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "timestamp",
            "action",
            "activity",
            "model",
            "object_pk",
            "object_repr",
            "object_ids",
            "changes",
            "actor",
            "remote_addr",
            "organisation_id",
            "additional_data",
            "seq",
            "hash",
            "checkpoint",
        )
        read_only_fields = fields

    def get_model(self, entry: AuditEntry) -> str:
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_id(entry.content_type_id)
        return f"{ct.app_label}.{ct.model}"

    def get_action(self, entry: AuditEntry) -> str:
        return observed.ACTION_NAMES.get(entry.action, str(entry.action))


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    object = django_filters.CharFilter(
        method="filter_object",
        max_length=64,
        help_text="An object id: entries about it, including reads that returned it.",
    )
    model = django_filters.CharFilter(method="filter_model", max_length=100, help_text="e.g. casemgmt.family")
    activity = django_filters.ChoiceFilter(choices=[(a.code, a.code) for a in registry.ACTIVITIES])
    action = django_filters.ChoiceFilter(
        method="filter_action", choices=[(v, v) for v in observed.ACTION_NAMES.values()]
    )
    from_ = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte", label="from")
    to = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ("actor", "object", "model", "activity", "action", "to")

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and "from" in data:
            data = data.copy()
            data["from_"] = data.get("from")
        super().__init__(data, *args, **kwargs)

    def filter_object(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        from django.db import connection
        from django.db.models import Q

        if connection.vendor == "postgresql":
            return queryset.filter(Q(object_pk=value) | Q(object_ids__contains=[value]))
        return queryset.filter(Q(object_pk=value) | Q(object_ids__icontains=f'"{value}"'))

    def filter_model(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        app_label, _, model = value.lower().partition(".")
        if not model:
            raise exceptions.ValidationError({"model": ["Use app_label.model, e.g. casemgmt.family."]})
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_action(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        codes = {v: k for k, v in observed.ACTION_NAMES.items()}
        return queryset.filter(action=codes[value])


class CheckpointSerializer(StrictSerializer):
    origin = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="hex SHA-256 Merkle tree root (RFC 9162)")
    timestamp = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(
        help_text="base64 Ed25519 signature of the note 'origin\\ntree_size\\nroot_hash\\ntimestamp\\n'"
    )


class InclusionProofSerializer(StrictSerializer):
    entry = serializers.IntegerField()
    leaf_index = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="hex SHA-256(0x00 || canonical entry)")
    audit_path = serializers.ListField(
        child=serializers.CharField(), help_text="hex node hashes, leaf to root"
    )
    checkpoint = CheckpointSerializer()
    public_key = serializers.CharField(help_text="base64 Ed25519 public key the checkpoint verifies with")
    verified = serializers.BooleanField(help_text="the server checked the proof and the signature itself")


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The audit trail of the DPO's organisations: read only, filterable, paginated."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    # The audit trail does not reveal that it exists to anyone but the DPO.
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO_HIDDEN}

    def get_queryset(self) -> QuerySet[AuditEntry]:
        user = self.request.user
        if not user.is_authenticated:
            return AuditEntry.objects.none()  # type: ignore[no-any-return]
        orgs = policies.organisation_ids_with_role(user, Role.DPO)  # type: ignore[arg-type]
        covering = AuditCheckpoint.objects.filter(tree_size__gt=OuterRef("seq")).order_by("tree_size")
        # (Only DPOs reach this: ScopeMapPermission.) Their tenants' entries, plus failed
        # logins that belong to no tenant (unknown usernames).
        scope = observed.audit_scope(orgs) | observed.unattributed_login_failures()
        entries: QuerySet[AuditEntry] = AuditEntry.objects.filter(scope).annotate(
            checkpoint=Subquery(covering.values("tree_size")[:1])
        )
        return entries.order_by("-timestamp", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "checkpoint",
                OpenApiTypes.INT,
                description="Tree size of the signed checkpoint to prove against (default: the latest).",
            )
        ],
        responses={200: InclusionProofSerializer},
    )
    @action(detail=True, methods=["get"], url_path="proof")
    def proof(self, request: Request, pk: str | None = None) -> Response:
        """RFC 9162 inclusion proof of one entry against a signed checkpoint, checkable outside."""
        from privacy.transparency import AuditLogError, inclusion_proof

        check_params(request.query_params, {"checkpoint"})
        raw = request.query_params.get("checkpoint")
        size = None
        if raw is not None:
            if not raw.isdigit() or not 0 < int(raw) < 2**62:
                raise exceptions.ValidationError(
                    {"checkpoint": ["A checkpoint's tree size: a positive integer."]}
                )
            size = int(raw)
        entry = self.get_object()
        try:
            data = inclusion_proof(entry, tree_size=size)
        except AuditLogError as exc:
            if entry.seq is None:
                raise Conflict(str(exc), code="not_sealed") from None
            raise exceptions.ValidationError({"checkpoint": [str(exc)]}) from None
        return Response(InclusionProofSerializer(data).data)
