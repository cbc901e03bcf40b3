"""Query parameters of the report endpoints (registry, subject export, statistics).

These endpoints take ``format`` as their own parameter (json, csv, html), so DRF's format
override is switched off for them and every parameter is validated here: unknown ones,
choices and periods answer 400 with the usual error body.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

MAX_PERIOD_DAYS = 10 * 366
PERIOD_FROM = "start, YYYY-MM-DD (default: 1 January of this year); at most ten years (3660 days) before `to`"
PERIOD_TO = "end, YYYY-MM-DD (default: today); not before `from`"


def report_responses(*media_types: str) -> dict[Any, Any]:
    """A report is a JSON object by default, or the ``format`` asked for with its media type."""
    from drf_spectacular.types import OpenApiTypes

    responses: dict[Any, Any] = {(200, "application/json"): OpenApiTypes.OBJECT}
    for media_type in media_types:
        responses[(200, media_type)] = OpenApiTypes.STR
    return responses


class OwnFormatParameter:
    """Always render errors and JSON bodies as JSON; the view chooses CSV/HTML itself."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return JSONRenderer(), "application/json"


def check_params(params: Any, allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise exceptions.ValidationError({name: [_("Unknown parameter.")] for name in unknown})


def choice(params: Any, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(key, default)
    if value not in allowed:
        raise exceptions.ValidationError({key: [f"Choose one of: {', '.join(allowed)}."]})
    return str(value)


def period(params: Any) -> tuple[datetime.date, datetime.date]:
    """``from``/``to`` (default: this calendar year so far), in order, at most ten years."""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    values = {}
    for key, default in (("from", today.replace(month=1, day=1)), ("to", today)):
        raw = params.get(key)
        try:
            values[key] = datetime.date.fromisoformat(raw) if raw else default
        except ValueError:
            errors[key] = [_("Use a date in the form YYYY-MM-DD.")]
    if errors:
        raise exceptions.ValidationError(errors)
    if values["from"] > values["to"]:
        raise exceptions.ValidationError({"from": [_("The period starts after it ends.")]})
    if (values["to"] - values["from"]).days > MAX_PERIOD_DAYS:
        raise exceptions.ValidationError({"to": [_("The period is longer than ten years.")]})
    return values["from"], values["to"]
