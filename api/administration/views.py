"""Organisations, users and memberships for administrators; no case content here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.administration.serializers import (
    MembershipInputSerializer,
    MembershipOutputSerializer,
    OrganisationInputSerializer,
    OrganisationOutputSerializer,
    UserCreateInputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from api.audit import ReadAuditMixin
from api.permissions import IsAdministrator
from casemgmt import policies
from casemgmt.models import Membership, Organisation, User
from casemgmt.services.administration import (
    membership_create,
    membership_delete,
    organisation_create,
    organisation_update,
    user_create,
    user_update,
    users_managed_by,
)

WRITE_METHODS = ["get", "post", "patch", "head", "options"]


class OrganisationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Organisations the administrator manages: their own and its member towns."""

    serializer_class = OrganisationOutputSerializer
    permission_classes = (IsAdministrator,)
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[Organisation]:
        return policies.managed_organisations(self.request.user)  # type: ignore[arg-type]

    def _input(self, **kwargs: Any) -> OrganisationInputSerializer:
        serializer = OrganisationInputSerializer(**kwargs)
        if "parent" in serializer.fields and not serializer.fields["parent"].read_only:
            serializer.fields["parent"].queryset = self.get_queryset()  # type: ignore[attr-defined]
        return serializer

    @extend_schema(request=OrganisationInputSerializer, responses={201: OrganisationOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self._input(data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation = organisation_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(OrganisationOutputSerializer(organisation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationInputSerializer, responses={200: OrganisationOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organisation = self.get_object()
        serializer = self._input(instance=organisation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organisation = organisation_update(
            organisation=organisation,
            acting_user=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        return Response(OrganisationOutputSerializer(organisation).data)


class UserViewSet(ReadAuditMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Staff accounts of the organisations the administrator manages."""

    serializer_class = UserOutputSerializer
    permission_classes = (IsAdministrator,)
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[User]:
        return users_managed_by(self.request.user).order_by("username")  # type: ignore[no-any-return,arg-type]

    @extend_schema(request=UserCreateInputSerializer, responses={201: UserOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = UserCreateInputSerializer(data=request.data)
        serializer.fields["organisation"].queryset = policies.managed_organisations(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        user = user_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateInputSerializer, responses={200: UserOutputSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        serializer = UserUpdateInputSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=user, acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(UserOutputSerializer(user).data)


class MembershipViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Roles of users in the organisations the administrator manages."""

    serializer_class = MembershipOutputSerializer
    permission_classes = (IsAdministrator,)

    def get_queryset(self) -> QuerySet[Membership]:
        orgs = policies.managed_organisations(self.request.user).values("id")  # type: ignore[arg-type]
        return Membership.objects.filter(organisation_id__in=orgs).order_by("created_at")

    @extend_schema(request=MembershipInputSerializer, responses={201: MembershipOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MembershipInputSerializer(data=request.data)
        serializer.fields["organisation"].queryset = policies.managed_organisations(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        membership = membership_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership_delete(membership=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
