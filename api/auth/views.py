"""Token login, logout and "who am I" (django-rest-knox: hashed, expiring, revocable tokens)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth.throttles import LoginAddressThrottle, LoginUsernameThrottle
from api.authentication import AuditedTokenAuthentication


class LoginInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expiry = serializers.DateTimeField()


class LoginView(KnoxLoginView):
    """Exchange username and password for a token that expires (``Authorization: Token <token>``)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginAddressThrottle, LoginUsernameThrottle)

    def get_authenticate_header(self, request: Request) -> str:
        # Failed logins answer 401 (with a challenge), not DRF's 403 for views without auth.
        return "Token"

    @extend_schema(request=LoginInputSerializer, responses={200: TokenOutputSerializer}, auth=[])
    def post(self, request: Request, format: Any = None) -> Response:
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            # Same answer for unknown users, wrong passwords and deactivated accounts.
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        request.user = user
        response: Response = super().post(request, format=format)
        return response


class LogoutView(KnoxLogoutView):
    """Revoke the token used for this request."""

    authentication_classes = (AuditedTokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: Any = None) -> Response:
        response: Response = super().post(request, format=format)
        return response


class LogoutAllView(KnoxLogoutAllView):
    """Revoke every token of the current user (e.g. after a lost device)."""

    authentication_classes = (AuditedTokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: Any = None) -> Response:
        response: Response = super().post(request, format=format)
        return response


class MeView(APIView):
    """The current user and their roles per organisation."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.UUIDField(),
                "username": serializers.CharField(),
                "memberships": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = [
            {"organisation": str(m.organisation_id), "organisation_name": m.organisation.name, "role": m.role}
            for m in user.memberships.select_related("organisation")  # type: ignore[union-attr]
        ]
        return Response({"id": str(user.pk), "username": user.get_username(), "memberships": memberships})
