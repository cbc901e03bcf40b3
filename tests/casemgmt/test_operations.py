"""Operations: probes, metrics, static files, request ids and logs without personal data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.utils import OperationalError
from django.test import Client, override_settings

from casemgmt import health
from casemgmt.logging import JsonFormatter, RedactQueryStrings, RequestIdFilter
from casemgmt.models import User
from privacy.jobs import schedule_tick
from tests.conftest import client_for
from tests.factories import make_family, make_person

PRODUCTION_EDGE = {"SECURE_SSL_REDIRECT": True, "ALLOWED_HOSTS": ["cases.example.org"]}


@pytest.fixture(autouse=True)
def _fresh_check_caches() -> Iterator[None]:
    health._migrations_applied = False
    health._keys_ok_until = 0.0
    yield
    health._migrations_applied = False
    health._keys_ok_until = 0.0


# --- probes


@override_settings(**PRODUCTION_EDGE)
def test_healthz_answers_plain_http_probe_by_ip_without_redirect_or_host_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
        head = Client().head("/healthz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert head.status_code == 200 and head.content == b""
    assert response["Cache-Control"] == "no-store" and "Set-Cookie" not in response
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@override_settings(**PRODUCTION_EDGE)
def test_only_the_exact_probe_paths_skip_redirect_and_host_check(db: None) -> None:
    client = Client()
    assert client.get("/healthz/", HTTP_HOST="10.0.0.7").status_code == 400  # host check as usual
    assert client.get("/healthzz", HTTP_HOST="10.0.0.7").status_code == 400
    assert client.get("/api/v1/families/", HTTP_HOST="10.0.0.7").status_code == 400
    assert client.post("/healthz", HTTP_HOST="10.0.0.7").status_code == 400
    redirected = client.get("/api/v1/families/", HTTP_HOST="cases.example.org")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://cases.example.org/")


@override_settings(**PRODUCTION_EDGE)
def test_readyz_needs_a_recent_worker_heartbeat(db: None) -> None:
    response = Client().get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "keys": "ok", "worker": "failed"},
    }
    schedule_tick()
    response = Client().get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readyz_fails_when_the_worker_heartbeat_is_old() -> None:
    import datetime

    from django.utils import timezone

    schedule_tick(timezone.now() - datetime.timedelta(minutes=10))
    assert Client().get("/readyz").json()["checks"]["worker"] == "failed"


def test_readyz_fails_when_keys_cannot_read_stored_data(case_manager: User) -> None:
    from privacy.cipher import crypto

    make_family(case_manager)
    schedule_tick()
    with mock.patch(
        "privacy.cipher.fields.EncryptedFieldMixin.open", side_effect=crypto.DecryptionError("x")
    ):
        response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["keys"] == "failed"


@pytest.mark.django_db
def test_readyz_without_database_is_503_without_details(caplog: pytest.LogCaptureFixture) -> None:
    secret = "password=hunter2 host=db.internal"
    with mock.patch.dict(
        health.READINESS_CHECKS, {"database": mock.Mock(side_effect=OperationalError(secret))}
    ):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["checks"].values()) == {"failed"}
    assert secret not in response.content.decode() and secret not in caplog.text
    assert "OperationalError" in caplog.text


@pytest.mark.django_db
def test_readiness_checks_are_a_registry() -> None:
    @health.readiness_check("extra")
    def extra() -> bool:
        return False

    try:
        assert Client().get("/readyz").json()["checks"]["extra"] == "failed"
    finally:
        del health.READINESS_CHECKS["extra"]


# --- metrics


def test_metrics_need_the_token(case_manager: User) -> None:
    assert Client().get("/metrics").status_code == 404  # no METRICS_TOKEN: no endpoint
    with override_settings(METRICS_TOKEN="s3cret-scrape-token"):
        assert Client().get("/metrics").status_code == 404
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


@override_settings(METRICS_TOKEN="s3cret-scrape-token")
def test_metrics_show_latency_by_view_queries_sealing_lag_and_queue(case_manager: User) -> None:
    make_family(case_manager)  # an unsealed audit entry
    client_for(case_manager).get("/api/v1/families/", {"name": "Haddad"})
    schedule_tick()  # enqueues a sealing job
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        'casemgmt_http_request_duration_seconds_count{method="GET",status="200",view="family-list"}' in text
    )
    assert 'casemgmt_http_request_db_queries_count{method="GET",view="family-list"}' in text
    lag = next(line for line in text.splitlines() if line.startswith("casemgmt_audit_sealing_lag_seconds "))
    assert float(lag.split()[1]) > 0
    ready = next(
        line for line in text.splitlines() if line.startswith('casemgmt_job_queue_depth{status="ready"}')
    )
    assert float(ready.split()[1]) >= 1  # the sealing job (and the nightly retention, by the clock)
    assert "Haddad" not in text and "name=" not in text


# --- static files


def test_admin_css_is_served_by_the_wsgi_app(tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        response = Client().get("/static/admin/css/base.css")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert "max-age" in response["Cache-Control"]


# --- logs


def production_log(records: list[logging.LogRecord]) -> str:
    """The records as the production handler writes them (filters, then the JSON formatter)."""
    formatter, lines = JsonFormatter(), []
    for record in records:
        RequestIdFilter().filter(record)
        RedactQueryStrings().filter(record)
        lines.append(formatter.format(record))
    return "\n".join(lines)


class _All(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs() -> Iterator[_All]:
    handler, root = _All(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_name_search_writes_no_name_to_the_logs(case_manager: User, all_logs: _All) -> None:
    family = make_family(case_manager, family_name="Zaharopoulou")
    make_person(family, case_manager, given_name="Evangelia", family_name="Zaharopoulou")
    api = client_for(case_manager)
    found = api.get("/api/v1/persons/", {"name": "Evangelia Zaharopoulou"})
    assert found.status_code == 200 and found.json()["count"] == 1
    bad = api.get("/api/v1/persons/", {"name": "Evangelia Zaharopoulou", "date_of_birth": "31.02.1980"})
    assert bad.status_code == 400
    missing = api.get("/api/v1/families/?name=Zaharopoulou&status=nonsense")
    assert missing.status_code == 400
    logged = production_log(all_logs.records)
    assert "Bad Request" in logged  # the 400s were logged, without what was searched
    for needle in ("zaharopoulou", "evangelia", "1980", "name="):
        assert needle not in logged.lower()


def test_log_lines_are_json_with_the_request_id(case_manager: User, all_logs: _All) -> None:
    response = client_for(case_manager).get(
        "/api/v1/persons/?date_of_birth=garbage", HTTP_X_REQUEST_ID="lb-1234abcd"
    )
    assert response.status_code == 400 and response["X-Request-ID"] == "lb-1234abcd"
    lines = [json.loads(line) for line in production_log(all_logs.records).splitlines()]
    request_lines = [line for line in lines if line["logger"] == "django.request"]
    assert request_lines and all(line["request_id"] == "lb-1234abcd" for line in request_lines)
    assert {"time", "level", "logger", "message", "request_id"} <= set(request_lines[0])


@pytest.mark.django_db
def test_a_malformed_request_id_is_replaced() -> None:
    response = Client().get("/api/v1/nope/", HTTP_X_REQUEST_ID="<script>\n")
    assert len(response["X-Request-ID"]) == 32 and response["X-Request-ID"].isalnum()


def test_json_formatter_leaves_out_exception_messages_and_tracebacks() -> None:
    try:
        raise ValueError("Key (given_name)=(Evangelia) already exists")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/api/v1/x/",),
            sys.exc_info(),
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["exception"] == "ValueError" and "test_operations.py" in line["at"]
    assert "Evangelia" not in json.dumps(line)


def test_production_logs_are_json_by_default(tmp_path: Path) -> None:
    from privacy.cipher.keys import new_key
    from tests.casemgmt.test_settings import PRODUCTION, run_manage

    env = {
        **PRODUCTION,
        "FIELD_ENCRYPTION_KEYS": f"a:{new_key()}",
        "BLIND_INDEX_KEYS": f"b:{new_key()}",
        "AUDIT_SIGNING_KEY": new_key(),
    }
    code = "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    result = run_manage(["shell", "-c", code], env, tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "json", result.stderr


# --- configuration errors


def test_configuration_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    from tests.casemgmt.test_settings import PRODUCTION, run_manage

    result = run_manage(["migrate"], PRODUCTION, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: ") and "keys" in lines[0]
