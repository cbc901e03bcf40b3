"""AES-256-GCM envelope for field values.

Stored form: ``e2:<key id>:<base64url(nonce || ciphertext || tag)>``. The key id lets
decryption pick exactly one key, so keys rotate without downtime. The associated data
binds the value to its table, column, key id **and row** (the primary key), so a
ciphertext copied to another row or column, or relabelled with another key id, fails
authentication instead of decrypting (a stolen and edited database cannot move a
residence status or a name from one person to another).

``e1`` values (written before row binding: associated data without the row) still
decrypt; ``manage.py rotate_keys`` rewrites them as ``e2``.
"""

from __future__ import annotations

import binascii
import logging
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.cipher.keys import encryption_keyring, on_reset

PREFIX = "e2"
LEGACY_PREFIXES = frozenset({"e1"})
NONCE_BYTES = 12
# base64url by translation around binascii: what base64.urlsafe_b64encode/-decode do, without
# their Python-level wrappers (a measurable share of the per-value cost).
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")

logger = logging.getLogger(__name__)


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


#: Per (version, column, key id): the cipher, the associated data before the row, and the
#: stored form's header. Built once, so a value costs one dict lookup instead of a keyring
#: read, a cache call and two f-strings (issue 17: the envelope within 2x bare AES-GCM).
_SEALERS: dict[tuple[str, str, str], tuple[AESGCM, bytes, str]] = {}


def _sealer(version: str, context: str, kid: str) -> tuple[AESGCM, bytes, str]:
    try:
        return _SEALERS[(version, context, kid)]
    except KeyError:
        pass
    if len(_SEALERS) > 4096:  # columns x key ids are few; a flood of ids only rebuilds
        _SEALERS.clear()
    sealer = (_cipher(kid), f"{version}|{context}|{kid}|".encode(), f"{version}:{kid}:")
    _SEALERS[(version, context, kid)] = sealer
    return sealer


@on_reset
def reset_cache() -> None:
    """Forget the cipher objects built from the keyring."""
    _cipher.cache_clear()
    _SEALERS.clear()


def _legacy_aad(context: str, kid: str) -> bytes:
    """The associated data of an ``e1`` value: column and key id, no row."""
    return f"e1|{context}|{kid}".encode()


def encrypt(plaintext: str, *, context: str, row: str, kid: str | None = None) -> str:
    """Encrypt ``plaintext`` for ``context`` (``table.column``) and ``row`` (its primary key)."""
    if not row:
        raise ValueError("An encrypted value needs the primary key of its row (row binding).")
    cipher, aad_head, header = _sealer(PREFIX, context, kid or encryption_keyring().active)
    nonce = os.urandom(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plaintext.encode("utf-8"), aad_head + row.encode())
    return header + binascii.b2a_base64(nonce + sealed, newline=False).translate(_TO_URLSAFE).decode("ascii")


def _split(stored: str) -> tuple[str, str, str]:
    parts = stored.split(":", 2)
    if len(parts) != 3 or (parts[0] != PREFIX and parts[0] not in LEGACY_PREFIXES):
        raise DecryptionError("Stored value is not in an encrypted format (e1 or e2).")
    return parts[0], parts[1], parts[2]


def key_id_of(stored: str) -> str:
    """The key id a stored value was encrypted with (for rotation and checks)."""
    return _split(stored)[1]


def version_of(stored: str) -> str:
    """The envelope version of a stored value: ``e2`` (row-bound) or legacy ``e1``."""
    return _split(stored)[0]


def is_current(stored: str, *, kid: str) -> bool:
    """Whether ``stored`` is row-bound and under key ``kid`` (nothing to rotate)."""
    return stored.startswith(f"{PREFIX}:{kid}:")


_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def _shown(kid: str) -> str:
    """A key id as messages may show it: a stored value's header could hold anything (a raw
    value in an encrypted column that happens to start with ``e2:``), never echo that."""
    return repr(kid) if _KEY_ID.fullmatch(kid) else f"<not a key id, {len(kid)} characters>"


def _fail(message: str, *, context: str, row: str | None, kid: str) -> DecryptionError:
    # Logged for the operator with column, row and key id: never the value or ciphertext.
    shown = _shown(kid)
    logger.warning("Decryption failed: %s (column %s, row %s, key %s)", message, context, row, shown)
    return DecryptionError(f"Encrypted value in {context} (row {row}) {message} with key {shown}.")


def decrypt(stored: str, *, context: str, row: str | None) -> str:
    """Decrypt a stored value of ``row``; raise :class:`DecryptionError`, never return ciphertext."""
    version, kid, body = _split(stored)
    try:
        blob = binascii.a2b_base64(body.encode("ascii").translate(_FROM_URLSAFE))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise _fail("is not valid base64", context=context, row=row, kid=kid) from None
    if len(blob) < NONCE_BYTES + 16:
        raise _fail("is truncated", context=context, row=row, kid=kid)
    if version == PREFIX:
        if not row:
            raise _fail("is row-bound but no row was given", context=context, row=row, kid=kid)
        cipher, aad_head, _ = _sealer(PREFIX, context, kid)
        aad = aad_head + row.encode()
    else:
        cipher, aad = _cipher(kid), _legacy_aad(context, kid)
    try:
        plain = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise _fail(
            "failed authentication: it was tampered with, moved from another row or column, "
            "or the key is wrong,",
            context=context,
            row=row,
            kid=kid,
        ) from None
    return plain.decode("utf-8")
