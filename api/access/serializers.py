"""Shapes for deputies and emergency access."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND, StrictSerializer
from casemgmt.models import Deputyship, EmergencyAccess, Family, User


class DeputyshipInputSerializer(StrictSerializer):
    deputy = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), error_messages={"does_not_exist": NOT_FOUND}
    )
    principal = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        error_messages={"does_not_exist": NOT_FOUND},
        help_text="Whose deputy; defaults to the caller. Supervisors may name it for their case managers.",
    )


class DeputyshipOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Deputyship
        fields = ("id", "organisation", "principal", "deputy", "created_at")
        read_only_fields = fields


class EmergencyAccessInputSerializer(StrictSerializer):
    family = serializers.PrimaryKeyRelatedField(
        queryset=Family.objects.none(), required=False, error_messages={"does_not_exist": NOT_FOUND}
    )
    reference = serializers.CharField(max_length=32, required=False)
    reason = serializers.CharField(max_length=2000)

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


class EmergencyAccessReviewInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
