"""Keyed blind indexes for equality search over encrypted values.

An index value is ``<key id>:<hex>`` of HMAC-SHA256 over ``context || 0x00 || normalised
value`` with the blind index key (never the encryption key). Putting the column's context
into the message gives every column its own index space, so equal names in two columns do
not produce equal index values unless a search deliberately shares a context. The key id
prefix lets a search match values indexed under any configured key while keys rotate.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from privacy.keys import blind_index_keyring
from privacy.normalise import normalise_name

DIGEST_HEX_CHARS = 32  # 128 bits: collisions are negligible, storage stays small.
INDEX_MAX_LENGTH = 32 + 1 + DIGEST_HEX_CHARS


def blind_index(value: str, *, context: str, kid: str | None = None) -> str:
    """The index value of an already normalised ``value`` under the active (or given) key."""
    ring = blind_index_keyring()
    kid = kid or ring.active
    mac = hmac.new(ring.keys[kid], context.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return f"{kid}:{mac.hexdigest()[:DIGEST_HEX_CHARS]}"


def search_terms(value: str, *, context: str) -> list[str]:
    """Index values to look for: one per configured key, so search works during rotation."""
    return [blind_index(value, context=context, kid=kid) for kid in blind_index_keyring().keys]


def name_terms(values: Iterable[str], *, context: str) -> list[str]:
    """Search terms for names, normalised by the documented rule; empty names are skipped."""
    terms: list[str] = []
    for value in values:
        norm = normalise_name(value)
        if norm:
            terms.extend(search_terms(norm, context=context))
    return terms
