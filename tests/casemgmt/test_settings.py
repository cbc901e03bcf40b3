"""Start-up behaviour: production refuses to start without secrets; check --deploy is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from privacy.cipher.keys import new_key

ROOT = Path(__file__).resolve().parents[2]


def run_manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "FIELD_ENCRYPTION_KEYS",
            "BLIND_INDEX_KEYS",
            "KEY_FILE",
            "SECRET_KEY",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "FIELD_ENCRYPTION_ACTIVE_KEY",
            "AUDIT_SIGNING_KEY",
            "ALLOWED_HOSTS",
            "CACHE_BACKEND",
            "SECURE_SSL_REDIRECT",
        }
    }
    base.update({"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "casemgmt.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {"SECRET_KEY": new_key() + new_key(), "ALLOWED_HOSTS": "cases.example.org", "DEBUG": "false"}


def test_production_without_keys_refuses_to_start(tmp_path: Path) -> None:
    result = run_manage(["check"], PRODUCTION, tmp_path)
    assert result.returncode != 0
    assert "encryption keys are not configured" in result.stderr
    assert not (tmp_path / "dev-keys.json").exists()


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **PRODUCTION,
        "SECRET_KEY": "",
        "FIELD_ENCRYPTION_KEYS": f"a:{new_key()}",
        "BLIND_INDEX_KEYS": f"b:{new_key()}",
    }
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_malformed_key_refuses_to_start(tmp_path: Path) -> None:
    env = {**PRODUCTION, "FIELD_ENCRYPTION_KEYS": "a:dG9vc2hvcnQ", "BLIND_INDEX_KEYS": f"b:{new_key()}"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "must be 32 bytes" in result.stderr
    assert "dG9vc2hvcnQ" not in result.stderr


def test_production_without_audit_signing_key_refuses_to_start(tmp_path: Path) -> None:
    env = {**PRODUCTION, "FIELD_ENCRYPTION_KEYS": f"a:{new_key()}", "BLIND_INDEX_KEYS": f"b:{new_key()}"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "audit signing key is not configured" in result.stderr
    assert not (tmp_path / "dev-audit-signing-key.json").exists()


def test_audit_signing_key_must_differ_from_field_keys(tmp_path: Path) -> None:
    shared = new_key()
    env = {
        **PRODUCTION,
        "FIELD_ENCRYPTION_KEYS": f"a:{shared}",
        "BLIND_INDEX_KEYS": f"b:{new_key()}",
        "AUDIT_SIGNING_KEY": shared,
    }
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0 and "must differ" in result.stderr
    assert shared not in result.stderr


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    env = {
        **PRODUCTION,
        "FIELD_ENCRYPTION_KEYS": f"a:{new_key()}",
        "BLIND_INDEX_KEYS": f"b:{new_key()}",
        "AUDIT_SIGNING_KEY": new_key(),
    }
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_generates_keys_once(tmp_path: Path) -> None:
    result = run_manage(["check"], {"DEBUG": "true"}, tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "dev-keys.json"
    audit_key_file = tmp_path / "dev-audit-signing-key.json"
    content, audit_content = key_file.read_text(), audit_key_file.read_text()
    assert run_manage(["check"], {"DEBUG": "true"}, tmp_path).returncode == 0
    assert key_file.read_text() == content and audit_key_file.read_text() == audit_content
    assert oct(audit_key_file.stat().st_mode & 0o777) == "0o600"


def test_dev_key_file_is_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "var/" in ignored


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_boolean_refuses(tmp_path: Path, value: str) -> None:
    result = run_manage(["check"], {"DEBUG": value}, tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_openapi_schema_generates_without_warnings(tmp_path: Path) -> None:
    result = run_manage(
        ["spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")],
        {"DEBUG": "true"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "/api/v1/families/{id}/assign/" in (tmp_path / "schema.yaml").read_text()


def test_passwords_hashed_with_argon2_in_production_settings() -> None:
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    import casemgmt.settings as production

    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        assert make_password("correct horse battery").startswith("argon2$argon2id$")
