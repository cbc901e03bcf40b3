"""django-axes hooks: how a login attempt is identified and what a locked-out client sees.

Attempts are counted per username, hashed after normalisation, so the lockout store never
holds an attempted username (people type passwords into the username field) and spelling
variants ("Admin", " admin") count against the same account. The hash is keyed (HMAC with
SECRET_KEY): an unkeyed hash of a mistyped password could be guessed offline by whoever
reads the store.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import salted_hmac

from privacy.audit import client_address


def _attempted_username(request: HttpRequest, credentials: dict[str, Any] | None) -> Any:
    if credentials and "username" in credentials:
        return credentials["username"]
    return request.POST.get("username") if request.method == "POST" else None


def hashed_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: a hash of the normalised username (None for a non-string)."""
    username = _attempted_username(request, credentials)
    if not isinstance(username, str) or not username.strip():
        return None
    normalised = username.strip().casefold()[:150]
    return salted_hmac("casemgmt.lockout.username", normalised, algorithm="sha256").hexdigest()


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same client address as the audit log (NUM_PROXIES aware)."""
    return client_address(request)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; the usual JSON error body on the API."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    detail = "Too many failed logins for this account; try again later."
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "detail": detail}, status=429)
    else:
        response = HttpResponse(detail, content_type="text/plain; charset=utf-8", status=429)
    response["Retry-After"] = str(seconds)
    return response
