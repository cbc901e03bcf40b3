"""The family list as it runs against the same list without one of issue 17's measures, in one process.

    BENCH_DB_PREFIX=bench_f python -m bench.list_variants --size full --requests 500

The variants alternate request by request through the Django test client, as the case
manager ``bench_cm000``, so drift hits them alike:

- the family list as it runs: its page found by keys (``casemgmt.db.late_rows``) and its read
  entry's INSERT and COMMIT in psycopg's pipeline while the response renders
  (``CompiledInsert.insert_during``);
- the same list with its page taken over whole rows (the window count and sort over every
  listed row, the code before the late row lookup);
- the same list with the entry inserted and committed first and the response rendered after
  (the code before the pipelining);
- the bare DRF ``ListAPIView`` over the same rows.

Prints each one's p50 and its ratio to the bare list. Needs the benchmark database
``bench.run`` creates. (Until the late row lookup this script was ``bench.audit_pipeline``.)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.compare import _client, parser_with_database, setup_django

BARE = "bare DRF ListAPIView"


def _variants() -> dict[str, tuple[str, Callable[[], Any]]]:
    """Label → (endpoint, context manager that switches the measure off for one request)."""
    from api import pagination
    from casemgmt.db.compiled import CompiledInsert

    @contextmanager
    def as_it_runs() -> Iterator[None]:
        yield

    @contextmanager
    def page_over_whole_rows() -> Iterator[None]:
        pagination.can_page_by_keys = lambda queryset: False  # type: ignore[assignment]
        try:
            yield
        finally:
            pagination.can_page_by_keys = can_page_by_keys

    @contextmanager
    def entry_committed_first() -> Iterator[None]:
        def inserted_first(self: CompiledInsert, instance: Any, work: Any, *, using: str = "default") -> Any:
            self.insert(instance, using=using)
            return work()

        CompiledInsert.insert_during = inserted_first  # type: ignore[method-assign]
        try:
            yield
        finally:
            CompiledInsert.insert_during = pipelined  # type: ignore[method-assign]

    can_page_by_keys = pagination.can_page_by_keys
    pipelined = CompiledInsert.insert_during
    return {
        "family list as it runs": ("list", as_it_runs),
        "family list, page over whole rows": ("list", page_over_whole_rows),
        "family list, entry committed before the rendering": ("list", entry_committed_first),
        BARE: ("bare", as_it_runs),
    }


def main() -> None:
    parser = parser_with_database(__doc__)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    name = setup_django(args.pg, args.size)
    client, urls = _client()
    variants = _variants()
    for endpoint, switch in variants.values():
        for _ in range(5):  # warm: caches, and psycopg prepares a statement on its fifth run
            with switch():
                assert client.get(urls[endpoint]).status_code == 200
    times: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(args.requests):
        for label, (endpoint, switch) in variants.items():
            with switch():
                started = time.perf_counter()
                client.get(urls[endpoint])
                times[label].append(time.perf_counter() - started)
    p50 = {label: statistics.median(values) * 1000 for label, values in times.items()}
    print(f"{args.requests} requests each, alternating, {name}\n")
    print("| variant | p50 ms | / bare |")
    print("|---|---:|---:|")
    for label, value in p50.items():
        print(f"| {label} | {value:.2f} | {value / p50[BARE]:.3f}× |")


if __name__ == "__main__":
    main()
