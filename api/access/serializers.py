"""Shapes for deputies and emergency access."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND
from casemgmt.models import Deputyship, EmergencyAccess, Family, User


def reject_unknown(data: Any, allowed: set[str]) -> None:
    """Raise for fields the endpoint does not take (plain serializers ignore them silently)."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError(
                {n: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for n in unknown}
            )


class DeputyshipInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    deputy = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), error_messages={"does_not_exist": NOT_FOUND}
    )
    principal = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        error_messages={"does_not_exist": NOT_FOUND},
        help_text="Whose deputy; defaults to the caller. Supervisors may name it for their case managers.",
    )

    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(data, {"deputy", "principal"})
        return super().to_internal_value(data)


class DeputyshipOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Deputyship
        fields = ("id", "organisation", "principal", "deputy", "created_at")
        read_only_fields = fields


class EmergencyAccessInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    family = serializers.PrimaryKeyRelatedField(
        queryset=Family.objects.none(), required=False, error_messages={"does_not_exist": NOT_FOUND}
    )
    reference = serializers.CharField(max_length=32, required=False)
    reason = serializers.CharField(max_length=2000)

    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(data, {"family", "reference", "reason"})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        queryset = self.fields["family"].queryset  # type: ignore[attr-defined]
        if "family" not in attrs:
            reference = attrs.get("reference")
            if not reference:
                raise serializers.ValidationError(
                    {
                        "family": [
                            serializers.ErrorDetail("Give the family id or its reference.", code="required")
                        ]
                    }
                )
            family = queryset.filter(reference=reference).first()
            if family is None:
                raise serializers.ValidationError(
                    {"reference": [serializers.ErrorDetail(NOT_FOUND, code="does_not_exist")]}
                )
            attrs["family"] = family
        return attrs


class EmergencyAccessOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An emergency opening; the reason is shown to the user who opened it and to reviewers."""

    family_reference = serializers.CharField(source="family.reference", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = EmergencyAccess
        fields = (
            "id",
            "family",
            "family_reference",
            "user",
            "reason",
            "opened_at",
            "expires_at",
            "ended_at",
            "active",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        )
        read_only_fields = fields

    def get_active(self, obj: EmergencyAccess) -> bool:
        from django.utils import timezone

        return obj.ended_at is None and obj.expires_at > timezone.now()


class EmergencyAccessReviewInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(data, {"note"})
        return super().to_internal_value(data)
