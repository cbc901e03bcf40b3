"""Prometheus metrics (prometheus_client), served at ``/metrics`` to holders of ``METRICS_TOKEN``.

- ``casemgmt_http_request_duration_seconds{view,method,status}``: latency by view (the URL
  pattern's name, never the path: paths carry ids);
- ``casemgmt_http_request_db_queries{view,method}``: database queries per request;
- ``casemgmt_audit_sealing_lag_seconds``: age of the oldest audit entry not yet sealed into
  the transparency log (0 when everything is sealed);
- ``casemgmt_audit_unsealed_entries``, ``casemgmt_job_queue_depth{status}`` (django-tasks-db
  queue), ``casemgmt_worker_heartbeat_age_seconds``.

Labels never carry personal data, query strings or ids. The endpoint is not public: without
``METRICS_TOKEN`` it does not exist (404); with it, a scrape must send
``Authorization: Bearer <token>``. Under gunicorn with several workers set
``PROMETHEUS_MULTIPROC_DIR`` (an empty, writable directory) so that every worker's counts
are aggregated.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

METRICS_PATH = "/metrics"

REQUEST_SECONDS = Histogram(
    "casemgmt_http_request_duration_seconds",
    "Request latency by view",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_QUERIES = Histogram(
    "casemgmt_http_request_db_queries",
    "Database queries per request by view",
    ["view", "method"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200),
)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: audit sealing lag, job queue, worker heartbeat."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks_db.models import DBTaskResult

        from privacy.jobs import worker_heartbeat
        from privacy.models import AuditEntry

        now = timezone.now()
        unsealed = AuditEntry.objects.filter(seq__isnull=True)
        oldest = unsealed.order_by("timestamp").values_list("timestamp", flat=True).first()
        yield GaugeMetricFamily(
            "casemgmt_audit_sealing_lag_seconds",
            "Age of the oldest audit entry not yet sealed (0: all sealed)",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "casemgmt_audit_unsealed_entries", "Audit entries not yet sealed", value=unsealed.count()
        )
        depth = GaugeMetricFamily("casemgmt_job_queue_depth", "Background jobs by status", labels=["status"])
        counts = dict(
            DBTaskResult.objects.filter(status__in=("READY", "RUNNING"))
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in ("READY", "RUNNING"):
            depth.add_metric([status.lower()], counts.get(status, 0))
        yield depth
        beat = worker_heartbeat()
        yield GaugeMetricFamily(
            "casemgmt_worker_heartbeat_age_seconds",
            "Seconds since the job worker last ran its schedule (-1: never)",
            value=(now - beat).total_seconds() if beat else -1.0,
        )


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(DatabaseCollector())
    return registry


class _ProcessRegistry(Collector):
    """This process's own metrics (single-process servers)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The exposition, for a request with the right bearer token; 404 for anyone else."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse(
            b'{"code": "not_found", "detail": "Not found."}', status=404, content_type="application/json"
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Times every request and counts its queries, labelled by the resolved view's name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH:
            return metrics_view(request)
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        start = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unresolved"
        method = request.method if request.method in _METHODS else "other"
        REQUEST_SECONDS.labels(view, method, str(response.status_code)).observe(time.perf_counter() - start)
        REQUEST_QUERIES.labels(view, method).observe(queries)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
