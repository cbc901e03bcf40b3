"""The pattern every case-work resource follows: scoped through the family, thin views.

Reads use the families the user may view; writes use the families they may change. The
same policy filters lists and finds single objects, so a family not granted (or of
another organisation) answers 404 for its goals, referrals, conferences and contacts too,
and so does a record linked to a person whose processing is restricted (Art. 18).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import mixins, viewsets

from api.audit import ReadAuditMixin
from api.permissions import CASE_WORK, Roles, ScopeMapPermission
from api.viewsets import ServiceWriteMixin
from casemgmt.selectors.casework import case_records_for

WRITE_ACTIONS = frozenset({"create", "partial_update", "update", "destroy"})


class CaseChildViewSet(
    ReadAuditMixin,
    ServiceWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):  # type: ignore[type-arg]
    """List, retrieve, create and partially update objects that belong to a family."""

    model: ClassVar[type[Model]]
    permission_classes = (ScopeMapPermission,)
    scope_map: ClassVar[dict[str, Roles]] = {"*": CASE_WORK}
    http_method_names = ["get", "post", "patch", "head", "options"]
    #: Actions (besides the standard writes) that change the object.
    write_actions: ClassVar[frozenset[str]] = frozenset()

    def base_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = self.model._default_manager.all()
        return queryset

    def is_write(self) -> bool:
        """Whether this request changes the object (then the family must be editable)."""
        return self.action in WRITE_ACTIONS or self.action in self.write_actions

    def get_queryset(self) -> QuerySet[Any]:
        # The family rule and the Art. 18 restriction, in the database: a restricted
        # person's records are 404 and left out of lists and filters, for reads and writes.
        return case_records_for(self.user, self.base_queryset(), change=self.is_write())

    def response_queryset(self) -> QuerySet[Any]:
        return self.base_queryset()
