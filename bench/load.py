"""Load test: concurrent clients for a bounded time against gunicorn on PostgreSQL with a
realistic mix, then a check of the database: every acknowledged write is there, no course
is overbooked, every acknowledged write has its audit entry, the audit log seals and verifies.

    python -m bench.load [--seconds 30] [--clients 6]     (make load)

Uses a fresh database each run (casemgmt_load on BENCH_PG), filled with 2,000 families.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from bench.run import PY, ROOT, Server, bench_env, ensure_keys, login, request


def fresh_database(base: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS casemgmt_load WITH (FORCE)")
        conn.execute("CREATE DATABASE casemgmt_load")
    url = f"{base}/casemgmt_load"
    env = bench_env(url)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "-m", "bench.generate", "--families", "2000"], cwd=ROOT, env=env, check=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--capacity", type=int, default=5)
    parser.add_argument("--port", type=int, default=8932)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    ensure_keys()
    url = fresh_database(args.pg)
    server = Server(url, args.port, 2)
    try:
        acknowledged, statuses, elapsed, course_id = drive(args)
    finally:
        server.stop()
    verify(url, acknowledged, statuses, elapsed, course_id, args)


def drive(args: Any) -> tuple[dict[str, list[str]], Counter[int], float, str]:
    port = args.port
    cm = login(port, "bench_cm000")
    admin_courses = json.loads(request("GET", port, "/api/v1/courses/?page_size=1", token=cm)[2])["results"]
    provider = admin_courses[0]["provider"]
    supervisor = login(port, "bench_supervisor")
    # a small course, and more accepted referrals than seats, to race for them
    status, _, data = request(
        "POST",
        port,
        "/api/v1/courses/",
        {
            "provider": provider,
            "title": "Knapper Kurs",
            "course_type": "language_course",
            "cefr_level": "A2",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "capacity": args.capacity,
        },
        supervisor,
    )
    if status != 201:
        raise RuntimeError(f"course: {status} {data[:200]!r}")
    course = json.loads(data)["id"]
    families = [
        f["id"]
        for f in json.loads(
            request("GET", port, "/api/v1/families/?status=active&page_size=100", token=cm)[2]
        )["results"]
    ]
    people = [
        p
        for p in json.loads(request("GET", port, "/api/v1/persons/?page_size=200", token=cm)[2])["results"]
        if p["family"] in set(families)
    ]
    fields = [f["id"] for f in json.loads(request("GET", port, "/api/v1/fields-of-action/", token=cm)[2])]
    accepted = []
    for person in people[: args.capacity * 4]:
        rid = json.loads(
            request("POST", port, "/api/v1/referrals/", {"person": person["id"], "course": course}, cm)[2]
        )["id"]
        for to in ("sent", "accepted"):
            request("POST", port, f"/api/v1/referrals/{rid}/transition/", {"to": to}, cm)
        accepted.append(rid)
    names = [f"{p['given_name']} {p['family_name']}" for p in people]
    acknowledged: dict[str, list[str]] = {"goals": [], "enrolled": [], "conferences": []}
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    pending = list(accepted)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            action = rng.choices(
                ["list", "search", "read", "goal", "enrol", "conference"], [3, 3, 3, 3, 1, 1]
            )[0]
            if action == "list":
                status, _, _ = request("GET", port, "/api/v1/families/?page_size=50", token=cm)
            elif action == "search":
                from urllib.parse import quote

                status, _, _ = request(
                    "GET", port, f"/api/v1/persons/?name={quote(rng.choice(names))}", token=cm
                )
            elif action == "read":
                status, _, _ = request("GET", port, f"/api/v1/families/{rng.choice(families)}/", token=cm)
            elif action == "goal":
                status, _, data = request(
                    "POST",
                    port,
                    "/api/v1/goals/",
                    {
                        "family": rng.choice(families),
                        "field_of_action": rng.choice(fields),
                        "description": "Lasttest-Ziel",
                    },
                    cm,
                )
                if status == 201:
                    with lock:
                        acknowledged["goals"].append(json.loads(data)["id"])
            elif action == "enrol":
                with lock:
                    rid = pending.pop() if pending else None
                if rid is None:
                    continue
                status, _, _ = request(
                    "POST", port, f"/api/v1/referrals/{rid}/transition/", {"to": "enrolled"}, cm
                )
                if status == 200:
                    with lock:
                        acknowledged["enrolled"].append(rid)
            else:
                day = f"2027-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
                when = f"{day}T{rng.randint(8, 17)}:{rng.choice(('00', '30'))}:00+01:00"
                status, _, data = request(
                    "POST",
                    port,
                    "/api/v1/conferences/",
                    {
                        "family": rng.choice(families),
                        "scheduled_at": when,
                        "format": "video",
                        "agenda": "Lasttest",
                    },
                    cm,
                )
                if status == 201:
                    cid = json.loads(data)["id"]
                    status, _, _ = request(
                        "POST", port, f"/api/v1/conferences/{cid}/hold/", {"minutes": "ok"}, cm
                    )
                    if status == 200:
                        with lock:
                            acknowledged["conferences"].append(cid)
            with lock:
                statuses[status] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acknowledged, statuses, time.monotonic() - started, course


def verify(
    url: str,
    acknowledged: dict[str, list[str]],
    statuses: Counter[int],
    elapsed: float,
    course_id: str,
    args: Any,
) -> None:
    os.environ.update(bench_env(url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "casemgmt.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from casemgmt.models import CaseConference, Course, Goal, Referral
    from privacy.models import AuditEntry
    from privacy.transparency import seal, verify_log

    goals = set(acknowledged["goals"])
    found_goals = {str(pk) for pk in Goal.objects.filter(pk__in=goals).values_list("pk", flat=True)}
    held = CaseConference.objects.filter(pk__in=acknowledged["conferences"], status="held").count()
    course = Course.objects.get(pk=course_id)
    enrolled = Referral.objects.filter(course=course, status__in=Referral.SEAT_STATUSES).count()
    audited = {
        e
        for e in AuditEntry.objects.filter(
            content_type__model="goal", action=AuditEntry.Action.CREATE, object_pk__in=goals
        ).values_list("object_pk", flat=True)
    }
    seal()  # what the worker would have sealed by now
    report = verify_log()
    intact = report.ok
    message = (
        f"{report.entries} entries verify against {report.checkpoints} signed checkpoints"
        if intact
        else "; ".join(report.problems[:3])
    )
    total = sum(statuses.values())
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    lines = [
        f"Load test: {args.clients} clients for {elapsed:.0f} s against gunicorn (2 workers) on PostgreSQL",
        f"  requests: {total} ({total / elapsed:.1f}/s); status codes: {dict(sorted(statuses.items()))}",
        f"  5xx: {server_errors}",
        f"  goals acknowledged {len(goals)}, in the database {len(found_goals)}, with a create audit entry "
        f"{len(audited)}",
        f"  conferences held and acknowledged {len(acknowledged['conferences'])}, "
        f"held in the database {held}",
        f"  course capacity {course.capacity}: enrolled acknowledged {len(acknowledged['enrolled'])}, "
        f"in the database {enrolled}",
        f"  audit log: {message}",
    ]
    ok = (
        server_errors == 0
        and found_goals == goals
        and audited == goals
        and held == len(acknowledged["conferences"])
        and enrolled == len(acknowledged["enrolled"]) <= course.capacity
        and intact
    )
    lines.append(
        "  RESULT: " + ("OK: no 5xx, no lost writes, no overbooking, audit complete" if ok else "FAILED")
    )
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "load.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"Command: `python -m bench.load --seconds {args.seconds:g} --clients {args.clients}`\n\n"
        f"```\n{text}\n```\n"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
