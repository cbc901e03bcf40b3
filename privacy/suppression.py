"""Statistical disclosure control for published tables: small-cell and complementary suppression.

The rule, as statistical offices apply it to frequency tables (Eurostat's Handbook on
Statistical Disclosure Control; the German Federal Employment Agency publishes no cell of
1 or 2; our threshold is configurable, default 5):

1. **Primary suppression**: every count from 1 to threshold - 1 is withheld. A true zero is
   published: it describes a group, not a person.
2. **Complementary (secondary) suppression**: every published total is a linear relation
   ("the cells of this row add up to the row total"). Where a relation has exactly one
   withheld member, the subtraction would give it back, so one more member is withheld —
   the smallest cell of that relation, or its total if no cell is left. This repeats until
   every relation with a withheld member has at least two, in rows, columns and margins.
3. **Derived figures**: a rate or median is withheld when any count it is computed from is.

Longer periods are published only as unions of whole quarters, and a cell over several
quarters is withheld when any of its quarterly cells is (see ``stats``), so subtracting
two overlapping queries yields nothing that is not itself publishable.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

TOTAL = "*"
Key = tuple[Hashable, ...]


@dataclass
class SuppressedTable:
    """Counts of one metric by cell, with margins, and which of them are withheld."""

    values: dict[Key, int]
    suppressed: set[Key] = field(default_factory=set)

    def published(self, key: Key) -> int | None:
        return None if key in self.suppressed else self.values.get(key, 0)


def with_margins(cells: dict[Key, int], n_dims: int) -> dict[Key, int]:
    """Cells plus every margin: row and column totals and the grand total."""
    values: dict[Key, int] = dict(cells)
    for key, value in cells.items():
        for mask in range(1, 2**n_dims):
            margin = tuple(TOTAL if mask & (1 << i) else part for i, part in enumerate(key))
            values[margin] = values.get(margin, 0) + value
    if not cells:
        values[(TOTAL,) * n_dims] = 0
    return values


def relations(keys: Iterable[Key], n_dims: int) -> list[list[Key]]:
    """The additive relations among published values: each is members..., then their total."""
    keys = list(keys)
    lines: list[list[Key]] = []
    for dim in range(n_dims):
        # Fix every other coordinate (cells or totals), let ``dim`` vary over its categories.
        groups: dict[Key, list[Key]] = {}
        for key in keys:
            if key[dim] == TOTAL:
                continue
            rest = (*key[:dim], None, *key[dim + 1 :])
            groups.setdefault(rest, []).append(key)
        for rest, members in groups.items():
            total = tuple(TOTAL if i == dim else part for i, part in enumerate(rest))
            lines.append([*sorted(members, key=repr), total])
    return lines


def suppress(
    cells: dict[Key, int], *, n_dims: int, threshold: int, extra: Iterable[Key] = ()
) -> SuppressedTable:
    """Withhold small counts and enough complementary values that none can be recomputed.

    ``extra`` names cells to withhold regardless (e.g. because a quarterly part was withheld).
    """
    values = with_margins(cells, n_dims)
    table = SuppressedTable(values)
    table.suppressed = {k for k, v in values.items() if 0 < v < threshold} | set(extra)
    lines = relations(values.keys(), n_dims)
    changed = True
    while changed:
        changed = False
        for line in lines:
            members, total = line[:-1], line[-1]
            withheld = [k for k in line if k in table.suppressed]
            if len(withheld) != 1:
                continue
            candidates = [k for k in members if k not in table.suppressed]
            # The smallest non-zero cell first (least information lost), then a zero, then the total.
            candidates.sort(key=lambda k: (values[k] == 0, values[k], repr(k)))
            table.suppressed.add(candidates[0] if candidates else total)
            changed = True
    return table
