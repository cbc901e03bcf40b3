"""Audit scaling benchmark (issue 13): does auditing still serialise requests?

    python -m bench.audit_scaling [--requests 120] [--workers 8]   # scaling, pg_locks, sealing lag
    python -m bench.audit_scaling --verify 1000000                 # verification time and memory

Audited family detail and goal create at 1, 2, 4, 8 concurrent clients against gunicorn
with 8 sync workers on PostgreSQL, interleaved request by request with the same requests
with audit off (``X-Bench-Audit: off``, honoured only with BENCH=1). A sampler polls
``pg_locks`` for waiting locks during the runs; the job worker seals meanwhile and the
sealing lag (checkpoint time minus entry time) is reported. Own database: ``bench_i13``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.run import PY, ROOT, Result, Server, bench_env, ensure_keys, login

DB_NAME = os.environ.get("BENCH_AUDIT_DB", "bench_i13")


def ensure_db(base: str, families: int) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = f"{base}/{DB_NAME}"
    env = bench_env(url)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    if not exists:
        subprocess.run(
            [PY, "-m", "bench.generate", "--families", str(families)], cwd=ROOT, env=env, check=True
        )
    return url


def call(method: str, port: int, path: str, body: Any, token: str, audit: bool) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    if not audit:
        headers["X-Bench-Audit"] = "off"
    started = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


class LockSampler(threading.Thread):
    """Polls pg_locks every 20 ms: which lock waits exist while the clients run."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples = 0
        self.with_waiter = 0
        self.waits: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT l.locktype, coalesce(c.relname, '') FROM pg_locks l "
                    "LEFT JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted"
                ).fetchall()
                self.samples += 1
                if rows:
                    self.with_waiter += 1
                    for locktype, rel in rows:
                        self.waits[f"{locktype} {rel}".strip()] += 1
                time.sleep(0.02)


def run_level(variants: list[Any], clients: int, n: int, port: int, token: str) -> tuple[list[Result], float]:
    """n requests of each variant, interleaved, over ``clients`` threads."""
    results = [Result(f"{name} {'audited' if audited else 'unaudited'}") for name, audited, _ in variants]
    counter = iter(range(n * len(variants)))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                i = next(counter, None)
                if i is None:
                    return
                k = i % len(variants)
                _, audited, make = variants[k]
                method, path, body = make()
            if body is not None:
                body = {**body, "description": "Bench-Ziel"}
            status, elapsed = call(method, port, path, body, token, audited)
            with lock:
                if status >= 400:
                    results[k].errors += 1
                else:
                    results[k].latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - started


def scaling(url: str, port: int, n: int, workers: int) -> list[str]:
    server = Server(url, port, workers)
    worker = subprocess.Popen(
        [PY, "manage.py", "run_worker"], cwd=ROOT, env=bench_env(url), start_new_session=True
    )
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        start_id = conn.execute("SELECT coalesce(max(id), 0) FROM privacy_auditentry").fetchone()[0]  # type: ignore[index]
    lines = []
    try:
        cm = login(port, "bench_cm000")
        conn_ = http.client.HTTPConnection("127.0.0.1", port)
        conn_.request(
            "GET", "/api/v1/families/?page_size=200&status=active", headers={"Authorization": f"Token {cm}"}
        )
        families = [f["id"] for f in json.loads(conn_.getresponse().read())["results"]]
        conn_.request("GET", "/api/v1/fields-of-action/", headers={"Authorization": f"Token {cm}"})
        field_id = json.loads(conn_.getresponse().read())[0]["id"]
        conn_.close()
        rng = random.Random(13)
        variants = [
            ("detail", True, lambda: ("GET", f"/api/v1/families/{rng.choice(families)}/", None)),
            ("detail", False, lambda: ("GET", f"/api/v1/families/{rng.choice(families)}/", None)),
            (
                "goal create",
                True,
                lambda: (
                    "POST",
                    "/api/v1/goals/",
                    {"family": rng.choice(families), "field_of_action": field_id},
                ),
            ),
            (
                "goal create",
                False,
                lambda: (
                    "POST",
                    "/api/v1/goals/",
                    {"family": rng.choice(families), "field_of_action": field_id},
                ),
            ),
        ]
        for _ in range(20):  # warm-up of every worker
            call("GET", port, f"/api/v1/families/{families[0]}/", None, cm, True)
        table: dict[tuple[str, bool, int], Result] = {}
        label = {"detail": "family detail", "goal create": "goal create"}
        sampler = LockSampler(url)
        sampler.start()
        for clients in (1, 2, 4, 8):
            results, wall = run_level(variants, clients, n, port, cm)
            busy = sum(sum(r.latencies) for r in results) or 1.0
            for (name, audited, _), r in zip(variants, results, strict=True):
                # interleaved variants share the wall time in proportion to the time their requests took
                r.wall = wall * sum(r.latencies) / busy
                table[(name, audited, clients)] = r
        sampler.stop.set()
        sampler.join()
        lines.append(
            f"Audit scaling: {n} requests per variant and level, {workers} sync gunicorn workers, "
            "PostgreSQL, variants interleaved request by request; the job worker sealing every 2 s"
        )
        lines += ["", "| clients | scenario | audited req/s | unaudited req/s | audited/unaudited | errors |"]
        lines.append("|---:|---|---:|---:|---:|---:|")
        for clients in (1, 2, 4, 8):
            for name in ("detail", "goal create"):
                a, u = table[(name, True, clients)], table[(name, False, clients)]
                lines.append(
                    f"| {clients} | {label[name]} | {a.rps:.1f} | {u.rps:.1f} | {a.rps / u.rps:.2f} | "
                    f"{a.errors + u.errors} |"
                )
        lines.append("")
        for name in ("detail", "goal create"):
            a8, a1 = table[(name, True, 8)].rps, table[(name, True, 1)].rps
            u8, u1 = table[(name, False, 8)].rps, table[(name, False, 1)].rps
            lines.append(
                f"- {label[name]}: 8-vs-1 scaling audited {a8 / a1:.2f}×, unaudited {u8 / u1:.2f}× "
                f"(within {abs(1 - (a8 / a1) / (u8 / u1)) * 100:.0f} %; target 15 %); "
                f"audited/unaudited at 8: {a8 / u8:.2f} (target ≥ 0.85)"
            )
        waits = ", ".join(f"{k}: {v}" for k, v in sampler.waits.most_common(6)) or "none"
        lines.append(
            f"- pg_locks: {sampler.samples} samples, {sampler.with_waiter} with a waiting lock "
            f"({100 * sampler.with_waiter / max(1, sampler.samples):.1f} %); waits by lock: {waits}"
        )
        time.sleep(6)  # let the sealer catch up before the lag is measured
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT extract(epoch FROM (SELECT c.timestamp FROM privacy_auditcheckpoint c "
                "WHERE c.tree_size > e.seq ORDER BY c.tree_size LIMIT 1) - e.timestamp) "
                "FROM privacy_auditentry e WHERE e.id > %s AND e.seq IS NOT NULL",
                [start_id],
            ).fetchall()
            unsealed = conn.execute(
                "SELECT count(*) FROM privacy_auditentry WHERE id > %s AND seq IS NULL", [start_id]
            ).fetchone()[0]  # type: ignore[index]
        lags = sorted(float(r[0]) for r in rows if r[0] is not None)
        if lags:
            p50, p99 = statistics.median(lags), lags[min(len(lags) - 1, int(0.99 * len(lags)))]
            lines.append(
                f"- sealing lag (checkpoint time − entry time) over {len(lags)} entries: p50 {p50:.2f} s, "
                f"p99 {p99:.2f} s, max {lags[-1]:.2f} s; {unsealed} still unsealed after 6 s"
            )
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
        server.stop()
    return lines


def verification(url: str, entries: int) -> list[str]:
    """Fill a log of ``entries`` sealed entries (directly, not timed) and time verify_audit on it."""
    env = bench_env(url)
    code = f"""
import time
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from casemgmt.models import Family
from privacy import signing
from privacy.merkle import Frontier
from privacy.models import AuditCheckpoint, AuditEntry
from privacy.transparency import checkpoint_note, entry_leaf
AuditEntry.objects.all().delete(); AuditCheckpoint.objects.all().delete()
ct = ContentType.objects.get_for_model(Family)
frontier = Frontier(); now = timezone.now(); batch = []
t = time.perf_counter()
for i in range({entries}):
    e = AuditEntry(id=i + 1, content_type=ct, object_pk=str(i), object_repr="1 family", object_ids=[str(i)],
                   action=2, changes={{}}, activity="case_management", timestamp=now,
                   additional_data={{"endpoint": "GET /api/v1/families/<pk>/", "filters": []}})
    leaf = entry_leaf(e); e.seq = i; e.hash = leaf.hex(); frontier.append(leaf); batch.append(e)
    if len(batch) == 10000:
        AuditEntry.objects.bulk_create(batch); batch = []
        root = frontier.root().hex()
        AuditCheckpoint.objects.create(tree_size=frontier.size, root_hash=root, timestamp=now,
            key_id=signing.key_id(signing.signing_key().public_key()), frontier=frontier.hex(),
            signature=signing.sign(checkpoint_note(tree_size=frontier.size, root_hash=root, timestamp=now)))
if batch:
    AuditEntry.objects.bulk_create(batch)
    root = frontier.root().hex()
    AuditCheckpoint.objects.create(tree_size=frontier.size, root_hash=root, timestamp=now,
        key_id=signing.key_id(signing.signing_key().public_key()), frontier=frontier.hex(),
        signature=signing.sign(checkpoint_note(tree_size=frontier.size, root_hash=root, timestamp=now)))
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT setval(pg_get_serial_sequence('privacy_auditentry', 'id'), "
              "(SELECT max(id) FROM privacy_auditentry))")
print(f"generated in {{time.perf_counter() - t:.0f}} s")
"""
    subprocess.run([PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)
    exported = ROOT / "var" / "bench-checkpoint.json"
    subprocess.run([PY, "manage.py", "audit_checkpoint", "-o", str(exported)], cwd=ROOT, env=env, check=True)
    lines = []
    for label, extra in (
        ("one process (--jobs 1)", ["--jobs", "1"]),
        (f"default ({os.cpu_count()} cores: one worker process per core)", []),
        ("with --checkpoint (keeps every leaf for the consistency proof)", ["--checkpoint", str(exported)]),
    ):
        started = time.perf_counter()
        # GNU time reports the verifier's own peak memory (the generator above is a separate process)
        timer = ["/usr/bin/time", "-f", "maxrss_kb=%M"] if Path("/usr/bin/time").exists() else []
        done = subprocess.run(
            [*timer, PY, "manage.py", "verify_audit", *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        rss = [int(x.split("=")[1]) for x in done.stderr.split() if x.startswith("maxrss_kb=")]
        peak = (rss[0] if rss else 0) / 1024
        lines.append(
            f"- verify_audit over {entries:,} sealed entries ({entries // 10000} checkpoints), {label}: "
            f"{elapsed:.1f} s, peak RSS {peak:.0f} MiB (target < 60 s); exit {done.returncode}: "
            f"{done.stdout.strip()[:120] or done.stderr.strip()[-300:]}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=120, help="requests per variant and level")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8213")))
    parser.add_argument("--verify", type=int, default=0, help="also time verification of this many entries")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    ensure_keys()
    url = ensure_db(args.pg, args.families)
    lines = [] if args.skip_scaling else scaling(url, args.port, args.requests, args.workers)
    if args.verify:
        lines += verification(url, args.verify)
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "audit_scaling.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = "python -m bench.audit_scaling " + " ".join(sys.argv[1:])
    with out.open("a", encoding="utf-8") as fh:
        fh.write(f"\n## {stamp}: `{command}` ({os.cpu_count()} cores, shared; figures are noisy)\n\n{text}\n")


if __name__ == "__main__":
    main()
