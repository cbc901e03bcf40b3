"""AES-256-GCM envelope for field values.

Stored form: ``e1:<key id>:<base64url(nonce || ciphertext || tag)>``. The key id lets
decryption pick exactly one key, so keys rotate without downtime; the associated data
binds the value to its table and column (and to the key id), so a ciphertext copied to
another column or relabelled with another key id fails authentication instead of
decrypting.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys import encryption_keyring

PREFIX = "e1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted: tampered, moved, or its key is missing.

    The message names the column and key id only; it never carries the value.
    """


@lru_cache(maxsize=32)
def _cipher(kid: str) -> AESGCM:
    ring = encryption_keyring()
    try:
        key = ring.keys[kid]
    except KeyError:
        raise DecryptionError(
            f"Unknown encryption key id {kid!r}: configured key ids are {sorted(ring.keys)}."
        ) from None
    return AESGCM(key)


def reset_cache() -> None:
    _cipher.cache_clear()


def _aad(context: str, kid: str) -> bytes:
    return f"{PREFIX}|{context}|{kid}".encode()


def encrypt(plaintext: str, *, context: str, kid: str | None = None) -> str:
    """Encrypt ``plaintext`` for ``context`` (``table.column``) under the active (or given) key."""
    kid = kid or encryption_keyring().active
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(kid).encrypt(nonce, plaintext.encode("utf-8"), _aad(context, kid))
    return f"{PREFIX}:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def key_id_of(stored: str) -> str:
    """The key id a stored value was encrypted with (for rotation and checks)."""
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("Stored value is not in the e1 encrypted format.")
    return parts[1]


def decrypt(stored: str, *, context: str) -> str:
    """Decrypt a stored value; raise :class:`DecryptionError`, never return ciphertext."""
    kid = key_id_of(stored)
    try:
        blob = base64.urlsafe_b64decode(stored.split(":", 2)[2].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError(f"Encrypted value in {context} is not valid base64.") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(f"Encrypted value in {context} is truncated.")
    try:
        plain = _cipher(kid).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(context, kid))
    except InvalidTag:
        raise DecryptionError(
            f"Encrypted value in {context} failed authentication with key {kid!r}: "
            "it was tampered with, moved from another column, or the key is wrong."
        ) from None
    return plain.decode("utf-8")
