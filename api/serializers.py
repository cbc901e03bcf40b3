"""Shared serializer behaviour."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

#: Same words whether an object does not exist or belongs to someone else.
NOT_FOUND = "No such object, or not accessible to you."


def reject_unknown(data: Any, allowed: set[str]) -> None:
    """Raise for fields the endpoint does not take (plain serializers ignore them silently)."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError(
                {n: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for n in unknown}
            )


# A plain (non-model) input serializer that rejects fields it does not declare. (A comment,
# not a docstring: drf-spectacular would show it as every input schema's description.)
class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(data, set(self.fields))
        return super().to_internal_value(data)


class StrictInputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Rejects fields it does not know instead of silently ignoring them.

    A client that sends ``"familyname"`` or ``"reference"`` should learn that nothing
    happened to that value, not get a 200 with the typo dropped.
    """

    def to_internal_value(self, data: Any) -> Any:
        unknown: list[str] = []
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
        errors: dict[str, Any] = {
            name: [serializers.ErrorDetail("Unknown or read-only field.", code="unknown_field")]
            for name in unknown
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Report every problem at once: unknown fields and invalid values together.
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value
