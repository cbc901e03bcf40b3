"""Logging filters that keep personal data out of logs.

Searches put names and dates of birth into query strings (``?name=Müller``); the
development server's request log and the access logs of most servers print them. This
filter removes every query string from request log lines; ``gunicorn.conf.py`` does the
same for production access logs.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

_QUERY = re.compile(r"\?[^\s\"]*")


class RedactQueryStrings(logging.Filter):
    """Replace ``?...`` in request lines with ``?[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _QUERY.sub("?[redacted]", message)
            record.args = None
        return True


# --- Request ids and JSON logs (production).

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    """The id of the request being served in this context ("-" outside requests)."""
    return _request_id.get()


class RequestIdMiddleware:
    """Gives every request an id: the proxy's ``X-Request-ID`` if well-formed, else a new one.

    The id is in every log record of the request and in the response's ``X-Request-ID``, so
    a user's report ("it failed at 10:02, id …") finds the log lines without any personal data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if _CLIENT_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # for django.request's records
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id == "-":
            # django.request logs 4xx/5xx after the middleware has returned; its record
            # carries the request.
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


# Attributes Django and libraries attach to records that may hold a request, SQL parameters or
# other values: never serialised. Only the fields below and the (query-string-free) message are.
class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id; exception type only.

    No ``exc_info`` traceback text: tracebacks show local values and SQL parameters. The
    exception's type and the place it was raised are enough to find it in the code.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exception"] = exc_type.__name__
            if tb is not None:
                while tb.tb_next is not None:
                    tb = tb.tb_next
                entry["at"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(entry, ensure_ascii=False)
