"""Search terms never reach the logs."""

from __future__ import annotations

import logging

import pytest

from casemgmt.logging import RedactQueryStrings


def test_query_strings_are_redacted() -> None:
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /api/v1/persons/?name=M%C3%BCller&date_of_birth=1980-01-01 HTTP/1.1", 200, 512),
        None,
    )
    RedactQueryStrings().filter(record)
    message = record.getMessage()
    assert "1980-01-01" not in message and "M%C3" not in message
    assert "/api/v1/persons/?[redacted]" in message


def test_runserver_request_log_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from django.conf import settings

    assert "redact_query_strings" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]


def test_gunicorn_access_log_has_no_query_string() -> None:
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text()
    assert "%(U)s" in conf and "%(r)s" not in conf and "%(q)s" not in conf
