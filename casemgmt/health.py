"""Probes for load balancers and orchestrators: ``/healthz`` (liveness) and ``/readyz`` (readiness).

Both are answered by :class:`ProbeMiddleware`, first in ``MIDDLEWARE``: before
``SecurityMiddleware`` (whose HTTPS redirect would answer a plain-HTTP probe with a 301) and
before anything calls ``request.get_host()`` (a probe addressed by IP would be a 400 with a
``DisallowedHost`` traceback in the log). That is safe because the middleware answers exactly
these two paths, for GET and HEAD only, with a fixed body that says nothing about data: no
redirect, no cookie, no Host-derived URL. Every other request goes through the full stack.

Readiness runs the checks in :data:`READINESS_CHECKS` (register more with
:func:`readiness_check`); each answers ``ok`` or ``failed``. Why a check failed goes to the
log (exception type only), never into the answer.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"

Check = Callable[[], bool]
READINESS_CHECKS: dict[str, Check] = {}


def readiness_check(name: str) -> Callable[[Check], Check]:
    """Register a readiness check: a callable that returns True when ready (or raises)."""

    def register(check: Check) -> Check:
        READINESS_CHECKS[name] = check
        return check

    return register


@readiness_check("database")
def database_reachable() -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        return bool(cursor.fetchone() == (1,))


_migrations_applied = False


@readiness_check("migrations")
def migrations_applied() -> bool:
    """No unapplied migration (remembered once true: migrations are not undone under a running app)."""
    global _migrations_applied
    if not _migrations_applied:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrations_applied


_keys_ok_until = 0.0


@readiness_check("keys")
def keys_read_stored_data() -> bool:
    """The configured keys decrypt one stored value per encrypted column (rechecked once a minute)."""
    global _keys_ok_until
    if time.monotonic() < _keys_ok_until:
        return True
    from privacy.cipher import crypto
    from privacy.rotation import one_value_per_column

    for field, pk, stored in one_value_per_column():
        try:
            field.open(stored, pk=pk)
        except crypto.DecryptionError:
            return False
    _keys_ok_until = time.monotonic() + 60
    return True


@readiness_check("worker")
def worker_heartbeat_recent() -> bool:
    """The job worker (audit sealing, retention) has run its schedule recently."""
    from privacy.jobs import worker_heartbeat

    beat = worker_heartbeat()
    max_age = datetime.timedelta(seconds=settings.READINESS_WORKER_MAX_AGE_SECONDS)
    return beat is not None and timezone.now() - beat <= max_age


def readiness() -> dict[str, str]:
    """Run every registered check: name → "ok" | "failed"."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            ok = bool(check())
        except Exception as exc:
            # The type only: messages of database errors can quote SQL parameters.
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
            ok = False
            if name == "database":
                # Without a database the other checks can only fail the same way.
                results[name] = "failed"
                return results | {other: "failed" for other in READINESS_CHECKS if other != name}
        else:
            if not ok:
                logger.warning("readiness check %s failed", name)
        results[name] = "ok" if ok else "failed"
    return results


def _json(status: int, body: dict[str, Any], head: bool) -> HttpResponse:
    response = HttpResponse(
        b"" if head else json.dumps(body).encode(), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    """Answers ``GET|HEAD /healthz`` and ``/readyz`` before HTTPS redirect and host validation."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in (LIVENESS_PATH, READINESS_PATH) or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        head = request.method == "HEAD"
        if path == LIVENESS_PATH:
            # Liveness: the process answers. No database: a database outage must not restart
            # every app server at once.
            return _json(200, {"status": "ok"}, head)
        checks = readiness()
        ok = all(result == "ok" for result in checks.values())
        return _json(200 if ok else 503, {"status": "ok" if ok else "unavailable", "checks": checks}, head)
