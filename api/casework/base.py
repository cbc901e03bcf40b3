"""The pattern every case-work resource follows: scoped through the family, thin views.

Reads use the families the user may view; writes use the families they may change. The
same policy filters lists and finds single objects, so a family not granted (or of
another organisation) answers 404 for its goals, referrals, conferences and contacts too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin
from api.permissions import IsCaseManager
from casemgmt.models import User
from casemgmt.selectors.families import families_editable_by, families_visible_to

WRITE_ACTIONS = frozenset({"create", "partial_update", "update", "destroy"})


class CaseChildViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):  # type: ignore[type-arg]
    """List, retrieve, create and partially update objects that belong to a family."""

    model: ClassVar[type[Model]]
    input_serializer_class: ClassVar[type[serializers.Serializer]]  # type: ignore[type-arg]
    permission_classes = (IsCaseManager,)
    http_method_names = ["get", "post", "patch", "head", "options"]
    #: Actions (besides the standard writes) that change the object.
    write_actions: ClassVar[frozenset[str]] = frozenset()

    @property
    def user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def base_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = self.model._default_manager.all()
        return queryset

    def is_write(self) -> bool:
        """Whether this request changes the object (then the family must be editable)."""
        return self.action in WRITE_ACTIONS or self.action in self.write_actions

    def get_queryset(self) -> QuerySet[Any]:
        families = families_editable_by(self.user) if self.is_write() else families_visible_to(self.user)
        return self.base_queryset().filter(family_id__in=families.values("id"))

    def input(self, **kwargs: Any) -> serializers.Serializer:  # type: ignore[type-arg]
        return self.input_serializer_class(context=self.get_serializer_context(), **kwargs)

    def create_object(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def respond(self, instance: Model, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.base_queryset().get(pk=instance.pk)  # with the same related data as lists
        return Response(self.get_serializer(fresh).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.input(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.respond(self.create_object(dict(serializer.validated_data)), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.input(instance=instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self.respond(self.update_object(instance, dict(serializer.validated_data)))
