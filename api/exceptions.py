"""One error shape for every 4xx: ``{"code", "detail", "errors"?}``.

``errors`` maps each offending field to a list of ``{"code", "message"}``, so clients can
react to a code and show the message. Bodies never echo submitted values.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldError, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
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


#: Validation codes the services use for "this case is closed".
CLOSED_CODES = frozenset({"closed"})


def _is_closed_case(exc: DjangoValidationError) -> bool:
    if hasattr(exc, "error_dict"):
        return any(error.code in CLOSED_CODES for errors in exc.error_dict.values() for error in errors)
    return any(error.code in CLOSED_CODES for error in exc.error_list)


def _first_message(exc: DjangoValidationError) -> str:
    return str(next(iter(exc.messages), _("This case is closed.")))


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
                "detail": _("The database is not reachable; nothing was changed. Retry later."),
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        unavailable["Retry-After"] = "5"
        return unavailable
    if isinstance(exc, RecursionError):
        # json.loads of a deeply nested body ([[[[...]]]] 50,000 levels) raises this, not a ValueError.
        exc = exceptions.ParseError(_("JSON parse error - nested too deeply."))
    if isinstance(exc, Conflict):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError) and _is_closed_case(exc):
        # Work on a closed case conflicts with its state (409, like every state conflict),
        # it is not invalid input.
        return Response(
            {"code": "case_closed", "detail": _first_message(exc)}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        model_errors = as_serializer_error(exc)
        # Model-level errors arrive under Django's "__all__"; the API names them like DRF does.
        if NON_FIELD_ERRORS in model_errors:
            model_errors[api_settings.NON_FIELD_ERRORS_KEY] = model_errors.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(model_errors)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        # A service refusing a foreign object raises the error of a missing one: both are 404.
        exc = exceptions.NotFound()
    elif isinstance(exc, FieldError):
        # An encrypted field reached by an unsupported lookup is a programming error, but
        # the request that triggered it is answered with a 400, never a 500.
        logger.error("Unsupported lookup: %s", exc)
        exc = exceptions.ValidationError({"non_field_errors": [_("This search is not supported.")]})

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": "invalid", "detail": _("Invalid input."), "errors": _field_errors(detail)}
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
    return JsonResponse(
        {
            "code": "server_error",
            "detail": _("An unexpected error occurred; it was logged for the operators."),
        },
        status=500,
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Every unmatched path under /api/ answers in the error shape (Django's 404 is an HTML page).

    A path that exists with a trailing slash is redirected for GET/HEAD (like APPEND_SLASH);
    other methods get a 404 that names the right path (a redirect would drop the body).
    """
    from django.http import HttpResponsePermanentRedirect
    from django.urls import Resolver404, resolve

    slashed = f"{request.path}/"
    try:
        match = resolve(slashed) if not request.path.endswith("/") else None
    except Resolver404:
        match = None
    if match is not None and match.func is not api_not_found:
        if request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{slashed}?{query}" if query else slashed)
        return JsonResponse(
            {"code": "not_found", "detail": f"No such endpoint; paths end with a slash: {slashed}"},
            status=404,
        )
    return JsonResponse({"code": "not_found", "detail": _("No such endpoint.")}, status=404)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: JSON under /api/, Django's page elsewhere (the admin)."""
    if _wants_json(request):
        return JsonResponse(
            {"code": "not_found", "detail": _("No such object, or not accessible to you.")}, status=404
        )
    return defaults.page_not_found(request, exception or Http404())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 handler (e.g. a disallowed Host): JSON under /api/."""
    if _wants_json(request):
        return JsonResponse({"code": "bad_request", "detail": _("Bad request.")}, status=400)
    return defaults.bad_request(request, exception or Exception())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 403 handler (e.g. CSRF outside DRF): JSON under /api/."""
    if _wants_json(request):
        return JsonResponse({"code": "permission_denied", "detail": _("Forbidden.")}, status=403)
    return defaults.permission_denied(request, exception or DjangoPermissionDenied())
