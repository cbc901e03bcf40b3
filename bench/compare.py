"""Two endpoints side by side in one process: p50 of each, and where their time differs.

    BENCH_DB_PREFIX=bench_f python -m bench.compare list bare --requests 100
    BENCH_DB_PREFIX=bench_f python -m bench.compare list bare --without-read-audit

Uses the Django test client against a benchmark database (``bench.run`` creates it), as the
case manager ``bench_cm000`` with a fresh token. The requests of the two endpoints alternate,
so drift hits both alike; then each runs ``--requests`` times under cProfile and the functions
are listed by how much more cumulative time they took in the first endpoint than in the second.
``--without-read-audit`` runs the first endpoint with the read audit switched off
(``disable_auditlog``), to measure what the audit's INSERT costs a request.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from typing import Any

from bench.run import ROOT, SIZES, bench_env, ensure_keys

ENDPOINTS = {
    "list": "/api/v1/families/?page_size=50",
    "cursor": "/api/v1/families/?page_size=50&cursor=",
    "bare": "/bench/bare-families/?page_size=50&cm=bench_cm000",
    "unscoped": "/bench/families-unscoped/?page_size=50",
    "plain": "/bench/plain-families/?page_size=50",
    "dashboard": "/api/v1/dashboard/",
    "detail": None,  # the case manager's first family
}


def _client() -> tuple[Any, dict[str, str]]:
    from django.test import Client
    from knox.models import AuthToken

    from casemgmt.models import Family, User

    user = User.objects.get(username="bench_cm000")
    token = AuthToken.objects.create(user=user)[1]
    urls = dict(ENDPOINTS)
    first = Family.objects.filter(case_manager=user).order_by("id").values_list("id", flat=True).first()
    urls["detail"] = f"/api/v1/families/{first}/"
    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}"), urls  # type: ignore[return-value]


def parser_with_database(description: str | None) -> argparse.ArgumentParser:
    """The options every in-process benchmark takes: which database (``--size``, ``--pg``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="quick")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    return parser


def setup_django(pg: str, size: str) -> str:
    """Django in this process, on the benchmark database of this size; returns its name."""
    ensure_keys()
    name = f"{os.environ.get('BENCH_DB_PREFIX', 'casemgmt_bench')}_{SIZES[size] // 1000}k"
    os.environ.update(bench_env(f"{pg}/{name}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "casemgmt.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return name


def _profile(client: Any, url: str, n: int, context: Any) -> dict[Any, Any]:
    profiler = cProfile.Profile()
    with context():
        profiler.enable()
        for _ in range(n):
            client.get(url)
        profiler.disable()
    return dict(pstats.Stats(profiler).stats)  # type: ignore[attr-defined]


def main() -> None:
    parser = parser_with_database(__doc__)
    parser.add_argument("first", choices=sorted(ENDPOINTS))
    parser.add_argument("second", choices=sorted(ENDPOINTS))
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--without-read-audit", action="store_true", help="the first endpoint without its read audit"
    )
    args = parser.parse_args()
    setup_django(args.pg, args.size)
    from contextlib import nullcontext

    from auditlog.context import disable_auditlog

    client, urls = _client()
    first_context = disable_auditlog if args.without_read_audit else nullcontext
    quiet = {args.first: first_context, args.second: nullcontext}
    names = (args.first, args.second)
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:
        assert client.get(urls[n]).status_code == 200, n  # warm caches
    for _ in range(args.requests):
        for n in names:
            with quiet[n]():
                started = time.perf_counter()
                client.get(urls[n])
                times[n].append(time.perf_counter() - started)
    p50 = {n: statistics.median(times[n]) * 1000 for n in names}
    print(
        f"p50 {args.first} {p50[args.first]:.1f} ms, {args.second} {p50[args.second]:.1f} ms, "
        f"ratio {p50[args.first] / p50[args.second]:.2f}x ({args.requests} requests each, alternating)"
    )
    one, two = (_profile(client, urls[n], args.requests, quiet[n]) for n in names)
    rows = []
    for key, stat in one.items():
        other = two.get(key, (0, 0, 0, 0))[3]
        rows.append((stat[3] - other, stat[3], other, key))
    rows.sort(key=lambda r: r[0], reverse=True)
    print(f"\nms per profiled request: more in {args.first} | {args.first} | {args.second} | function")
    per = 1000 / args.requests
    for diff, a, b, (path, line, func) in rows[: args.top]:
        where = f"{path.split('site-packages/')[-1]}:{line}({func})"
        print(f"{diff * per:8.2f} {a * per:8.2f} {b * per:8.2f}  {where}")


if __name__ == "__main__":
    main()
