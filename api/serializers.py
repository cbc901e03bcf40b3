"""Shared serializer behaviour."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Rejects fields it does not know instead of silently ignoring them.

    A client that sends ``"familyname"`` or ``"reference"`` should learn that nothing
    happened to that value, not get a 200 with the typo dropped.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("Unknown or read-only field.", code="unknown_field")]
                     for name in unknown}
                )
        return super().to_internal_value(data)
