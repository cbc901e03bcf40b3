"""Static checks of the deployment files (no Docker daemon on the build machine): compose.yaml's
structure, the Dockerfile's rules, the lockfiles and the Makefile's use of them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def test_compose_runs_postgres_app_and_worker_with_secrets_from_files() -> None:
    data = compose()
    services = data["services"]
    assert set(services) == {"db", "app", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "healthcheck" in services["db"]
    for name in ("app", "worker"):
        service = services[name]
        assert service["build"] == "."
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        env = service["environment"]
        assert env["DEBUG"] == "false"
        # Secrets are files, never values in the compose file or the environment.
        assert {"SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "AUDIT_SIGNING_KEY"}.isdisjoint(env)
        assert env["KEY_FILE"] == "/run/secrets/keys.json"
        for secret in service["secrets"]:
            assert secret in data["secrets"] and data["secrets"][secret]["file"].startswith("./secrets/")
    assert services["app"]["command"] == ["web"] and services["worker"]["command"] == ["worker"]
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    # Published on the host's loopback only, for the TLS proxy in front.
    assert all(port.startswith("127.0.0.1:") for port in services["app"]["ports"])
    assert (ROOT / ".gitignore").read_text().count("secrets/") == 1


def test_compose_environment_names_are_settings_or_entrypoint_variables() -> None:
    known = (ROOT / "casemgmt" / "settings.py").read_text() + (ROOT / "ops" / "entrypoint.sh").read_text()
    known += (ROOT / "gunicorn.conf.py").read_text() + (ROOT / "casemgmt" / "metrics.py").read_text()
    for name in compose()["services"]["app"]["environment"]:
        assert name in known, name


def test_dockerfile_is_multi_stage_slim_non_root_without_build_tools_in_the_final_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", text)
    final = stages[-1]
    assert "build-essential" not in final and "apt-get install" not in final and "gcc" not in final
    assert re.search(r"^USER (?!root)\S+", final, flags=re.M)
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "--require-hashes -r /tmp/prod.lock" in stages[0]
    assert 'ENTRYPOINT ["/app/ops/entrypoint.sh"]' in final and "HEALTHCHECK" in final
    assert "collectstatic" in final
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "secrets"} <= set(ignored)


def test_lockfiles_pin_every_package_with_hashes() -> None:
    for name in ("prod.lock", "dev.lock"):
        text = (ROOT / "requirements" / name).read_text()
        requirements = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, flags=re.M)
        assert len(requirements) > 20
        blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", text, flags=re.M)[1:]
        assert all("--hash=sha256:" in block for block in blocks)
    prod = (ROOT / "requirements" / "prod.lock").read_text().lower()
    for package in ("django==", "whitenoise==", "gunicorn==", "psycopg==", "prometheus-client=="):
        assert f"\n{package}" in prod
    assert "\npytest==" not in prod


def test_make_install_uses_the_lock_and_audit_deps_is_strict() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements/dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    audit = makefile.split("\naudit-deps:", 1)[1].split("\n\n", 1)[0]
    assert "--strict" in audit
    assert "\nlock:" in makefile


def test_entrypoint_and_ops_scripts_are_executable_posix_shell() -> None:
    for script in ("entrypoint.sh", "backup.sh", "restore-drill.sh", "make-secrets.sh"):
        path = ROOT / "ops" / script
        assert path.read_text().startswith("#!/bin/sh\n") and path.stat().st_mode & 0o111, script
