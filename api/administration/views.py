"""Organisations, users and memberships for administrators; no case content here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.administration.serializers import (
    MembershipInputSerializer,
    MembershipOutputSerializer,
    OrganisationInputSerializer,
    OrganisationOutputSerializer,
    OrganisationUpdateInputSerializer,
    SetPasswordTokenOutputSerializer,
    UserCreatedOutputSerializer,
    UserCreateInputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from api.audit import ReadAuditMixin
from api.permissions import ADMINISTRATION, ScopeMapPermission
from casemgmt import policies
from casemgmt.models import Membership, Organisation, User
from casemgmt.services.accounts import password_change_require, set_password_token_issue
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
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": ADMINISTRATION}
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[Organisation]:
        return policies.managed_organisations(self.request.user)  # type: ignore[arg-type]

    def _input(self, **kwargs: Any) -> OrganisationInputSerializer:
        serializer_class = (
            OrganisationUpdateInputSerializer if "instance" in kwargs else OrganisationInputSerializer
        )
        serializer: OrganisationInputSerializer = serializer_class(**kwargs)
        if "parent" in serializer.fields and not serializer.fields["parent"].read_only:
            serializer.fields["parent"].queryset = self.get_queryset()  # type: ignore[attr-defined]
        return serializer

    @extend_schema(request=OrganisationInputSerializer, responses={201: OrganisationOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self._input(data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation = organisation_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        return Response(OrganisationOutputSerializer(organisation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationUpdateInputSerializer, responses={200: OrganisationOutputSerializer})
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
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": ADMINISTRATION}
    http_method_names = WRITE_METHODS

    def get_queryset(self) -> QuerySet[User]:
        return users_managed_by(self.request.user).order_by("username")  # type: ignore[no-any-return,arg-type]

    @extend_schema(request=UserCreateInputSerializer, responses={201: UserCreatedOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = UserCreateInputSerializer(data=request.data)
        serializer.fields["organisation"].queryset = policies.managed_organisations(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        user, record, token = user_create(acting_user=request.user, **serializer.validated_data)  # type: ignore[arg-type]
        user.set_password_token = token  # type: ignore[attr-defined]
        user.set_password_token_expires_at = record.expires_at  # type: ignore[attr-defined]
        return Response(UserCreatedOutputSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: UserOutputSerializer})
    @action(detail=True, methods=["post"], url_path="require-password-change")
    def require_password_change(self, request: Request, pk: str | None = None) -> Response:
        """Require a new password at the next login; the user's tokens are revoked at once."""
        user = password_change_require(user=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(UserOutputSerializer(user).data)

    @extend_schema(request=None, responses={201: SetPasswordTokenOutputSerializer})
    @action(detail=True, methods=["post"], url_path="set-password-token")
    def set_password_token(self, request: Request, pk: str | None = None) -> Response:
        """Issue a one-time token with which the user sets their own password (earlier ones stop working)."""
        record, token = set_password_token_issue(user=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        data = {"set_password_token": token, "expires_at": record.expires_at}
        return Response(SetPasswordTokenOutputSerializer(data).data, status=status.HTTP_201_CREATED)

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
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": ADMINISTRATION}

    def get_queryset(self) -> QuerySet[Membership]:
        orgs = policies.managed_organisations(self.request.user).values("id")  # type: ignore[arg-type]
        return Membership.objects.filter(organisation_id__in=orgs).order_by("created_at")

    @extend_schema(request=MembershipInputSerializer, responses={201: MembershipOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MembershipInputSerializer(data=request.data)
        serializer.fields["organisation"].queryset = policies.managed_organisations(request.user)  # type: ignore[attr-defined,arg-type]
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # A user outside the administrator's tree is "no such user", exactly like a missing one.
        user = users_managed_by(request.user).filter(pk=data.pop("user")).first()  # type: ignore[arg-type]
        if user is None:
            raise NotFound("No such user, or not one you administer.")
        membership = membership_create(acting_user=request.user, user=user, **data)  # type: ignore[arg-type]
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership_delete(membership=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
