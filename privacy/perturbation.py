"""Statistical disclosure control by the cell key method (ABS TableBuilder, Destatis Census 2022).

Every record that statistics count carries a **record key**: a random integer in
``[0, 2**31)`` (read as a fraction in [0, 1)) drawn when the record is created, never
derived from an identifier. The **cell key** of a published count is the sum of the record
keys of the records it counts, modulo ``2**31``: the database sums the keys in the same
``GROUP BY`` that counts the rows, and margins add the cells' integer sums exactly.
A secret **perturbation table** maps (count, cell key) to a bounded noise ``d`` with
``|d| <= STATS_MAX_NOISE``; the published value is ``count + d``, withheld when it is below
``STATS_SUPPRESSION_THRESHOLD``. The same set of records always has the same count and cell
key, so it is published with the same value in every table, margin, period and repeat:
averaging repeated or overlapping queries gains nothing.

How the table is generated (once per installation, deterministic from its parameters and
the secret): for each row ``n`` (true counts ``1 .. D``; every count ``>= D`` uses row ``D``)
the noise distribution on ``max(-D, -n) .. D`` is the maximum-entropy distribution with
mean 0 and variance ``min(V, n*D/2)`` (``p(d) ∝ exp(a·d + b·d²)``, solved by bisection, as
in the ``ptable`` R package), quantised to ``SLOTS`` equal probability slots; the slots of
each row are then ordered by a keyed HMAC of the secret, so which cell key gives which
noise is known only to whoever holds the secret. A database dump (record keys included)
therefore does not reveal the noise. Count 0 has no records, cell key 0 and noise 0; it is
withheld like every value below the threshold.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Hashable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: Record keys are integers below 2**31: sums of a million of them stay exact in SQL integers.
RECORD_KEY_BITS = 31
RECORD_KEY_MODULUS = 2**RECORD_KEY_BITS
#: Resolution of the perturbation table: probabilities are multiples of 1/SLOTS.
SLOT_BITS = 10
SLOTS = 2**SLOT_BITS
TOTAL = "*"
Key = tuple[Hashable, ...]


def new_record_key() -> int:
    """A fresh record key: random, fixed at creation, unrelated to any identifier."""
    return secrets.randbelow(RECORD_KEY_MODULUS)


@dataclass(frozen=True)
class Parameters:
    """The published parameters of the method (the secret is not one of them)."""

    max_noise: int
    variance: float
    threshold: int
    median_min_count: int


def parameters() -> Parameters:
    """The configured parameters, checked: bad values stop the service at start-up."""
    params = Parameters(
        max_noise=int(settings.STATS_MAX_NOISE),
        variance=float(settings.STATS_NOISE_VARIANCE),
        threshold=int(settings.STATS_SUPPRESSION_THRESHOLD),
        median_min_count=int(settings.STATS_MEDIAN_MIN_COUNT),
    )
    check_parameters(params)
    return params


def check_parameters(params: Parameters) -> None:
    """Refuse parameters the table cannot be built from."""
    if params.max_noise < 1:
        raise ImproperlyConfigured("STATS_MAX_NOISE must be at least 1.")
    if not 0 < params.variance < params.max_noise**2:
        raise ImproperlyConfigured("STATS_NOISE_VARIANCE must be above 0 and below STATS_MAX_NOISE squared.")
    if params.threshold < 1:
        raise ImproperlyConfigured("STATS_SUPPRESSION_THRESHOLD must be at least 1.")
    if params.median_min_count < params.threshold:
        raise ImproperlyConfigured("STATS_MEDIAN_MIN_COUNT must not be below STATS_SUPPRESSION_THRESHOLD.")


def perturbation_secret() -> bytes:
    """The secret that orders the table: its own key, or one derived from the encryption key.

    ``STATS_PERTURBATION_KEY`` (base64, from the environment or the key file) keeps the table
    stable across encryption key rotation; without it the table is derived (HMAC) from the
    active field-encryption key, which lives outside the database too.
    """
    configured = getattr(settings, "STATS_PERTURBATION_KEY", "")
    if configured:
        return base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
    from privacy.cipher.keys import encryption_keyring

    return hmac.new(encryption_keyring().active_key, b"statistics perturbation table v1", "sha256").digest()


def noise_distribution(n: int, max_noise: int, variance: float) -> dict[int, float]:
    """Maximum-entropy noise for true count ``n``: mean 0, variance ``min(V, n*D/2)``, ``n+d >= 0``."""
    if n <= 0:
        return {0: 1.0}
    support = list(range(max(-max_noise, -n), max_noise + 1))
    target = min(variance, n * max_noise / 2)

    def probabilities(a: float, b: float) -> list[float]:
        logits = [a * d + b * d * d for d in support]
        top = max(logits)
        weights = [math.exp(x - top) for x in logits]
        total = sum(weights)
        return [w / total for w in weights]

    def mean(p: list[float]) -> float:
        return sum(pi * d for pi, d in zip(p, support, strict=True))

    def centred(b: float) -> list[float]:
        lo, hi = -60.0, 60.0
        for _ in range(100):
            mid = (lo + hi) / 2
            if mean(probabilities(mid, b)) < 0:
                lo = mid
            else:
                hi = mid
        return probabilities((lo + hi) / 2, b)

    lo, hi = -60.0, 60.0
    for _ in range(100):
        mid = (lo + hi) / 2
        p = centred(mid)
        if sum(pi * d * d for pi, d in zip(p, support, strict=True)) < target:
            lo = mid
        else:
            hi = mid
    return dict(zip(support, centred((lo + hi) / 2), strict=True))


def quantise(distribution: dict[int, float]) -> dict[int, int]:
    """Slots per noise value, summing to SLOTS (largest remainder)."""
    raw = {d: p * SLOTS for d, p in distribution.items()}
    slots = {d: math.floor(x) for d, x in raw.items()}
    rest = SLOTS - sum(slots.values())
    for d in sorted(raw, key=lambda d: (slots[d] - raw[d], abs(d)))[:rest]:
        slots[d] += 1
    return slots


@dataclass(frozen=True)
class PerturbationTable:
    """Noise by (row, slot of the cell key); rows ``1 .. max_noise``, larger counts use the last."""

    params: Parameters
    rows: tuple[tuple[int, ...], ...]

    def noise(self, count: int, cell_key: int) -> int:
        """The noise added to ``count`` records whose key sum is ``cell_key``."""
        if count <= 0:
            return 0
        row = self.rows[min(count, self.params.max_noise) - 1]
        return int(row[(cell_key % RECORD_KEY_MODULUS) >> (RECORD_KEY_BITS - SLOT_BITS)])

    def publish(self, count: int, cell_key: int) -> int | None:
        """The perturbed count, or None when it falls below the threshold."""
        value = count + self.noise(count, cell_key)
        return value if value >= self.params.threshold else None


def _slot_rank(secret: bytes, row: int, slot: int) -> bytes:
    """Where a slot goes in a row: a keyed hash, so the order is known only with the secret."""
    return hmac.new(secret, f"row {row} slot {slot}".encode(), hashlib.sha256).digest()


def build_table(params: Parameters, secret: bytes) -> PerturbationTable:
    """Generate the table: quantised distributions, slots ordered by a keyed HMAC per row."""
    rows = []
    for n in range(1, params.max_noise + 1):
        slots = quantise(noise_distribution(n, params.max_noise, params.variance))
        values = [d for d in sorted(slots) for _ in range(slots[d])]
        order = sorted(range(SLOTS), key=functools.partial(_slot_rank, secret, n))
        row = [0] * SLOTS
        for value, slot in zip(values, order, strict=True):
            row[slot] = value
        rows.append(tuple(row))
    return PerturbationTable(params=params, rows=tuple(rows))


@functools.lru_cache(maxsize=4)
def _cached_table(params: Parameters, secret: bytes) -> PerturbationTable:
    return build_table(params, secret)


def table() -> PerturbationTable:
    """The installation's table (built once per process from the settings and the secret)."""
    return _cached_table(parameters(), perturbation_secret())


def metadata(params: Parameters) -> dict[str, object]:
    """What every statistics response says about the perturbation."""
    return {
        "method": "cell key method (ABS TableBuilder, Destatis Census 2022)",
        "perturbed": True,
        "max_noise": params.max_noise,
        "noise_variance": params.variance,
        "threshold": params.threshold,
        "median_min_count": params.median_min_count,
        "note": (
            f"Counts are perturbed by at most ±{params.max_noise} (variance {params.variance:g}); "
            f"values below {params.threshold} (true zeros included) are withheld; the same records "
            "always give the same value, so totals need not equal the sum of their cells; "
            "rates are computed from perturbed counts; medians only for cells of "
            f"{params.median_min_count} or more."
        ),
    }
