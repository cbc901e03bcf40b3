"""Thin writes shared by the case-work and catalogue resources."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from casemgmt.models import User


class ServiceWriteMixin:
    """Validate with an input serializer, call a service, answer with the output serializer."""

    input_serializer_class: ClassVar[type[serializers.Serializer]]  # type: ignore[type-arg]
    #: The PATCH body (without the fields fixed at creation); defaults to the create input.
    update_serializer_class: ClassVar[type[serializers.Serializer] | None] = None  # type: ignore[type-arg]
    #: Whether a created object is read back before answering (needed when the output shows
    #: related rows the service did not load); off where the object in hand is the whole answer.
    read_back_after_create: ClassVar[bool] = True

    @property
    def user(self) -> User:
        return self.request.user  # type: ignore[attr-defined,no-any-return]

    def input(self, **kwargs: Any) -> serializers.Serializer:  # type: ignore[type-arg]
        serializer_class = self.input_serializer_class
        if "instance" in kwargs and self.update_serializer_class is not None:
            serializer_class = self.update_serializer_class
        return serializer_class(context=self.get_serializer_context(), **kwargs)  # type: ignore[attr-defined]

    def create_object(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def update_object(self, instance: Model, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def response_queryset(self) -> QuerySet[Any]:
        """Where a written object is read back from, with the same related data as lists."""
        queryset: QuerySet[Any] = self.get_queryset()  # type: ignore[attr-defined]
        return queryset

    def respond(
        self, instance: Model, status_code: int = status.HTTP_200_OK, *, fresh: bool = True
    ) -> Response:
        if fresh:
            instance = self.response_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=status_code)  # type: ignore[attr-defined]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.input(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = self.create_object(dict(serializer.validated_data))
        return self.respond(created, status.HTTP_201_CREATED, fresh=self.read_back_after_create)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.input(instance=instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self.respond(self.update_object(instance, dict(serializer.validated_data)))
