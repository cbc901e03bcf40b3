"""What the blind indexes leak, and what a name search costs, on a generated benchmark database.

    DATABASE_URL=postgres://.../bench_i15_10k KEY_FILE=var/bench-keys.json python -m bench.leakage

Reports, per search-term kind, how many distinct plaintexts share each index value (an
attacker with the dump sees only the values: the more plaintexts per value, the less a
value says), and, for case managers of the benchmark, the in-process latency of a person
search by name (selector plus the first page) and the number of candidate rows decrypted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from typing import Any

from bench.generate import setup


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def coincidence(sample_persons: int) -> dict[str, dict[str, float]]:
    """Distinct plaintexts per index value, per term kind (over a sample of persons)."""
    from casemgmt.models import Person, PersonSearchTerm
    from privacy.cipher.blind_index import blind_index

    persons = list(
        Person.objects.select_related("family").order_by("id")[:sample_persons]  # uuid order: a random sample
    )
    shared: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for person in persons:
        district = person.blind_index_district()
        for kind, text in PersonSearchTerm.plaintexts(person):
            value = blind_index(text, context=PersonSearchTerm.CONTEXTS[kind], district=district)
            shared[kind][f"{district}|{value}"].add(text)
    report = {}
    for kind, values in shared.items():
        counts = [len(v) for v in values.values()]
        distinct = len({t for v in values.values() for t in v})
        report[kind] = {
            "index_values": len(counts),
            "distinct_plaintexts": distinct,
            "min": min(counts),
            "median": statistics.median(counts),
            "max": max(counts),
            "share_single": sum(1 for c in counts if c == 1) / len(counts),
        }
    return report


def search(n: int, seed: int) -> dict[str, Any]:
    """Latency of person search by full name and candidates decrypted, for random case managers."""
    from casemgmt.models import Membership, User
    from casemgmt.selectors.families import user_districts
    from casemgmt.selectors.persons import person_search, persons_visible_to

    rng = random.Random(seed)
    managers = list(
        User.objects.filter(
            pk__in=Membership.objects.filter(role="case_manager").values("user_id"),
            username__startswith="bench_cm",
        )
    )
    latencies: list[float] = []
    candidates: list[float] = []
    matches: list[float] = []
    for _ in range(n):
        user = rng.choice(managers)
        visible = persons_visible_to(user)
        someone = visible.order_by("?").only("given_name", "family_name").first()
        if someone is None:
            continue
        name = f"{someone.given_name} {someone.family_name}"
        started = time.perf_counter()
        found = person_search(visible, districts=user_districts(user), name=name)
        page = list(found.ranked(visible)[:50])
        latencies.append((time.perf_counter() - started) * 1000)
        candidates.append(found.candidates)
        matches.append(len(page))
    return {
        "searches": len(latencies),
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "candidates_p50": pct(candidates, 50),
        "candidates_p99": pct(candidates, 99),
        "candidates_max": max(candidates),
        "results_p50": pct(matches, 50),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sample", type=int, default=40_000, help="persons sampled for the coincidence count"
    )
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    setup()
    from casemgmt.models import Family, Person

    print(f"families {Family.objects.count()}, persons {Person.objects.count()}")
    for kind, row in coincidence(args.sample).items():
        print(f"coincidence {kind}: {row}")
    print(f"search: {search(args.searches, args.seed)}")


if __name__ == "__main__":
    main()
