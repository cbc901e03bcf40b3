"""The Ed25519 key that signs audit checkpoints and pruning statements.

It lives outside the database (environment or key file, like the field keys) and is separate
from them: whoever can write the database can rewrite entries and recompute every hash, but
cannot produce a signature, so verification needs only the public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privacy.cipher.keys import KeyConfigurationError, new_key


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{what} is not valid base64.") from exc


def private_key_from_b64(value: str) -> Ed25519PrivateKey:
    raw = _b64decode(value, "AUDIT_SIGNING_KEY")
    if len(raw) != 32:
        raise KeyConfigurationError(
            f"AUDIT_SIGNING_KEY must be a 32-byte Ed25519 seed, got {len(raw)} bytes."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_from_b64(value: str) -> Ed25519PublicKey:
    raw = _b64decode(value, "The audit public key")
    if len(raw) != 32:
        raise KeyConfigurationError(f"An Ed25519 public key has 32 bytes, got {len(raw)}.")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_bytes(key)).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint naming the key in checkpoints (first 8 bytes of SHA-256, hex)."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def load_signing_key(
    *, env: dict[str, str], debug: bool, dev_key_file: Path, field_keys: Iterable[bytes] = ()
) -> Ed25519PrivateKey:
    """AUDIT_SIGNING_KEY, the key file's ``audit_signing`` section, or (DEBUG only) a generated dev key."""
    value = env.get("AUDIT_SIGNING_KEY", "").strip()
    key_file = env.get("KEY_FILE", "").strip()
    if not value and key_file:
        try:
            value = (
                json.loads(Path(key_file).read_text(encoding="utf-8")).get("audit_signing", {}).get("key", "")
            )
        except (OSError, ValueError, AttributeError) as exc:
            raise KeyConfigurationError(
                f"Key file {key_file} could not be read for the audit signing key."
            ) from exc
    if not value and debug:
        if not dev_key_file.exists():
            dev_key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(dev_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"audit_signing": {"key": new_key()}}, fh, indent=2)
        value = json.loads(dev_key_file.read_text(encoding="utf-8"))["audit_signing"]["key"]
    if not value:
        raise KeyConfigurationError(
            "The audit signing key is not configured. Set AUDIT_SIGNING_KEY (a base64 32-byte "
            "Ed25519 seed, generate one with `python -m privacy.signing`) or an 'audit_signing' "
            "section in KEY_FILE. A development key is generated only when DEBUG is on."
        )
    key = private_key_from_b64(value)
    if _b64decode(value, "AUDIT_SIGNING_KEY") in set(field_keys):
        raise KeyConfigurationError(
            "The audit signing key must differ from the field encryption and index keys."
        )
    return key


@lru_cache(maxsize=1)
def signing_key() -> Ed25519PrivateKey:
    from django.conf import settings

    key: Ed25519PrivateKey = settings.AUDIT_SIGNING_KEY
    return key


def configured_public_key() -> Ed25519PublicKey:
    """The public key the verifier trusts by default: AUDIT_PUBLIC_KEY if set, else the signer's."""
    from django.conf import settings

    value = getattr(settings, "AUDIT_PUBLIC_KEY", "")
    return public_key_from_b64(value) if value else signing_key().public_key()


def sign(message: bytes) -> str:
    return base64.b64encode(signing_key().sign(message)).decode("ascii")


def verify(public_key: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def reset_cache() -> None:
    signing_key.cache_clear()


if __name__ == "__main__":  # pragma: no cover - a small operator tool
    seed = new_key()
    print(f"AUDIT_SIGNING_KEY={seed}")
    print(f"# public key (give to the DPO): {public_key_b64(private_key_from_b64(seed).public_key())}")
