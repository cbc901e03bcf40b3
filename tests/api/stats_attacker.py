"""A built-in attacker for the outcome statistics: linear differencing solved by linear programs.

The attacker is stronger than a real supervisor: besides every published figure it is told
which combinations of attributes occur at all (the non-empty *atoms*: one per section, value
of every grouping key, and status class) and which atom each single write touched. Its
unknowns are the atoms' record counts. Each published value ``v`` says the atoms it covers
sum to ``[v - D, v + D]`` (``D`` as the response states); a withheld value says they sum to
``[0, threshold - 1 + D]``; every count is ``>= 0``. For every count below the threshold,
of an atom, of a published cell or of the difference of two nested cells, it minimises and
maximises that count over all those relations at once (a linear program, HiGHS through
``scipy.optimize.linprog``) and reports the count if the bounds, rounded inwards to whole
records, close to a single value. The LP relaxation is sound for the integer problem
(integer minimum >= ceil(LP minimum), integer maximum <= floor(LP maximum)), and it implies
every deduction the earlier interval propagation made (differences of nested cells,
intersected repeats, bounds pushed through relations), plus every other linear combination.

The assessment changes are not additive over quarters: a period counts each member's
*latest* follow-up up to the period's end, so which record (and which quarter, age band and
change) a member contributes depends on where the period ends. Their atoms are therefore
members' histories: the static keys (field of action, organisation, sex) and, for the end
of every quarter, the latest follow-up up to it (its quarter, age band and change) or none.
A period ``Qi .. Qj`` counts the atoms whose record at the end of ``Qj`` lies in the period.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Case, CharField, Count, Value, When
from scipy import sparse
from scipy.optimize import linprog

from casemgmt.selectors.stats import SECTIONS, latest_assessments, quarter_bounds, quarters_between

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
#: Attribute of an assessment-change atom: per quarter end, (quarter, age band, change class) or None.
LATEST = "latest"
#: Slack when rounding LP optima to whole records.
EPS = 1e-6
BIG = 10**9

Atom = tuple[str, tuple[tuple[str, Any], ...], str]  # (section, ((dim, value), ...), class)


def view(atom: Atom, period: list[str]) -> tuple[dict[str, Any], str] | None:
    """The grouping keys and class an atom's records have in a period (quarter labels), or
    None if the period does not count them."""
    _section, attrs_items, cls = atom
    attrs = dict(attrs_items)
    latest = attrs.pop(LATEST, None)
    if latest is not None:
        record = dict(latest).get(period[-1])
        if record is None:
            return None
        quarter, age_band, cls = record
        attrs.update(quarter=quarter, age_band=age_band)
    if attrs["quarter"] not in period:
        return None
    return attrs, cls


def _grouped(qs: Any, section: Any, dims: list[str], *extra: str) -> Iterator[dict[str, Any]]:
    annotations = {f"g_{d}": section.dimensions[d]() for d in dims}
    yield from (
        qs.annotate(**annotations, cls=CLASSES[section.name]())
        .values(*annotations, "cls", *extra)
        .annotate(n=Count("id"))
        .order_by()
    )


def atoms_of(families: Any, start: datetime.date, end: datetime.date) -> dict[Atom, int]:
    """Ground truth: the record count of every non-empty atom (the attacker gets only the keys)."""
    start, end = quarter_bounds(start, end)
    truth: dict[Atom, int] = {}
    for section in SECTIONS:
        dims = sorted(section.dimensions)
        if section.name == "assessment_change":
            continue
        for row in _grouped(section.queryset(families, start, end), section, dims):
            truth[(section.name, tuple((d, row[f"g_{d}"]) for d in dims), row["cls"])] = row["n"]
    truth.update(assessment_histories(families, start, end))
    return truth


def assessment_histories(families: Any, start: datetime.date, end: datetime.date) -> dict[Atom, int]:
    """Assessment-change atoms: members (subject and field) counted by their history of latest
    follow-ups, one entry per quarter end of the period."""
    section = next(s for s in SECTIONS if s.name == "assessment_change")
    static = ("field_of_action", "organisation", "sex")
    ends = quarters_between(start, end)
    units: dict[tuple[Any, Any], tuple[tuple[Any, ...], dict[str, tuple[Any, ...]]]] = {}
    for label in ends:
        last_month = datetime.date(int(label[:4]), 3 * int(label[-1]), 1)
        qs = latest_assessments(families, start, quarter_bounds(last_month, last_month)[1])
        for row in _grouped(qs, section, sorted(section.dimensions), "subject", "field_of_action_id"):
            assert row["n"] == 1, row  # one latest follow-up per subject and field
            unit = units.setdefault(
                (row["subject"], row["field_of_action_id"]), (tuple(row[f"g_{d}"] for d in static), {})
            )
            assert unit[0] == tuple(row[f"g_{d}"] for d in static), (unit, row)
            unit[1][label] = (row["g_quarter"], row["g_age_band"], row["cls"])
    truth: dict[Atom, int] = {}
    for keys, history in units.values():
        attrs = (*zip(static, keys, strict=True), (LATEST, tuple((e, history.get(e)) for e in ends)))
        atom: Atom = (section.name, attrs, "")
        truth[atom] = truth.get(atom, 0) + 1
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
class Target:
    """A count the attacker bounds: an atom, a published cell, or a difference of two nested cells."""

    atoms: frozenset[Atom]
    label: str
    offsets: set[int]  # the writes since, of every figure published on these atoms
    offset: int = 0  # the writes since, of the figure ``label`` names


@dataclass
class Attacker:
    """Collects relations from responses and bounds counts by linear programs."""

    atoms: list[Atom]
    nonempty: set[Atom]
    #: The sections whose figures the attacker reads (each section's records are disjoint
    #: from the others', so attacking them separately loses nothing).
    sections: tuple[str, ...] = tuple(METRICS)
    relations: list[Relation] = field(default_factory=list)
    #: What the last ``recovered`` did, per section: targets, LPs solved, seconds.
    work: dict[str, dict[str, float]] = field(default_factory=dict)
    _indexes: dict[Any, dict[tuple[Any, ...], list[tuple[Atom, str]]]] = field(
        default_factory=dict, repr=False
    )

    def _index(
        self, section: str, period: tuple[str, ...], dims: tuple[str, ...]
    ) -> dict[tuple[Any, ...], list[tuple[Atom, str]]]:
        """The atoms a period counts (with their class), by every row key (cell or margin) of a
        table grouped by ``dims``."""
        cached = self._indexes.get((section, period, dims))
        if cached is not None:
            return cached
        index: dict[tuple[Any, ...], list[tuple[Atom, str]]] = {}
        for atom in self.atoms:
            seen = view(atom, list(period)) if atom[0] == section else None
            if seen is None:
                continue
            attrs, cls = seen
            for mask in range(2 ** len(dims)):
                key = tuple("total" if mask & (1 << i) else attrs[d] for i, d in enumerate(dims))
                index.setdefault(key, []).append((atom, cls))
        self._indexes[(section, period, dims)] = index
        return index

    def observe(self, body: dict[str, Any], *, shift: dict[Atom, int] | None = None, tag: str = "") -> None:
        """Turn one statistics response into relations on the atoms (``shift``: known writes since)."""
        shift = shift or {}
        max_noise = int(body["disclosure_control"]["max_noise"])
        threshold = int(body["threshold"])
        period = tuple(
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
            dims = tuple(table["dimensions"])
            index = self._index(section, period, dims)
            for row in table["rows"]:
                candidates = index.get(tuple(row["group"][d] for d in dims), [])
                for metric, classes in metrics.items():
                    covered = tuple(a for a, cls in candidates if classes is None or cls in classes)
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

    def published(self) -> dict[frozenset[Atom], Target]:
        """The published cells: relations on the same atoms (repeats, margins equal to cells,
        the same cell before and after a write) are one cell."""
        cells: dict[frozenset[Atom], Target] = {}
        for rel in self.relations:
            key = frozenset(rel.atoms)
            if key in cells:
                cells[key].offsets.add(rel.offset)
            else:
                cells[key] = Target(key, rel.label, {rel.offset}, rel.offset)
        return cells

    def targets(self, atoms: list[Atom], cells: dict[frozenset[Atom], Target]) -> list[Target]:
        """Every atom, every published cell, and every difference of two nested cells (totals
        minus cells, ``finished - dropped_out``, a longer period minus a shorter one)."""
        found = {frozenset([a]): Target(frozenset([a]), f"atom {a}", {0}) for a in atoms}
        for key, cell in cells.items():
            found.setdefault(key, cell)
        containing: dict[Atom, list[frozenset[Atom]]] = {}
        for key in cells:
            for atom in key:
                containing.setdefault(atom, []).append(key)
        for small, inner in cells.items():
            for big in containing[next(iter(small))]:
                if len(big) > len(small) and small <= big and big - small not in found:
                    found[big - small] = Target(big - small, f"{cells[big].label} - {inner.label}", {0})
        return list(found.values())

    def recovered(self, truth: dict[Atom, int], threshold: int) -> list[str]:
        """Every count below the threshold (an atom's, a published cell's, or a difference of two
        nested cells) whose LP bounds, rounded to whole records, close to one value."""
        cells = self.published()
        found: list[str] = []
        for section in self.sections:
            section_atoms = [a for a in self.atoms if a[0] == section]
            if not section_atoms:
                continue
            section_cells = {k: c for k, c in cells.items() if next(iter(k))[0] == section}
            found += self._solve_section(section, section_atoms, section_cells, truth, threshold)
        return found

    def _solve_section(
        self,
        section: str,
        atoms: list[Atom],
        cells: dict[frozenset[Atom], Target],
        truth: dict[Atom, int],
        threshold: int,
    ) -> list[str]:
        """Bound the section's small counts by LPs over the section's relations.

        Most counts need no LP of their own. Every feasible point (the truth, and each LP's
        optimum) bounds every count's LP range from inside, so a count that takes values two
        whole records apart at feasible points cannot be pinned. And a sum's LP range lies
        within the sum of its atoms' LP ranges, so once those are known a sum they pin is
        pinned (unperturbed figures pin nearly everything: this saves thousands of LPs).
        Only the counts neither shortcut decides get their two LPs.
        """
        started = datetime.datetime.now(tz=datetime.UTC)
        column = {a: i for i, a in enumerate(atoms)}
        relations = [r for r in self.relations if r.atoms[0][0] == section]
        rows: dict[frozenset[Atom], list[int]] = {}
        for rel in relations:
            bounds = rows.setdefault(frozenset(rel.atoms), [rel.lo, rel.hi])
            bounds[0], bounds[1] = max(bounds[0], rel.lo), min(bounds[1], rel.hi)
        keys = list(rows)
        a = _incidence(keys, column)
        lo = np.array([rows[k][0] for k in keys], dtype=float)
        hi = np.array([rows[k][1] for k in keys], dtype=float)
        x_true = np.array([truth.get(atom, 0) for atom in atoms], dtype=float)
        # The truth must satisfy every relation, or the atoms do not model what is published.
        sums = a @ x_true
        wrong = [
            f"{cells[k].label}: {total:g} not in {rows[k]}"
            for k, total in zip(keys, sums, strict=True)
            if not rows[k][0] <= total <= rows[k][1]
        ]
        assert not wrong, f"the atoms do not model the published figures: {wrong[:5]}"
        has_lo = lo > 0
        a_ub = sparse.vstack([a, -a[has_lo]]).tocsr()
        b_ub = np.concatenate([hi, -lo[has_lo]])
        var_bounds = [(1 if atom in self.nonempty else 0, None) for atom in atoms]

        def optimum(objective: np.ndarray) -> tuple[float, np.ndarray]:
            result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=var_bounds, method="highs")
            assert result.status == 0, (section, result.message)
            return float(result.fun), np.asarray(result.x)

        # Every atom (its bounds serve the cells made of it), then every other small count.
        targets = []
        for target in self.targets(atoms, cells):
            true = sum(truth.get(atom, 0) for atom in target.atoms)
            small = min(true + off for off in target.offsets) < threshold
            if small or len(target.atoms) == 1:
                targets.append((target, true, small))
        c = _incidence([t.atoms for t, _, _ in targets], column)
        low = c @ x_true
        high = low.copy()
        atom_lo = np.full(len(atoms), np.nan)
        atom_hi = np.full(len(atoms), np.nan)
        solved = 0

        def witness(x: np.ndarray) -> None:
            values = c @ x
            np.minimum(low, values, out=low)
            np.maximum(high, values, out=high)

        def open_(i: int) -> bool:
            return math.floor(high[i] + EPS) > math.ceil(low[i] - EPS)

        # A few vertices in random directions first: they leave most counts open at once.
        rng = np.random.default_rng(0)
        for _ in range(4):
            witness(optimum(rng.standard_normal(len(atoms)))[1])
            solved += 1
        found = []
        for i, (target, true, small) in enumerate(targets):
            if open_(i):
                continue
            members = c[i].indices
            if len(target.atoms) > 1 and not np.isnan(atom_lo[members]).any():
                # A sum's range lies within the sum of its atoms' ranges (and within its own
                # published bounds): when that closes to one value, no LP is needed.
                own = rows.get(target.atoms, [0, BIG])
                least = math.ceil(max(atom_lo[members].sum(), own[0]) - EPS)
                most = math.floor(min(atom_hi[members].sum(), own[1]) + EPS)
                if least == most:
                    assert least == true, f"unsound bounds for {target.label}: {least} vs {true}"
                    found.append(f"{target.label} = {least + target.offset}")
                    continue
            objective = c[i].toarray().ravel()
            lp_min, x = optimum(objective)
            witness(x)
            solved += 1
            if open_(i) and small:
                continue
            neg_max, x = optimum(-objective)
            witness(x)
            solved += 1
            if len(target.atoms) == 1:
                atom_lo[members], atom_hi[members] = lp_min, -neg_max
            least, most = math.ceil(lp_min - EPS), math.floor(-neg_max + EPS)
            assert least <= true <= most, f"unsound bounds for {target.label}: {least}..{most} vs {true}"
            if least == most and small:
                found.append(f"{target.label} = {least + target.offset}")
        self.work[section] = {
            "atoms": len(atoms),
            "relations": len(keys),
            "small counts": sum(small for _t, _n, small in targets),
            "LPs": solved,
            "seconds": (datetime.datetime.now(tz=datetime.UTC) - started).total_seconds(),
        }
        return found


def _incidence(sets: list[frozenset[Atom]], column: dict[Atom, int]) -> sparse.csr_matrix:
    """One row per set of atoms, a 1 in the column of each of its atoms."""
    indptr, indices = [0], []
    for atoms in sets:
        indices.extend(column[a] for a in atoms)
        indptr.append(len(indices))
    data = np.ones(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(sets), len(column)))


def group_bys(keys: Iterable[str]) -> list[str]:
    """No grouping, every key, and every ordered pair of keys (order picks the referral table)."""
    keys = list(keys)
    return ["", *keys, *[f"{a},{b}" for a in keys for b in keys if a != b]]
