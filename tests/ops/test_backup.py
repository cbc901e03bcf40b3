"""The backup and restore drill (ops/backup.sh, ops/restore-drill.sh) on PostgreSQL: a dump of a
database with encrypted data and a sealed audit log, keys from a separate key backup, restored
into a fresh database where check_keys and verify_audit pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from casemgmt.models import User
from privacy.transparency import seal
from tests.factories import make_family, make_person

ROOT = Path(__file__).resolve().parents[2]
KEY_VARIABLES = (
    "FIELD_ENCRYPTION_KEYS",
    "FIELD_ENCRYPTION_ACTIVE_KEY",
    "BLIND_INDEX_KEYS",
    "AUDIT_SIGNING_KEY",
)


def key_file_from_environment(path: Path) -> Path:
    """The test keys as a KEY_FILE, the form a separate key backup takes."""

    def ring(keys: str, active: str) -> dict[str, object]:
        pairs = dict(item.split(":", 1) for item in keys.split(","))
        return {"active": active or next(iter(pairs)), "keys": pairs}

    env = os.environ
    data = {
        "encryption": ring(env["FIELD_ENCRYPTION_KEYS"], env.get("FIELD_ENCRYPTION_ACTIVE_KEY", "")),
        "blind_index": ring(env["BLIND_INDEX_KEYS"], env.get("BLIND_INDEX_ACTIVE_KEY", "")),
        "audit_signing": {"key": env["AUDIT_SIGNING_KEY"]},
    }
    path.write_text(json.dumps(data))
    return path


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(ROOT / "ops" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_drill_passes_with_the_separate_key_backup(
    case_manager: User, tmp_path: Path
) -> None:
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL and its client programs")
    family = make_family(case_manager, family_name="Zaharopoulou")
    make_person(family, case_manager, given_name="Evangelia", family_name="Zaharopoulou")
    assert seal() is not None  # a signed checkpoint over the entries

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
            "PYTHON": sys.executable,
            "DEBUG": "false",
            "DATABASE_URL": database_url(),
            "KEY_FILE": str(key_file_from_environment(tmp_path / "keys.json")),
            "KEY_BACKUP_DIR": str(tmp_path / "key-backups"),
        }
    )
    backup = run("backup.sh", str(tmp_path / "backups"), env=env)
    assert backup.returncode == 0, backup.stderr
    dumps = list((tmp_path / "backups").glob("casemgmt-*.dump"))
    assert len(dumps) == 1 and (tmp_path / "backups" / f"{dumps[0].name}.sha256").exists()
    assert b"Evangelia" not in dumps[0].read_bytes()  # ciphertext only
    assert len(list((tmp_path / "key-backups").glob("keys-*.json"))) == 1
    assert not list((tmp_path / "backups").glob("*.json"))  # keys are not beside the data

    # The drill reads keys from the key backup only (as after losing the server).
    drill_env = {k: v for k, v in env.items() if k not in KEY_VARIABLES}
    drill_env["KEY_FILE"] = str(next((tmp_path / "key-backups").glob("keys-*.json")))
    drill_env["RESTORE_DATABASE"] = f"{connection.settings_dict['NAME']}_drill"
    drill = run("restore-drill.sh", str(dumps[0]), env=drill_env)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "restore drill passed" in drill.stdout

    # With other keys the drill fails: a backup without its keys is worthless.
    wrong = tmp_path / "wrong-keys.json"
    data = json.loads(Path(drill_env["KEY_FILE"]).read_text())
    data["encryption"]["keys"] = {kid: "A" * 43 + "=" for kid in data["encryption"]["keys"]}
    wrong.write_text(json.dumps(data))
    failed = run("restore-drill.sh", str(dumps[0]), env={**drill_env, "KEY_FILE": str(wrong)})
    assert failed.returncode != 0 and "restore drill passed" not in failed.stdout


def test_key_backup_inside_the_data_backup_is_refused(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "KEY_FILE": str(tmp_path / "k.json"),
        "KEY_BACKUP_DIR": str(tmp_path / "backups" / "keys"),
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
    }
    # A stand-in pg_dump: the refusal is about where keys go, not about the dump.
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "pg_dump"
    fake.write_text('#!/bin/sh\nwhile [ "$1" != "--file" ]; do shift; done; echo dump > "$2"\n')
    fake.chmod(0o755)
    (tmp_path / "k.json").write_text("{}")
    result = run("backup.sh", str(tmp_path / "backups"), env=env)
    assert result.returncode == 2 and "must not be inside" in result.stderr
    assert not list((tmp_path / "backups" / "keys").glob("*.json"))


def test_backup_refuses_sqlite(tmp_path: Path) -> None:
    result = run("backup.sh", str(tmp_path), env={**os.environ, "DATABASE_URL": "sqlite:///x.sqlite3"})
    assert result.returncode == 2 and "not PostgreSQL" in result.stderr
