"""ops/entrypoint.sh run directly, as the container runs it: gunicorn and the worker on a fresh
database, probed over plain HTTP by IP like a load balancer, static files, metrics and logs."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy.cipher.keys import new_key

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "ops" / "entrypoint.sh"

CLEARED = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "ALLOWED_HOSTS",
    "CACHE_BACKEND",
    "SECURE_SSL_REDIRECT",
    "DEBUG",
    "KEY_FILE",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    (tmp_path / "secret_key").write_text(new_key() + new_key() + "\n")
    env.update(
        {
            "PYTHON": sys.executable,
            "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
            "DEBUG": "false",
            "SECRET_KEY": "",
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "VAR_DIR": str(tmp_path),
            "STATIC_ROOT": str(tmp_path / "static"),
            "ALLOWED_HOSTS": "cases.example.org",
            "BEHIND_TLS_PROXY": "true",
            "METRICS_TOKEN": "scrape-token-for-tests",
            "GUNICORN_WORKERS": "1",
            "DB_WAIT_SECONDS": "10",
            "AUDIT_SEAL_INTERVAL_SECONDS": "0.5",
            **extra,
        }
    )
    return env


def get(
    port: int, path: str, host: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_for(port: int, path: str, status: int, seconds: float) -> tuple[int, dict[str, str], bytes]:
    deadline, last = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        try:
            last = get(port, path, "10.0.0.7")
            if last[0] == status:
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{path} did not answer {status} within {seconds} s: {last!r}")


def stop(process: subprocess.Popen[str]) -> str:
    if process.stdout is None or process.stdout.closed:
        return ""  # already stopped and read
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    out, _ = process.communicate()
    return out


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str], subprocess.Popen[str]]]:
    port = free_port()
    env = environment(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}")
    subprocess.run(
        [str(ENTRYPOINT), "manage", "collectstatic", "--noinput", "-v", "0"], env=env, check=True, timeout=300
    )
    options = {"env": env, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    web = subprocess.Popen([str(ENTRYPOINT), "web"], **options)  # type: ignore[call-overload]
    worker = None
    try:
        wait_for(port, "/healthz", 200, 180)  # migrations on a fresh database first
        worker = subprocess.Popen([str(ENTRYPOINT), "worker"], **options)  # type: ignore[call-overload]
        yield port, web, worker
    finally:
        stop(web)
        if worker is not None:
            stop(worker)


def test_entrypoint_runs_app_and_worker_that_pass_the_probes(
    started: tuple[int, subprocess.Popen[str], subprocess.Popen[str]],
) -> None:
    port, web, _worker = started
    # Liveness and readiness over plain HTTP, addressed by IP: no redirect, no host error.
    status, headers, body = get(port, "/healthz", "10.0.0.7")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = wait_for(port, "/readyz", 200, 120)  # once the worker has beaten
    assert json.loads(body)["checks"] == {"database": "ok", "migrations": "ok", "keys": "ok", "worker": "ok"}
    # Everything else: host check and HTTPS redirect as before.
    assert get(port, "/api/v1/families/", "10.0.0.7")[0] == 400
    status, headers, _ = get(port, "/api/v1/families/", "cases.example.org")
    assert status == 301 and headers["location"].startswith("https://")
    # Static files from gunicorn itself (WhiteNoise).
    tls = {"X-Forwarded-Proto": "https"}
    status, headers, body = get(port, "/static/admin/css/base.css", "cases.example.org", tls)
    assert status == 200 and headers["content-type"].startswith("text/css") and body
    # Metrics with the token only.
    assert get(port, "/metrics", "10.0.0.7")[0] == 404
    status, _, body = get(port, "/metrics", "10.0.0.7", {"Authorization": "Bearer scrape-token-for-tests"})
    assert status == 200 and b"casemgmt_audit_sealing_lag_seconds" in body
    # A search in the query string: the access log shows the path only.
    status, headers, _ = get(port, "/api/v1/persons/?name=Evangelia", "cases.example.org", tls)
    assert status == 401
    request_id = headers["x-request-id"]
    web.send_signal(signal.SIGTERM)
    output = stop(web)
    assert "Evangelia" not in output
    access = [json.loads(line) for line in output.splitlines() if '"logger": "gunicorn.access"' in line]
    assert {"path": "/api/v1/persons/", "status": 401, "request_id": request_id}.items() <= next(
        line for line in access if line["request_id"] == request_id
    ).items()


def test_entrypoint_configuration_error_is_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path, SECRET_KEY_FILE=str(tmp_path / "missing"))
    result = subprocess.run([str(ENTRYPOINT), "web"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"Configuration error: SECRET_KEY_FILE={tmp_path / 'missing'} is not readable."
    )


def test_gunicorn_stops_with_one_line_on_a_configuration_error(tmp_path: Path) -> None:
    env = environment(tmp_path, GUNICORN_BIND=f"127.0.0.1:{free_port()}", FIELD_ENCRYPTION_KEYS="")
    for name in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY"):
        env.pop(name, None)
    env["SECRET_KEY"] = "x" * 60
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "casemgmt.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Configuration error: " in result.stderr and "encryption keys" in result.stderr
    assert "Traceback" not in result.stderr
