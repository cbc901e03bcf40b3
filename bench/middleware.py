"""Per-request instrumentation for the benchmark runner (installed only with BENCH=1)."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse


class QueryCountMiddleware:
    """Query count, worker pid and peak memory headers; ``X-Bench-Audit: off`` audits nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("X-Bench-Audit") == "off":
            # the unaudited baseline of the audit scaling benchmark (bench/audit_scaling.py)
            from auditlog.context import disable_auditlog

            with disable_auditlog():
                return self._measured(request)
        return self._measured(request)

    def _measured(self, request: HttpRequest) -> HttpResponse:
        count = [0]

        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count[0])
        response["X-Worker-Pid"] = str(os.getpid())
        response["X-Worker-MaxRSS-KB"] = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return response
