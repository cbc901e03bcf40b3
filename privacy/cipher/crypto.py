"""AES-256-GCM envelope for field values.

Stored form (a binary column: ``bytea`` on PostgreSQL, ``BLOB`` on SQLite)::

    version (1 byte: 2 = e2, 1 = e1) | key id length (1 byte) | key id (ASCII)
    | nonce (12) | ciphertext | tag (16)

The key id lets decryption pick exactly one key, so keys rotate without downtime. The
associated data binds the value to its table, column, key id **and row** (the primary key):
``e2|<table.column>|<key id>|<row>``. A ciphertext copied to another row or column, or
relabelled with another key id, fails authentication instead of decrypting (a stolen and
edited database cannot move a residence status or a name from one person to another).

Binary, because the text form it replaces (``e2:<key id>:<base64url(nonce ‖ ciphertext ‖
tag)>``) spent more on base64 than AES-GCM spends on the value (issue 17: the envelope within
2x bare AES-GCM). Values in that text form still decrypt (a text column not yet converted,
a value read in a migration), with the same associated data: migration 0023 converts columns
without re-encrypting. ``e1`` values (written before row binding: associated data without the
row) still decrypt; ``manage.py rotate_keys`` rewrites them as ``e2``.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.cipher import text_form
from privacy.cipher.keys import encryption_keyring, on_reset
from privacy.cipher.text_form import header

PREFIX = "e2"
NONCE_BYTES = 12
TAG_BYTES = 16
_CURRENT = text_form.VERSION_BYTES[PREFIX]

logger = logging.getLogger(__name__)

Stored = bytes | bytearray | memoryview | str


class DecryptionError(Exception):
    """A stored value could not be decrypted: tampered, moved, or its key is missing.

    The message names the column, row and key id only; it never carries the value.
    """


@lru_cache(maxsize=32)
def _cipher(kid: str) -> AESGCM:
    ring = encryption_keyring()
    try:
        key = ring.keys[kid]
    except KeyError:
        raise DecryptionError(
            f"Unknown encryption key id {_shown(kid)}: configured key ids are {sorted(ring.keys)}."
        ) from None
    return AESGCM(key)


#: Per (column, key id): the cipher, the associated data before the row, and the stored
#: form's header. Built once, so a value costs one dict lookup instead of a keyring read, a
#: cache call and two string builds.
_SEALERS: dict[tuple[str, str], tuple[AESGCM, bytes, bytes]] = {}


def _sealer(context: str, kid: str) -> tuple[AESGCM, bytes, bytes]:
    try:
        return _SEALERS[(context, kid)]
    except KeyError:
        pass
    if len(_SEALERS) > 4096:  # columns x key ids are few; a flood of ids only rebuilds
        _SEALERS.clear()
    sealer = (_cipher(kid), f"{PREFIX}|{context}|{kid}|".encode(), header(PREFIX, kid))
    _SEALERS[(context, kid)] = sealer
    return sealer


@on_reset
def reset_cache() -> None:
    """Forget the cipher objects built from the keyring."""
    _cipher.cache_clear()
    _SEALERS.clear()
    _OPENERS.clear()


def encrypt(plaintext: str, *, context: str, row: str, kid: str | None = None) -> bytes:
    """Encrypt ``plaintext`` for ``context`` (``table.column``) and ``row`` (its primary key)."""
    if not row:
        raise ValueError("An encrypted value needs the primary key of its row (row binding).")
    kid = kid or encryption_keyring().active
    try:
        cipher, aad_head, head = _SEALERS[(context, kid)]
    except KeyError:
        cipher, aad_head, head = _sealer(context, kid)
    nonce = os.urandom(NONCE_BYTES)
    return head + nonce + cipher.encrypt(nonce, plaintext.encode("utf-8"), aad_head + row.encode())


def from_text(stored: str) -> bytes:
    """The binary form of a value in the earlier text form (``privacy.cipher.text_form``)."""
    try:
        return text_form.binary_of(stored)
    except ValueError as exc:
        kid = stored.split(":", 2)[1] if stored.count(":") >= 2 else ""
        raise DecryptionError(f"Stored value with key {_shown(kid)} is {exc}.") from None


def _split(stored: Stored) -> tuple[str, str, bytes]:
    """Version, key id and body (nonce, ciphertext, tag) of a stored value."""
    if isinstance(stored, str):
        stored = from_text(stored)
    elif not isinstance(stored, bytes):
        stored = bytes(stored)
    if stored[:3] in (b"e1:", b"e2:"):
        # The text form as bytes: written into a binary column by a version from before the
        # binary form (still running while the columns were converted). Read, and rotated.
        stored = from_text(stored.decode("latin-1"))
    try:
        return text_form.split_binary(stored)
    except text_form.BadKeyId as exc:
        raise DecryptionError(f"Stored value has no valid key id ({_shown(exc.kid)}).") from None
    except ValueError:
        raise DecryptionError("Stored value is not in an encrypted format (e1 or e2).") from None


def key_id_of(stored: Stored) -> str:
    """The key id a stored value was encrypted with (for rotation and checks)."""
    return _split(stored)[1]


def version_of(stored: Stored) -> str:
    """The envelope version of a stored value: ``e2`` (row-bound) or legacy ``e1``."""
    return _split(stored)[0]


def is_current(stored: Stored, *, kid: str) -> bool:
    """Whether ``stored`` is row-bound, binary and under key ``kid`` (nothing to rotate)."""
    if isinstance(stored, str):  # the earlier text form: rotation rewrites it
        return False
    return bytes(stored[: 2 + len(kid)]) == header(PREFIX, kid)


def _shown(kid: str) -> str:
    """A key id as messages may show it: a stored value's header could hold anything (a raw
    value in an encrypted column), never echo that."""
    return repr(kid) if text_form.KEY_ID.fullmatch(kid) else f"<not a key id, {len(kid)} characters>"


def _fail(message: str, *, context: str, row: str | None, kid: str) -> DecryptionError:
    # Logged for the operator with column, row and key id: never the value or ciphertext.
    shown = _shown(kid)
    logger.warning("Decryption failed: %s (column %s, row %s, key %s)", message, context, row, shown)
    return DecryptionError(f"Encrypted value in {context} (row {row}) {message} with key {shown}.")


#: Per (column, key id as stored): the cipher and the associated data before the row, for
#: decryption, which meets the key id as bytes. Filled by the general path below, only for key
#: ids the keyring holds.
_OPENERS: dict[tuple[str, bytes], tuple[AESGCM, bytes]] = {}
_SHORTEST = 2 + 1 + NONCE_BYTES + TAG_BYTES


def decrypt(stored: Stored, *, context: str, row: str | None) -> str:
    """Decrypt a stored value of ``row``; raise :class:`DecryptionError`, never return ciphertext."""
    opener, data, start = None, b"", 0
    if isinstance(stored, bytes) and row and len(stored) >= _SHORTEST and stored[0] == _CURRENT:
        # The common case, a current value read from its column (or just sealed, a bytes
        # subclass): one dict lookup.
        data, start = stored, 2 + stored[1]
        opener = _OPENERS.get((context, data[2:start]))
    if opener is not None and len(data) >= start + NONCE_BYTES + TAG_BYTES:
        cipher, aad_head = opener
        aad = aad_head + row.encode()  # type: ignore[union-attr]
        kid = ""  # only for a failure: read from the value then
    else:
        try:
            version, kid, data = _split(stored)
        except DecryptionError as exc:
            logger.warning("Decryption failed: %s (column %s, row %s)", exc, context, row)
            raise DecryptionError(f"Encrypted value in {context} (row {row}): {exc}") from None
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise _fail("is truncated", context=context, row=row, kid=kid)
        if version == PREFIX:
            if not row:
                raise _fail("is row-bound but no row was given", context=context, row=row, kid=kid)
            cipher, aad_head, _ = _sealer(context, kid)  # an unknown key id raises here
            if len(_OPENERS) > 4096:
                _OPENERS.clear()
            _OPENERS[(context, kid.encode("ascii"))] = (cipher, aad_head)
            aad = aad_head + row.encode()
        else:
            cipher, aad = _cipher(kid), f"e1|{context}|{kid}".encode()
        start = 0
    try:
        plain = cipher.decrypt(data[start : start + NONCE_BYTES], data[start + NONCE_BYTES :], aad)
    except InvalidTag:
        raise _fail(
            "failed authentication: it was tampered with, moved from another row or column, "
            "or the key is wrong,",
            context=context,
            row=row,
            kid=kid or key_id_of(data),
        ) from None
    return plain.decode("utf-8")
