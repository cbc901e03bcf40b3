"""gunicorn entry point for benchmarks: the production app, plus a raw WSGI floor.

``/bench/raw-families/?cm=<username>`` never reaches Django: one psycopg select of the same
50 family rows (ciphertexts as stored, hex-encoded by the database, nothing decrypted),
serialised with ``json``. It is
the physical floor a request through the framework is compared with.
"""

from __future__ import annotations

import json
import os
import resource
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from casemgmt.wsgi import application as django_application

RAW_PATH = "/bench/raw-families/"
SQL = """
SELECT f.id::text, f.reference, f.status, f.opened_on::text, encode(f.family_name, 'hex'),
       f.organisation_id::text
FROM casemgmt_family f JOIN casemgmt_user u ON u.id = f.case_manager_id
WHERE u.username = %s ORDER BY f.opened_on DESC, f.reference LIMIT 50
"""
_conn: Any = None


def _cursor() -> Any:
    global _conn
    import psycopg

    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _conn.cursor()


def raw_families(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    cm = parse_qs(environ.get("QUERY_STRING", "")).get("cm", [""])[0]
    with _cursor() as cur:
        rows = cur.execute(SQL, [cm]).fetchall()
    keys = ("id", "reference", "status", "opened_on", "family_name", "organisation")
    body = json.dumps({"results": [dict(zip(keys, row, strict=True)) for row in rows]}).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Query-Count", "1"),
            ("X-Worker-Pid", str(os.getpid())),
            ("X-Worker-MaxRSS-KB", str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)),
        ],
    )
    return [body]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == RAW_PATH:
        return raw_families(environ, start_response)
    return django_application(environ, start_response)  # type: ignore[no-any-return]
