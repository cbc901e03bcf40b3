"""Keyed blind indexes with planned leakage, for search over encrypted values.

An index value is ``<key id>:<hex>``: the first *b* bits of HMAC-SHA256 over
``context || 0x00 || normalised value`` under a **per-district key**, derived from the
blind index key (never the encryption key) and the id of the top-level organisation
(the district tree): ``HMAC(key, "district-index-key" || 0x00 || district id)``. The same
name in two districts gives unrelated index values, so a stolen database does not link
families across districts.

Planned leakage (after CipherSweet's blind index planning): each index is truncated to

    b = floor(log2(D / k))

bits, where D is the expected number of distinct plaintexts the index sees within one
district key and k the minimum number of distinct plaintexts that should share each index
value. Every index value then stands for about D / 2**b >= k plaintexts, so a stolen index
shows only buckets, not values or exact frequencies; the search returns the whole bucket
and the false positives are filtered after decryption (of the rows the user may see).
The plans below are sized for a state-scale district key (400,000 persons); see README.md,
"What a stolen database reveals", for the numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from privacy.cipher.keys import blind_index_keyring, on_reset
from privacy.cipher.normalise import normalise_name

INDEX_MAX_LENGTH = 32 + 1 + 16  # key id, colon, up to 64 bits in hex


@dataclass(frozen=True)
class IndexPlan:
    """How many bits an index keeps: from the expected distinct plaintexts and the sharing wanted."""

    distinct: int
    min_share: int

    @property
    def bits(self) -> int:
        return max(1, math.floor(math.log2(self.distinct / self.min_share)))


# Expected distinct plaintexts per district key for 400,000 persons (about 100,000
# families): name parts from German, Arabic, Turkish, Kurdish, Slavic and other naming
# traditions after normalisation; Kölner Phonetik codes are fewer; dates of birth span
# about a century.
PLANS: dict[str, IndexPlan] = {
    "person.name_part": IndexPlan(distinct=60_000, min_share=4),  # 13 bits
    "person.name_phonetic": IndexPlan(distinct=12_000, min_share=4),  # 11 bits
    "person.date_of_birth": IndexPlan(distinct=36_500, min_share=8),  # 12 bits: never near-unique
    "family.family_name": IndexPlan(distinct=40_000, min_share=4),  # 13 bits
}


@lru_cache(maxsize=1024)
def _district_key(kid: str, district: str, master: bytes) -> bytes:
    return hmac.new(master, b"district-index-key\x00" + district.encode(), hashlib.sha256).digest()


@on_reset
def reset_cache() -> None:
    """Forget the per-district index keys derived from the keyring."""
    _district_key.cache_clear()


def blind_index(value: str, *, context: str, district: str, kid: str | None = None) -> str:
    """The index value of an already normalised ``value`` in ``district`` under the active (or given) key."""
    ring = blind_index_keyring()
    kid = kid or ring.active
    key = _district_key(kid, district, ring.keys[kid])
    mac = hmac.new(key, context.encode() + b"\x00" + value.encode(), hashlib.sha256).digest()
    bits = PLANS[context].bits
    truncated = int.from_bytes(mac[:8], "big") >> (64 - bits)
    return f"{kid}:{truncated:0{(bits + 3) // 4}x}"


def search_terms(value: str, *, context: str, districts: Iterable[str]) -> list[str]:
    """Index values to look for: one per configured key and district, so search works during rotation."""
    return [
        blind_index(value, context=context, district=district, kid=kid)
        for kid in blind_index_keyring().keys
        for district in districts
    ]


def name_terms(values: Iterable[str], *, context: str, districts: Iterable[str]) -> list[str]:
    """Search terms for names, normalised by the documented rule; empty names are skipped."""
    districts = list(districts)
    terms: list[str] = []
    for value in values:
        norm = normalise_name(value)
        if norm:
            terms.extend(search_terms(norm, context=context, districts=districts))
    return terms
