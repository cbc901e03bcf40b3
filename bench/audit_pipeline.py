"""The read entry pipelined with the response against inserted before it, in one process.

    BENCH_DB_PREFIX=bench_f python -m bench.audit_pipeline --size full --requests 500

Three variants alternate request by request through the Django test client, as the case
manager ``bench_cm000``: the family list as it runs (``CompiledInsert.insert_during``: the
entry's INSERT and COMMIT in psycopg's pipeline while the response renders), the same list
with the entry inserted and committed first and the response rendered after (the code before
issue 17's pipelining), and the bare DRF list. Prints each one's p50 and the two ratios
against the bare list. Needs the benchmark database ``bench.run`` creates.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.compare import _client, parser_with_database, setup_django


def main() -> None:
    parser = parser_with_database(__doc__)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    name = setup_django(args.pg, args.size)
    from casemgmt.db.compiled import CompiledInsert

    client, urls = _client()
    pipelined = CompiledInsert.insert_during

    def inserted_first(self: CompiledInsert, instance: Any, work: Any, *, using: str = "default") -> Any:
        self.insert(instance, using=using)
        return work()

    variants: dict[str, tuple[str, Any]] = {
        "family list, entry pipelined with the rendering": ("list", pipelined),
        "family list, entry committed before the rendering": ("list", inserted_first),
        "bare DRF ListAPIView": ("bare", None),
    }
    for endpoint, _ in variants.values():
        for _ in range(5):  # warm: caches, and psycopg prepares a statement on its fifth run
            assert client.get(urls[endpoint]).status_code == 200
    times: dict[str, list[float]] = {label: [] for label in variants}
    try:
        for _ in range(args.requests):
            for label, (endpoint, insert_during) in variants.items():
                if insert_during is not None:
                    CompiledInsert.insert_during = insert_during  # type: ignore[method-assign]
                started = time.perf_counter()
                client.get(urls[endpoint])
                times[label].append(time.perf_counter() - started)
    finally:
        CompiledInsert.insert_during = pipelined  # type: ignore[method-assign]
    p50 = {label: statistics.median(values) * 1000 for label, values in times.items()}
    bare = p50["bare DRF ListAPIView"]
    print(f"{args.requests} requests each, alternating, {name}\n")
    print("| variant | p50 ms | / bare |")
    print("|---|---:|---:|")
    for label, value in p50.items():
        print(f"| {label} | {value:.2f} | {value / bare:.3f}× |")


if __name__ == "__main__":
    main()
