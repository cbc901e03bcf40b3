"""Disclosure control: small cells withheld, and no withheld cell recoverable from what is published."""

from __future__ import annotations

import random

import pytest

from privacy.suppression import TOTAL, relations, suppress, with_margins

K = 5


def attack(published: dict[tuple, int | None], n_dims: int) -> dict[tuple, int]:
    """What an attacker learns by subtraction: solve every relation with one unknown, repeatedly."""
    known = {k: v for k, v in published.items() if v is not None}
    lines = relations(published.keys(), n_dims)
    changed = True
    while changed:
        changed = False
        for line in lines:
            members, total = line[:-1], line[-1]
            unknown = [k for k in line if k not in known]
            if len(unknown) != 1:
                continue
            target = unknown[0]
            if target == total:
                known[target] = sum(known[m] for m in members)
            else:
                known[target] = known[total] - sum(known[m] for m in members if m != target)
            changed = True
    return known


def publish(cells: dict[tuple, int], n_dims: int) -> tuple[dict[tuple, int | None], set[tuple]]:
    table = suppress(cells, n_dims=n_dims, threshold=K)
    values = with_margins(cells, n_dims)
    return {k: table.published(k) for k in values}, {k for k, v in values.items() if 0 < v < K}


def test_one_dimension_small_cell_and_complement() -> None:
    cells = {("language",): 12, ("work",): 3, ("health",): 9}
    published, primary = publish(cells, 1)
    assert published[("work",)] is None  # primary
    assert published[("health",)] is None  # complementary: the smallest other cell
    assert published[("language",)] == 12 and published[(TOTAL,)] == 24
    assert primary == {("work",)}
    assert ("work",) not in attack(published, 1)


def test_single_cell_line_withholds_its_total() -> None:
    published, _ = publish({("language",): 3}, 1)
    assert published[("language",)] is None and published[(TOTAL,)] is None


def test_zero_is_published_but_cannot_be_used_to_recover() -> None:
    published, _ = publish({("a",): 2, ("b",): 0, ("c",): 10}, 1)
    assert published[("a",)] is None
    assert ("a",) not in attack(published, 1)


def test_two_dimensions_rows_columns_and_margins() -> None:
    cells = {("language", "f"): 3, ("language", "m"): 9, ("work", "f"): 7, ("work", "m"): 8}
    published, primary = publish(cells, 2)
    assert published[("language", "f")] is None
    learned = attack(published, 2)
    assert not primary & learned.keys()


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_never_leak(seed: int) -> None:
    rng = random.Random(seed)
    n_dims = rng.choice((1, 2))
    rows = [f"r{i}" for i in range(rng.randint(1, 5))]
    cols = [f"c{i}" for i in range(rng.randint(1, 4))]
    keys = [(r,) for r in rows] if n_dims == 1 else [(r, c) for r in rows for c in cols]
    cells = {k: rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 40)) for k in keys}
    published, primary = publish(cells, n_dims)
    assert all(published[k] is None for k in primary)
    learned = attack(published, n_dims)
    leaked = {k: learned[k] for k in primary if k in learned}
    assert not leaked, (cells, published)
    # Nothing published is wrong
    values = with_margins(cells, n_dims)
    assert all(v == values[k] for k, v in published.items() if v is not None)


def test_extra_withheld_cells_are_protected_too() -> None:
    cells = {("a",): 10, ("b",): 10, ("c",): 10}
    table = suppress(cells, n_dims=1, threshold=K, extra={("b",)})
    assert ("b",) in table.suppressed and len(table.suppressed & {("a",), ("c",), (TOTAL,)}) >= 1
