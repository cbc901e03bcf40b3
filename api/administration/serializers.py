"""Shapes for organisations, users and memberships (administrators)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND, StrictInputSerializer
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            for name in ("kind", "parent"):
                self.fields[name].read_only = True


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
        )
        read_only_fields = fields


class UserCreateInputSerializer(StrictInputSerializer):
    password = serializers.CharField(write_only=True, max_length=256, trim_whitespace=False)
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = User
        fields = ("username", "password", "first_name", "last_name", "email", "organisation", "role")


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
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), error_messages={"does_not_exist": NOT_FOUND}
    )
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )

    class Meta:
        model = Membership
        fields = ("user", "organisation", "role")
        validators: list[Any] = []
