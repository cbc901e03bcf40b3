"""Shapes for organisations, users and memberships (administrators)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND, StrictInputSerializer, update_input
from casemgmt.models import Membership, Organisation, Role, User


class OrganisationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Organisation
        fields = ("id", "name", "kind", "parent", "reference_prefix", "created_at")
        read_only_fields = fields


class OrganisationInputSerializer(StrictInputSerializer):
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )
    kind = serializers.ChoiceField(
        choices=[(k, v) for k, v in Organisation.Kind.choices if k in ("town", "provider")]
    )

    class Meta:
        model = Organisation
        fields = ("name", "kind", "parent", "reference_prefix")
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}}


OrganisationUpdateInputSerializer = update_input(OrganisationInputSerializer, "kind", "parent")


class UserOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    email = serializers.CharField(read_only=True, help_text="may be empty")

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "date_joined",
            "last_login",
            "must_change_password",
        )
        read_only_fields = fields


class UserCreateInputSerializer(StrictInputSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "organisation", "role")


class SetPasswordTokenOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Shown once: hand it to the user, who sets their own password with it (POST /auth/password/set/)."""

    set_password_token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class UserCreatedOutputSerializer(UserOutputSerializer):
    set_password_token = serializers.CharField(
        read_only=True, help_text="one-time token with which the user sets their own password; shown once"
    )
    set_password_token_expires_at = serializers.DateTimeField(read_only=True)

    class Meta(UserOutputSerializer.Meta):
        fields = (*UserOutputSerializer.Meta.fields, "set_password_token", "set_password_token_expires_at")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]


class UserUpdateInputSerializer(StrictInputSerializer):
    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "is_active")


class MembershipOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Membership
        fields = ("id", "user", "organisation", "role", "created_at")
        read_only_fields = fields


class MembershipInputSerializer(StrictInputSerializer):
    user = serializers.UUIDField(help_text="a user you administer; any other answers 404")
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = Membership
        fields = ("user", "organisation", "role")
        validators: list[Any] = []
