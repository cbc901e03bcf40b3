"""A built-in attacker for the outcome statistics: linear differencing with interval propagation.

The attacker is stronger than a real supervisor: besides every published figure it is told
which combinations of attributes occur at all (the non-empty *atoms*: one per section, value
of every grouping key, and status class) and which atom each single write touched. Its
unknowns are the atoms' record counts. Each published value ``v`` says the atoms it covers
sum to ``[v - D, v + D]`` (``D`` as the response states); a withheld value says they sum to
``[0, threshold - 1 + D]``. It then tightens every atom's bounds against every relation
until nothing changes (sound: each deduction is implied by the published figures) and
reports each count below the threshold, of an atom or of a published cell, whose bounds
have closed to a single value.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, CharField, Count, Value, When

from casemgmt.selectors.stats import SECTIONS, quarter_bounds, quarters_between

#: Status class of a record, per section: the finest split the section's counts make.
CLASSES: dict[str, Callable[[], Any]] = {
    "goals": lambda: Case(
        When(status__in=("achieved", "partly_achieved", "not_achieved"), then="status"),
        default=Value("other"),
        output_field=CharField(),
    ),
    "assessment_change": lambda: Case(
        When(change__gt=0, then=Value("improved")),
        When(change=0, then=Value("unchanged")),
        default=Value("worsened"),
        output_field=CharField(),
    ),
    "referrals": lambda: Case(
        When(status__in=("completed", "dropped_out"), then="status"),
        default=Value("other"),
        output_field=CharField(),
    ),
    "families_opened": lambda: Value("all", output_field=CharField()),
    "families_closed": lambda: Case(
        When(benefit_status_at_intake="sgb_ii", benefit_status_at_closure="none", then=Value("left")),
        When(benefit_status_at_intake="sgb_ii", then=Value("stayed")),
        default=Value("other"),
        output_field=CharField(),
    ),
    "contacts": lambda: Case(
        When(initiated_by="family", then=Value("family")), default=Value("other"), output_field=CharField()
    ),
    "conferences_held": lambda: Value("all", output_field=CharField()),
}
#: Which status classes each published count covers (distinct counts are not modelled).
METRICS: dict[str, dict[str, frozenset[str] | None]] = {
    "goals": {
        "agreed": None,
        "achieved": frozenset({"achieved"}),
        "partly_achieved": frozenset({"partly_achieved"}),
        "not_achieved": frozenset({"not_achieved"}),
        "finished": frozenset({"achieved", "partly_achieved", "not_achieved"}),
    },
    "assessment_change": {
        "assessed": None,
        "improved": frozenset({"improved"}),
        "unchanged": frozenset({"unchanged"}),
        "worsened": frozenset({"worsened"}),
    },
    "referrals": {
        "referred": None,
        "completed": frozenset({"completed"}),
        "dropped_out": frozenset({"dropped_out"}),
        "finished": frozenset({"completed", "dropped_out"}),
    },
    "families_opened": {"opened": None},
    "families_closed": {
        "closed": None,
        "sgb_ii_at_intake": frozenset({"left", "stayed"}),
        "no_longer_sgb_ii": frozenset({"left"}),
    },
    "contacts": {"contacts": None, "initiated_by_family": frozenset({"family"})},
    "conferences_held": {"held": None},
}
BIG = 10**9

Atom = tuple[str, tuple[tuple[str, Any], ...], str]  # (section, ((dim, value), ...), class)


def atoms_of(families: Any, start: datetime.date, end: datetime.date) -> dict[Atom, int]:
    """Ground truth: the record count of every non-empty atom (the attacker gets only the keys)."""
    start, end = quarter_bounds(start, end)
    truth: dict[Atom, int] = {}
    for section in SECTIONS:
        dims = sorted(section.dimensions)
        annotations = {f"g_{d}": section.dimensions[d]() for d in dims}
        rows = (
            section.queryset(families, start, end)
            .annotate(**annotations, cls=CLASSES[section.name]())
            .values(*annotations, "cls")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            truth[(section.name, tuple((d, row[f"g_{d}"]) for d in dims), row["cls"])] = row["n"]
    return truth


@dataclass
class Relation:
    """Atoms whose counts (before any write) sum to ``lo .. hi``; ``offset``: the writes since."""

    atoms: tuple[Atom, ...]
    lo: int
    hi: int
    offset: int
    label: str


@dataclass
class Attacker:
    """Collects relations from responses and solves them by interval propagation."""

    atoms: list[Atom]
    nonempty: set[Atom]
    #: The sections whose figures the attacker reads (each section's records are disjoint
    #: from the others', so attacking them separately loses nothing).
    sections: tuple[str, ...] = tuple(METRICS)
    relations: list[Relation] = field(default_factory=list)
    system: list[Relation] = field(default_factory=list)

    def observe(self, body: dict[str, Any], *, shift: dict[Atom, int] | None = None, tag: str = "") -> None:
        """Turn one statistics response into relations on the atoms (``shift``: known writes since)."""
        shift = shift or {}
        max_noise = int(body["disclosure_control"]["max_noise"])
        threshold = int(body["threshold"])
        period = set(
            quarters_between(
                datetime.date.fromisoformat(body["period"]["from"]),
                datetime.date.fromisoformat(body["period"]["to"]),
            )
        )
        for section in self.sections:
            metrics = METRICS[section]
            table = body[section]
            if "rows" not in table:
                continue
            dims = table["dimensions"]
            index: dict[tuple[Any, ...], list[Atom]] = {}
            for atom in self.atoms:
                attrs = dict(atom[1])
                if atom[0] != section or attrs["quarter"] not in period:
                    continue
                for mask in range(2 ** len(dims)):
                    key = tuple("total" if mask & (1 << i) else attrs[d] for i, d in enumerate(dims))
                    index.setdefault(key, []).append(atom)
            for row in table["rows"]:
                candidates = index.get(tuple(row["group"][d] for d in dims), [])
                for metric, classes in metrics.items():
                    covered = tuple(a for a in candidates if classes is None or a[2] in classes)
                    if not covered:
                        continue  # the attacker knows these atoms are empty anyway
                    offset = sum(shift.get(a, 0) for a in covered)
                    value = row[metric]["value"]
                    if value is None:
                        lo, hi = 0, threshold - 1 + max_noise
                    else:
                        lo, hi = max(0, value - max_noise), value + max_noise
                    label = f"{tag}{section}.{metric} {row['group']} {body['period']}"
                    self.relations.append(Relation(covered, lo - offset, hi - offset, offset, label))

    def combined(self) -> list[Relation]:
        """Relations on the same atoms intersected (repeats, margins equal to cells), then every
        difference of two nested ones added (totals minus cells, ``finished - dropped_out``,
        a longer period minus a shorter one, a query after a write minus before)."""
        unique: dict[frozenset[Atom], Relation] = {}
        for rel in self.relations:
            key = frozenset(rel.atoms)
            old = unique.get(key)
            if old is None:
                unique[key] = Relation(rel.atoms, rel.lo, rel.hi, rel.offset, rel.label)
            else:
                old.lo, old.hi = max(old.lo, rel.lo), min(old.hi, rel.hi)
        containing: dict[Atom, list[frozenset[Atom]]] = {}
        for key in unique:
            for atom in key:
                containing.setdefault(atom, []).append(key)
        derived: dict[frozenset[Atom], Relation] = {}
        for small, inner in unique.items():
            first = next(iter(small))
            for big in containing[first]:
                if len(big) <= len(small) or not small <= big:
                    continue
                outer = unique[big]
                rest = big - small
                lo, hi = outer.lo - inner.hi, outer.hi - inner.lo
                if rest in unique:
                    target = unique[rest]
                    target.lo, target.hi = max(target.lo, lo), min(target.hi, hi)
                    continue
                old = derived.get(rest)
                if old is None:
                    derived[rest] = Relation(
                        tuple(sorted(rest, key=repr)), lo, hi, 0, f"{outer.label} - {inner.label}"
                    )
                else:
                    old.lo, old.hi = max(old.lo, lo), min(old.hi, hi)
        return [*unique.values(), *derived.values()]

    def solve(self, *, max_rounds: int = 100) -> dict[Atom, tuple[int, int]]:
        """Atom bounds after propagation to a fixpoint (every atom known to be non-empty holds one)."""
        bounds = {a: [1 if a in self.nonempty else 0, BIG] for a in self.atoms}
        self.system = self.combined()
        for _ in range(max_rounds):
            changed = False
            for rel in self.system:
                sum_lo = sum(bounds[a][0] for a in rel.atoms)
                sum_hi = sum(bounds[a][1] for a in rel.atoms)
                for a in rel.atoms:
                    lo, hi = bounds[a]
                    new_lo = max(lo, rel.lo - (sum_hi - hi))
                    new_hi = min(hi, rel.hi - (sum_lo - lo))
                    if (new_lo, new_hi) != (lo, hi):
                        bounds[a] = [new_lo, new_hi]
                        sum_lo += new_lo - lo
                        sum_hi += new_hi - hi
                        changed = True
            if not changed:
                break
        return {a: (lo, hi) for a, (lo, hi) in bounds.items()}

    def recovered(self, truth: dict[Atom, int], threshold: int) -> list[str]:
        """Every count below the threshold (an atom's or a published cell's) pinned to one value."""
        bounds = self.solve()
        found = []
        for atom, (lo, hi) in bounds.items():
            true = truth.get(atom, 0)
            assert lo <= true <= hi, f"unsound attacker for {atom}: {lo}..{hi} vs {true}"
            if lo == hi and true < threshold:
                found.append(f"atom {atom} = {lo}")
        for rel in self.system:
            true = sum(truth.get(a, 0) for a in rel.atoms)
            lo = max(rel.lo, sum(bounds[a][0] for a in rel.atoms))
            hi = min(rel.hi, sum(bounds[a][1] for a in rel.atoms))
            if lo == hi and min(true, true + rel.offset) < threshold:
                found.append(f"{rel.label} = {lo + rel.offset}")
        return found


def group_bys(keys: Iterable[str]) -> list[str]:
    """No grouping, every key, and every ordered pair of keys (order picks the referral table)."""
    keys = list(keys)
    return ["", *keys, *[f"{a},{b}" for a in keys for b in keys if a != b]]
