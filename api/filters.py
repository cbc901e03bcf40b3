"""Query-parameter filters that are as strict as the schema says they are."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class StrictBooleanField(forms.Field):
    """Only ``true`` or ``false``: NullBooleanField reads ``1``, ``yes`` or garbage as "no filter"."""

    default_error_messages = {"invalid": "Use true or false."}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return bool(value == "true")
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean query parameter: ``true``/``false``, anything else answers 400."""

    field_class = StrictBooleanField
