"""Baseline endpoints for ratios: the same family list without encryption, and without the
object-permission filter. Same pagination, same output shape, same authentication."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from api.audit import ReadAuditMixin
from api.families.serializers import FamilyOutputSerializer
from api.pagination import PageOrCursorPagination, StandardPagination
from api.permissions import CASE_WORK, ScopeMapPermission
from bench.models import PlainFamily
from casemgmt import policies
from casemgmt.models import Family, Role


class PlainFamilySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = PlainFamily
        fields = FamilyOutputSerializer.Meta.fields
        read_only_fields = fields


class PlainFamilyViewSet(ReadAuditMixin, mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The caller's caseload from the plain-field copy (filtered by case manager, one index)."""

    serializer_class = PlainFamilySerializer
    pagination_class = PageOrCursorPagination  # the family list's own
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK}

    def get_queryset(self) -> QuerySet[PlainFamily]:
        orgs = policies.organisation_ids_with_role(self.request.user, Role.CASE_MANAGER)  # type: ignore[arg-type]
        return PlainFamily.objects.filter(organisation_id__in=orgs, case_manager=self.request.user)


class UnscopedFamilyViewSet(ReadAuditMixin, mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Encrypted families of the caller's organisation, without the per-family permission filter."""

    serializer_class = FamilyOutputSerializer
    pagination_class = PageOrCursorPagination  # the family list's own
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK}

    def get_queryset(self) -> Any:
        orgs = policies.organisation_ids_with_role(self.request.user, Role.CASE_MANAGER)  # type: ignore[arg-type]
        return Family.objects.filter(organisation_id__in=orgs, case_manager=self.request.user)


class BareFamilyList(ListAPIView):  # type: ignore[type-arg]
    """A bare DRF ``ListAPIView`` over the same encrypted model and rows: no token, no scope, no audit.

    The rows are the case manager's own families (``?cm=<username>``), the same 50 the full
    list returns for that case manager, with the same serializer and DRF's own page-number
    pagination (``StandardPagination``: a ``COUNT(*)``, then the page), not the family list's,
    which counts with the page: the baseline stays what DRF does.
    """

    authentication_classes = ()
    pagination_class = StandardPagination
    permission_classes = (AllowAny,)
    serializer_class = FamilyOutputSerializer

    def get_queryset(self) -> QuerySet[Family]:
        return Family.objects.filter(case_manager__username=self.request.query_params.get("cm", ""))
