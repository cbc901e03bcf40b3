"""Benchmark runner: the real HTTP API under gunicorn on PostgreSQL, concurrent clients,
and side-by-side ratios measured in one run. Prints a table and writes bench/RESULTS.md.

    python -m bench.run --size quick     # 10,000 families (make bench-quick)
    python -m bench.run --size full      # 100,000 families, and the 10,000 one for ratios (make bench)

Databases are created on the PostgreSQL server in BENCH_PG (default
postgres://postgres@127.0.0.1:5432) and generated once; later runs reuse them.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SIZES = {"quick": 10_000, "full": 100_000}
PASSWORD = "bench-password-2026"  # noqa: S105


def bench_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "BENCH": "1",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789",
            "KEY_FILE": str(ROOT / "var" / "bench-keys.json"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "CACHE_BACKEND": "locmem",
            "LOG_LEVEL": "WARNING",
            "LOGIN_RATE_PER_ADDRESS": "10000/min",
            "LOGIN_RATE_PER_USERNAME": "10000/min",
            "AUDIT_SIGNING_KEY": bench_audit_key(),
        }
    )
    return env


def bench_audit_key() -> str:
    """The benchmark's own audit signing key (var/bench-audit-key), generated once."""
    path = ROOT / "var" / "bench-audit-key"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from privacy.cipher.keys import new_key

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key())
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_keys() -> None:
    path = ROOT / "var" / "bench-keys.json"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from privacy.cipher.keys import write_dev_key_file

        write_dev_key_file(path)


def ensure_database(base: str, families: int) -> str:
    """Create, migrate and fill the benchmark database of this size unless it exists."""
    import psycopg

    name = f"{os.environ.get('BENCH_DB_PREFIX', 'casemgmt_bench')}_{families // 1000}k"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    env = bench_env(url)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "-m", "bench.generate", "--families", str(families)], cwd=ROOT, env=env, check=True)
    # VACUUM as well as ANALYZE: a production database is autovacuumed, so its visibility map
    # lets the grant lookups run as index-only scans; a freshly generated one has no map yet.
    subprocess.run(
        [
            PY,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return url


class Server:
    """gunicorn with the production WSGI app on a local port."""

    def __init__(self, database_url: str, port: int, workers: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "bench.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                "-",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=bench_env(database_url),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def request(
    method: str, port: int, path: str, body: Any = None, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, data
    conn.close()
    return result


def login(port: int, username: str) -> str:
    status, _, data = request(
        "POST", port, "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"login {username}: {status} {data[:200]!r}")
    return str(json.loads(data)["token"])


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    rss_kb: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def run_interleaved(names: list[str], port: int, makers: list[Any], n: int, concurrency: int) -> list[Result]:
    """Several variants in one run, request by request in turn, so load and drift hit them alike."""
    results = [Result(name) for name in names]
    lock = threading.Lock()
    counter = iter(range(n * len(names)))

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            k = i % len(names)
            method, path, body, token = makers[k](i // len(names))
            started = time.perf_counter()
            status, headers, _ = request(method, port, path, body, token)
            elapsed = time.perf_counter() - started
            with lock:
                r = results[k]
                if status >= 400:
                    r.errors += 1
                else:
                    r.latencies.append(elapsed)
                r.queries.append(int(headers.get("x-query-count", 0)))
                pid = headers.get("x-worker-pid", "?")
                r.rss_kb[pid] = max(r.rss_kb.get(pid, 0), int(headers.get("x-worker-maxrss-kb", 0)))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for r in results:
        r.wall = wall / len(names)  # each variant had its share of the wall time
    return results


def run_scenario(name: str, port: int, make_request: Any, n: int, concurrency: int) -> Result:
    """``make_request(i)`` returns (method, path, body, token); n requests over ``concurrency`` threads."""
    return run_interleaved([name], port, [make_request], n, concurrency)[0]


def crypto_comparison(n: int = 500, rounds: int = 80) -> dict[str, float]:
    """Per 64-byte value (encrypt + decrypt): our envelope and the field path against bare AES-GCM.

    The variants run in alternating batches of ``n`` values, ``rounds`` times, and each
    figure is the median over the rounds (ratios: the median of the per-round ratios), so
    load on the machine hits every variant alike. Beside them: Fernet (as
    django-fernet-fields does it) and the floor of any text column, bare AES-GCM plus the
    base64url round trip of nonce and ciphertext.
    """
    os.environ.update(bench_env("sqlite:///:memory:"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "casemgmt.settings"
    sys.path.insert(0, str(ROOT))
    import binascii
    import statistics

    import django

    django.setup()
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from casemgmt.models import Family
    from privacy.cipher import crypto

    value = "x" * 64
    fernet = Fernet(Fernet.generate_key())
    field = Family._meta.get_field("notes")
    family = Family(pk=uuid.UUID(int=1))
    family.notes = value
    loaded = Family(pk=family.pk)
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = b"e2|casemgmt_family.notes|k1|" + b"0" * 36  # same length as ours: table.column, key id, row

    def ours() -> None:
        crypto.decrypt(
            crypto.encrypt(value, context="casemgmt_family.notes", row="r"),
            context="casemgmt_family.notes",
            row="r",
        )

    def field_path() -> None:
        stored = field.pre_save(family, add=True)  # encrypt, bound to table, column and row
        loaded.__dict__[field.attname] = field.from_db_value(stored, None, None)  # as a query loads it
        assert loaded.notes == value  # decrypt on first access

    def bare() -> None:
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, value.encode(), aad), aad)

    def base64_floor() -> None:
        nonce = os.urandom(12)
        text = binascii.b2a_base64(nonce + aead.encrypt(nonce, value.encode(), aad), newline=False)
        blob = binascii.a2b_base64(text.decode("ascii"))
        aead.decrypt(blob[:12], blob[12:], aad)

    def fernet_round() -> None:
        fernet.decrypt(fernet.encrypt(value.encode()))

    variants = {
        "ours": ours,
        "field": field_path,
        "bare": bare,
        "floor": base64_floor,
        "fernet": fernet_round,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            started = time.perf_counter()
            for _ in range(n):
                run()
            times[name].append((time.perf_counter() - started) / n * 1e6)

    def over_bare(name: str) -> float:
        return statistics.median(t / b for t, b in zip(times[name], times["bare"], strict=True))

    return {
        "bare_us": statistics.median(times["bare"]),
        "field_us": statistics.median(times["field"]),
        "ours_us": statistics.median(times["ours"]),
        "floor_us": statistics.median(times["floor"]),
        "fernet_us": statistics.median(times["fernet"]),
        "ours_ratio": over_bare("ours"),
        "field_ratio": over_bare("field"),
        "floor_ratio": over_bare("floor"),
        "ours_bytes": len(crypto.encrypt(value, context="casemgmt_family.notes", row="r")),
        "fernet_bytes": len(fernet.encrypt(value.encode())),
    }


def scenarios(port: int, n: int, concurrency: int) -> list[Result]:
    cm = login(port, "bench_cm000")
    supervisor = login(port, "bench_supervisor")
    _, _, data = request("GET", port, "/api/v1/families/?page_size=200&status=active", token=cm)
    families = [f["id"] for f in json.loads(data)["results"]]
    _, _, data = request("GET", port, "/api/v1/persons/?page_size=200", token=cm)
    people = json.loads(data)["results"]
    names = [f"{p['given_name']} {p['family_name']}" for p in people]
    _, _, data = request("GET", port, "/api/v1/fields-of-action/", token=cm)
    field_id = json.loads(data)[0]["id"]
    _, _, data = request("GET", port, "/api/v1/courses/?page_size=1", token=cm)
    course = json.loads(data)["results"][0]["id"]
    # The writes act in another caseload: what they add (goals, sent referrals) would
    # otherwise pile up in the read scenarios' caseload run after run, and the dashboard
    # measured today would not be the one measured yesterday.
    writer = login(port, "bench_cm001")
    _, _, data = request("GET", port, "/api/v1/families/?page_size=200&status=active", token=writer)
    writer_families = [f["id"] for f in json.loads(data)["results"]]
    _, _, data = request("GET", port, "/api/v1/persons/?page_size=200", token=writer)
    writer_people = json.loads(data)["results"]
    open_people = [p["id"] for p in writer_people if p["family"] in set(writer_families)] or [
        p["id"] for p in writer_people
    ]
    drafts: list[str] = []
    for i in range(n):  # fresh draft referrals, so every run can transition them (not timed)
        _, _, data = request(
            "POST",
            port,
            "/api/v1/referrals/",
            {"person": open_people[i % len(open_people)], "course": course},
            writer,
        )
        drafts.append(json.loads(data)["id"])
    rng = random.Random(7)
    results = [
        *run_interleaved(
            [
                "family list (50, encrypted, scoped)",
                "family list, cursor mode",
                "family list, bare DRF ListAPIView",
                "family list, raw WSGI + psycopg",
                "family list, plain-field baseline",
                "family list, unscoped baseline",
                "caseload dashboard (deadlines)",
            ],
            port,
            [
                lambda i: ("GET", "/api/v1/families/?page_size=50", None, cm),
                lambda i: ("GET", "/api/v1/families/?page_size=50&cursor=", None, cm),
                lambda i: ("GET", "/bench/bare-families/?page_size=50&cm=bench_cm000", None, None),
                lambda i: ("GET", "/bench/raw-families/?cm=bench_cm000", None, None),
                lambda i: ("GET", "/bench/plain-families/?page_size=50", None, cm),
                lambda i: ("GET", "/bench/families-unscoped/?page_size=50", None, cm),
                # Everything due in the next 14 days and overdue, in the whole caseload.
                lambda i: ("GET", "/api/v1/dashboard/", None, cm),
            ],
            n,
            concurrency,
        ),
        run_scenario(
            "supervisor caseload counts",
            port,
            lambda i: ("GET", "/api/v1/dashboard/caseloads/", None, supervisor),
            max(5, n // 10),
            1,
        ),
        run_scenario(
            "family detail",
            port,
            lambda i: ("GET", f"/api/v1/families/{rng.choice(families)}/", None, cm),
            n,
            concurrency,
        ),
        run_scenario(
            "person search by name",
            port,
            lambda i: ("GET", f"/api/v1/persons/?name={_q(rng.choice(names))}", None, cm),
            n,
            concurrency,
        ),
        run_scenario(
            "goal create",
            port,
            lambda i: (
                "POST",
                "/api/v1/goals/",
                {
                    "family": rng.choice(writer_families),
                    "field_of_action": field_id,
                    "description": "Bench-Ziel",
                },
                writer,
            ),
            n,
            concurrency,
        ),
        run_scenario(
            "referral transition",
            port,
            lambda i: ("POST", f"/api/v1/referrals/{drafts[i]}/transition/", {"to": "sent"}, writer),
            min(n, len(drafts)),
            concurrency,
        ),
        run_scenario(
            "stats (all goals, by field)",
            port,
            lambda i: (
                "GET",
                "/api/v1/stats/outcomes/?from=2022-01-01&to=2026-12-31&group_by=field_of_action",
                None,
                supervisor,
            ),
            5,
            1,
        ),
    ]
    return results


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def search_only(port: int, n: int, concurrency: int) -> Result:
    cm = login(port, "bench_cm000")
    _, _, data = request("GET", port, "/api/v1/persons/?page_size=200", token=cm)
    names = [f"{p['given_name']} {p['family_name']}" for p in json.loads(data)["results"]]
    rng = random.Random(7)
    return run_scenario(
        "person search",
        port,
        lambda i: ("GET", f"/api/v1/persons/?name={_q(rng.choice(names))}", None, cm),
        n,
        concurrency,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="quick")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    # One client, as the issues measure the ratios: with several clients on the two cores the
    # server shares with them, queueing decides the latencies (list / bare DRF read 0.94x with
    # four clients, between one-client runs that gave 1.43-1.46x). `make load` measures throughput.
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    ensure_keys()
    families = SIZES[args.size]
    url = ensure_database(args.pg, families)
    small_url = ensure_database(args.pg, SIZES["quick"]) if args.size == "full" else None
    server = Server(url, args.port, args.workers)
    try:
        results = scenarios(args.port, args.requests, args.concurrency)
    finally:
        server.stop()
    small_search = None
    if small_url:
        server = Server(small_url, args.port, args.workers)
        try:
            small_search = search_only(args.port, args.requests, args.concurrency)
        finally:
            server.stop()
    crypto_figures = crypto_comparison()
    report(args, families, results, small_search, crypto_figures)


def report(
    args: Any,
    families: int,
    results: list[Result],
    small_search: Result | None,
    crypto_figures: dict[str, float],
) -> None:
    by = {r.name: r for r in results}
    lines = [
        f"Benchmark, {families:,} families ({args.size}); {args.concurrency} concurrent clients, "
        f"{args.workers} gunicorn workers, {args.requests} requests per scenario",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | queries/req | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        q = statistics.mean(r.queries) if r.queries else 0
        lines.append(
            f"| {r.name} | {r.rps:.1f} | {r.pct(50):.1f} | {r.pct(95):.1f} | {r.pct(99):.1f} | "
            f"{q:.1f} | {r.errors} |"
        )
    rss = defaultdict(int)
    for r in results:
        for pid, kb in r.rss_kb.items():
            rss[pid] = max(rss[pid], kb)
    lines += [
        "",
        f"Peak memory per worker (ru_maxrss; target ≤ 200 MiB): "
        f"{', '.join(f'{kb / 1024:.0f} MiB' for kb in rss.values())}",
        "",
    ]

    def ratio(a: str, b: str) -> float:
        return by[a].pct(50) / by[b].pct(50)

    # Same filter, same pipeline; only the fields differ (encrypted vs plain).
    enc = ratio("family list, unscoped baseline", "family list, plain-field baseline")
    scoped = ratio("family list (50, encrypted, scoped)", "family list, unscoped baseline")
    full = "family list (50, encrypted, scoped)"
    dashboard = ratio("caseload dashboard (deadlines)", "family list (50, encrypted, scoped)")
    rows = [
        (
            "full list / bare DRF ListAPIView, same rows (p50)",
            ratio(full, "family list, bare DRF ListAPIView"),
            "≤ 1.3",
        ),
        (
            "full list / raw WSGI + one psycopg select (p50)",
            ratio(full, "family list, raw WSGI + psycopg"),
            "(floor)",
        ),
        (
            "cursor-mode list / bare DRF ListAPIView (p50)",
            ratio("family list, cursor mode", "family list, bare DRF ListAPIView"),
            "",
        ),
        ("encrypted list / same list from plain fields (p50)", enc, "≤ 1.3"),
        ("permission-scoped list / unscoped list (p50)", scoped, "≤ 1.2"),
        (
            "field cipher per value: envelope (encrypt + decrypt) / bare AES-GCM",
            crypto_figures["ours_ratio"],
            "≤ 2",
        ),
        (
            "field cipher per value: field path (pre_save + from_db_value + read) / bare AES-GCM",
            crypto_figures["field_ratio"],
            "",
        ),
        (
            "floor of a text column: bare AES-GCM + base64 round trip / bare AES-GCM",
            crypto_figures["floor_ratio"],
            "(floor)",
        ),
        ("caseload dashboard / family list (p50)", dashboard, "≤ 1.5"),
    ]
    if small_search is not None:
        rows.append(
            (
                f"person search at {families:,} / at {SIZES['quick']:,} families (p50)",
                by["person search by name"].pct(50) / small_search.pct(50),
                "≤ 1.5",
            )
        )
    stats_s = by["stats (all goals, by field)"].pct(50) / 1000
    lines += ["| ratio or target | measured | target |", "|---|---:|---:|"]
    lines += [f"| {name} | {value:.2f}× | {target} |" for name, value, target in rows]
    lines.append(f"| stats over all goals, p50 | {stats_s:.2f} s | < 2 s |")
    lines.append(
        f"| encrypt+decrypt of 64 bytes: envelope, field path, bare AES-GCM | "
        f"{crypto_figures['ours_us']:.1f}, {crypto_figures['field_us']:.1f}, "
        f"{crypto_figures['bare_us']:.1f} µs | |"
    )
    lines.append(
        f"| field encryption: AES-GCM envelope vs Fernet, encrypt+decrypt of 64 bytes | "
        f"{crypto_figures['ours_us']:.1f} µs vs {crypto_figures['fernet_us']:.1f} µs | faster |"
    )
    lines.append(
        f"| bytes stored for 64 bytes of plaintext | {crypto_figures['ours_bytes']} vs "
        f"{crypto_figures['fernet_bytes']} | smaller |"
    )
    text = "\n".join(lines)
    print(text)
    machine = (
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    out = ROOT / "bench" / "results" / f"{args.size}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC\n\n{machine}\n\n"
        f"Command: `python -m bench.run --size {args.size} --requests {args.requests} "
        f"--concurrency {args.concurrency} --workers {args.workers}`\n\n{text}\n"
    )
    print(f"\n(written to {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
