"""Shapes for deputies and emergency access."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND, StrictSerializer
from casemgmt.models import Deputyship, EmergencyAccess, EmergencyAccessRequest, Family, User


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
    ends_at = serializers.DateTimeField(
        required=False,
        help_text="When the cover ends; default DEPUTY_DEFAULT_DAYS from now, at most DEPUTY_MAX_DAYS.",
    )


class DeputyshipOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Deputyship
        fields = ("id", "organisation", "principal", "deputy", "created_by", "created_at", "ends_at")
        read_only_fields = fields


class EmergencyAccessInputSerializer(StrictSerializer):
    """Name the family by `family` (its id) or by `reference`: one of the two is required (400 otherwise)."""

    family = serializers.PrimaryKeyRelatedField(
        queryset=Family.objects.none(),
        required=False,
        error_messages={"does_not_exist": NOT_FOUND},
        help_text="The family's id; required unless `reference` is given.",
    )
    reference = serializers.CharField(
        max_length=32, required=False, help_text="The family's reference; required unless `family` is given."
    )
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
                    {"reference": [serializers.ErrorDetail(str(NOT_FOUND), code="does_not_exist")]}
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


class EmergencyAccessRequestOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A request to reopen a family in an emergency, and the supervisor's decision."""

    family_reference = serializers.CharField(source="family.reference", read_only=True)

    class Meta:
        model = EmergencyAccessRequest
        fields = (
            "id",
            "family",
            "family_reference",
            "user",
            "reason",
            "requested_at",
            "status",
            "decided_by",
            "decided_at",
            "access",
        )
        read_only_fields = fields
