"""Shared serializer behaviour."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

#: Same words whether an object does not exist or belongs to someone else.
NOT_FOUND = gettext_lazy("No such object, or not accessible to you.")


def _strict_type_errors(fields: Any, data: Any) -> dict[str, Any]:
    """JSON types the schema promises: a number is not a string, ``"yes"`` is not a boolean.

    DRF coerces (``5`` becomes ``"5"``, ``"on"`` becomes ``True``); the API refuses instead,
    so a client bug surfaces as a 400 rather than as a family named "5".
    """
    errors: dict[str, Any] = {}
    if not isinstance(data, dict):
        return errors
    for name, field in fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        value = data[name]
        # (A choice field already refuses a number: it is not one of its choices.)
        if isinstance(field, serializers.CharField):
            if not isinstance(value, str):
                errors[name] = [serializers.ErrorDetail(_("Not a valid string."), code="invalid")]
        elif isinstance(field, serializers.BooleanField):
            if not isinstance(value, bool):
                errors[name] = [serializers.ErrorDetail(_("Must be true or false."), code="invalid")]
        elif isinstance(field, serializers.IntegerField) and (
            isinstance(value, bool) or not isinstance(value, int)
        ):
            errors[name] = [serializers.ErrorDetail(_("A valid integer is required."), code="invalid")]
    return errors


def update_input(serializer: Any, *fixed: str) -> Any:
    """The PATCH body: the create input without the fields fixed once the object exists.

    Its own schema component, so the contract does not offer fields the server refuses.
    """
    meta = type(
        "Meta", (serializer.Meta,), {"fields": tuple(f for f in serializer.Meta.fields if f not in fixed)}
    )
    attrs: dict[str, Any] = dict.fromkeys(fixed)  # None removes an inherited declared field
    attrs.update(Meta=meta, __module__=serializer.__module__, __doc__=serializer.__doc__)
    name = serializer.__name__.replace("InputSerializer", "UpdateInputSerializer")
    return type(name, (serializer,), attrs)


def reject_unknown(data: Any, allowed: set[str]) -> None:
    """Raise for fields the endpoint does not take (plain serializers ignore them silently)."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError(
                {n: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")] for n in unknown}
            )


# A plain (non-model) input serializer that rejects fields it does not declare. (A comment,
# not a docstring: drf-spectacular would show it as every input schema's description.)
class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(data, set(self.fields))
        wrong_types = _strict_type_errors(self.fields, data)
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
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
            name: [serializers.ErrorDetail(_("Unknown or read-only field."), code="unknown_field")]
            for name in unknown
        }
        errors.update(_strict_type_errors(self.fields, data))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Report every problem at once: unknown fields and invalid values together.
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


class OutputModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Read-only model output whose blank-able choice fields say that ``""`` is sent.

    DRF drops ``allow_blank`` from read-only fields, so the schema would promise one of the
    choices while the server sends ``""`` (e.g. the first transition's ``from_status``).
    """

    def include_extra_kwargs(
        self, kwargs: MutableMapping[str, Any], extra_kwargs: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        keep_blank = bool(kwargs.get("allow_blank")) and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if keep_blank:
            kwargs["allow_blank"] = True
        return kwargs
