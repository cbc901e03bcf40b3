"""One error shape for every 4xx: ``{"code", "detail", "errors"?}``.

``errors`` maps each offending field to a list of ``{"code", "message"}``, so clients can
react to a code and show the message. Bodies never echo submitted values.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from casemgmt.errors import Conflict

logger = logging.getLogger(__name__)


def _field_errors(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [{"code": item.code, "message": str(item)} for item in detail]
        return [_field_errors(item) for item in detail]
    if isinstance(detail, exceptions.ErrorDetail):
        return [{"code": detail.code, "message": str(detail)}]
    return detail


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate Django's own exceptions and give every error the same machine-readable body."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away: the transaction was rolled back, so nothing was written.
        logger.error(
            "Database unavailable: %s: %s",
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "",
        )
        unavailable = Response(
            {
                "code": "service_unavailable",
                "detail": "The database is not reachable; nothing was changed. Retry later.",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        unavailable["Retry-After"] = "5"
        return unavailable
    if isinstance(exc, Conflict):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        model_errors = as_serializer_error(exc)
        # Model-level errors arrive under Django's "__all__"; the API names them like DRF does.
        if NON_FIELD_ERRORS in model_errors:
            model_errors[api_settings.NON_FIELD_ERRORS_KEY] = model_errors.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(model_errors)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, FieldError):
        # An encrypted field reached by an unsupported lookup is a programming error, but
        # the request that triggered it is answered with a 400, never a 500.
        logger.error("Unsupported lookup: %s", exc)
        exc = exceptions.ValidationError({"non_field_errors": ["This search is not supported."]})

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": "invalid", "detail": "Invalid input.", "errors": _field_errors(detail)}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        code = exc.detail.code if isinstance(exc.detail, exceptions.ErrorDetail) else exc.default_code
        response.data = {"code": code, "detail": str(exc.detail)}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            response.data["retry_after"] = int(wait)
    return response


def server_error(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Django's 500 handler, in the API's error shape: no stack trace, no SQL, no values."""
    from django.http import JsonResponse

    return JsonResponse(
        {"code": "server_error", "detail": "An unexpected error occurred; it was logged for the operators."},
        status=500,
    )
