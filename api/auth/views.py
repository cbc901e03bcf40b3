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
from api.serializers import StrictSerializer
from casemgmt.services.accounts import password_change, password_set_with_token


class TextOnlyCharField(serializers.CharField):
    """A CharField that refuses numbers, lists and objects instead of coercing them to text.

    DRF turns ``12345`` into ``"12345"``; for credentials a non-string is a malformed request
    (400), never something to look up or to throttle under another key.
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class LoginInputSerializer(StrictSerializer):
    username = TextOnlyCharField(max_length=150)
    password = TextOnlyCharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    expiry = serializers.DateTimeField()


class LockedOut(exceptions.Throttled):
    default_detail = "Too many failed logins for this account; try again later."
    default_code = "locked_out"


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_detail = "You must choose a new password first: POST /api/v1/auth/password/."
    default_code = "password_change_required"


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
        if getattr(request._request, "axes_locked_out", False):
            raise LockedOut()
        if user is None:
            # Same answer for unknown users, wrong passwords and deactivated accounts.
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        if user.must_change_password:  # type: ignore[union-attr]
            # The password was right, but an administrator required a new one: no token until then.
            raise PasswordChangeRequired()
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


class PasswordChangeInputSerializer(StrictSerializer):
    username = TextOnlyCharField(max_length=150)
    current_password = TextOnlyCharField(max_length=256, trim_whitespace=False)
    new_password = TextOnlyCharField(max_length=256, trim_whitespace=False)


class PasswordSetInputSerializer(StrictSerializer):
    token = TextOnlyCharField(max_length=200)
    new_password = TextOnlyCharField(max_length=256, trim_whitespace=False)


class PasswordChangeView(APIView):
    """Change one's own password with the current one (also when a change is required).

    Takes the username rather than a token, so a user whose change is required (and who
    therefore gets no token) can use it; throttled like the login. Every token of the user
    is revoked: log in again with the new password.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginAddressThrottle, LoginUsernameThrottle)

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    @extend_schema(request=PasswordChangeInputSerializer, responses={204: None}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The same check as a login (lockout, audit of failures), so this is no side door.
        user = authenticate(request._request, username=data["username"], password=data["current_password"])
        if getattr(request._request, "axes_locked_out", False):
            raise LockedOut()
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        password_change(
            user=user,  # type: ignore[arg-type]
            current_password=data["current_password"],
            new_password=data["new_password"],
        )
        return Response(status=204)


class PasswordSetView(APIView):
    """Set one's own password with a one-time token from an administrator (new account, reset)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginAddressThrottle,)

    @extend_schema(request=PasswordSetInputSerializer, responses={204: None}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = PasswordSetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_set_with_token(
            token=serializer.validated_data["token"], new_password=serializer.validated_data["new_password"]
        )
        return Response(status=204)
