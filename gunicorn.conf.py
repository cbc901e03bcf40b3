"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py casemgmt.wsgi``.

The access log leaves out query strings (``%(U)s`` is the path only): searches carry names
and dates of birth in them. With ``LOG_FORMAT=json`` (the production default) each access
line is a JSON object carrying the request id the app put in ``X-Request-ID``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
accesslog = "-"
_debug = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}
if os.environ.get("LOG_FORMAT", "plain" if _debug else "json") == "json":
    access_log_format = (
        '{"time": "%(t)s", "logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", '
        '"status": %(s)s, "bytes": "%(B)s", "seconds": %(L)s, "request_id": "%({x-request-id}o)s"}'
    )
else:
    access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss %({x-request-id}o)s'
timeout = 30
limit_request_line = 8190


def child_exit(server: object, worker: object) -> None:
    """Metrics of several workers (PROMETHEUS_MULTIPROC_DIR): forget an exited worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
