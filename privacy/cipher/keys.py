"""Keyring for field encryption and blind indexes.

Keys come from the environment or a key file, never from the database or ``SECRET_KEY``.
Two separate keyrings exist: one for AES-256-GCM field encryption and one for the HMAC
blind indexes, so that a leak of the search key does not expose any ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_BYTES = 32


class KeyConfigurationError(ImproperlyConfigured):
    """The configured keys are missing or malformed; the service must not start."""


@dataclass(frozen=True)
class Keyring:
    """Named keys of one purpose; ``active`` is the id used for new writes."""

    purpose: str
    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigurationError(f"No {self.purpose} keys configured.")
        for kid, key in self.keys.items():
            if not KEY_ID_RE.match(kid):
                raise KeyConfigurationError(
                    f"{self.purpose} key id {kid!r} is invalid: use 1-32 characters A-Z a-z 0-9 _ -."
                )
            if len(key) != KEY_BYTES:
                raise KeyConfigurationError(
                    f"{self.purpose} key {kid!r} must be {KEY_BYTES} bytes (base64-encoded), "
                    f"got {len(key)} bytes."
                )
        if self.active not in self.keys:
            raise KeyConfigurationError(
                f"Active {self.purpose} key id {self.active!r} is not among the configured keys "
                f"({', '.join(sorted(self.keys))})."
            )

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active]


def parse_key_list(value: str, purpose: str) -> dict[str, bytes]:
    """Parse ``kid:base64,kid2:base64`` as used by the environment variables."""
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep:
            raise KeyConfigurationError(
                f"{purpose} key entry must look like 'keyid:base64key' (entry starting {kid[:8]!r}...)."
            )
        keys[kid.strip()] = _decode_key(encoded.strip(), kid.strip(), purpose)
    return keys


def _decode_key(encoded: str, kid: str, purpose: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as exc:
        # The message names the key id, never the key material.
        raise KeyConfigurationError(f"{purpose} key {kid!r} is not valid base64.") from exc


def new_key() -> str:
    """A fresh random key, base64url-encoded, for configuration files and the environment."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def keyrings_from_file(path: Path) -> tuple[Keyring, Keyring]:
    """Read both keyrings from a JSON key file (see README, "Keys")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rings = []
        for purpose, section in (("encryption", "encryption"), ("blind index", "blind_index")):
            part = data[section]
            keys = {kid: _decode_key(v, kid, purpose) for kid, v in part["keys"].items()}
            rings.append(Keyring(purpose=purpose, keys=keys, active=part["active"]))
    except FileNotFoundError as exc:
        raise KeyConfigurationError(f"Key file {path} does not exist.") from exc
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise KeyConfigurationError(
            f"Key file {path} is malformed: expected "
            '{"encryption": {"active": ..., "keys": {...}}, "blind_index": {...}}.'
        ) from exc
    if rings[0].keys.keys() & rings[1].keys.keys() and any(
        rings[0].keys[k] == rings[1].keys[k] for k in rings[0].keys.keys() & rings[1].keys.keys()
    ):
        raise KeyConfigurationError("Encryption and blind index keys must differ.")
    return rings[0], rings[1]


def write_dev_key_file(path: Path) -> None:
    """Generate a development key file readable only by its owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "encryption": {"active": "dev1", "keys": {"dev1": new_key()}},
        "blind_index": {"active": "dev1", "keys": {"dev1": new_key()}},
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


def load_keyrings(
    *,
    env: dict[str, str],
    debug: bool,
    dev_key_file: Path,
) -> tuple[Keyring, Keyring]:
    """Resolve the keyrings from the environment, a key file or (development only) a generated file.

    Called from settings so that a missing or malformed key stops the process at start-up.
    """
    enc_list = env.get("FIELD_ENCRYPTION_KEYS", "").strip()
    bidx_list = env.get("BLIND_INDEX_KEYS", "").strip()
    key_file = env.get("KEY_FILE", "").strip()
    if enc_list or bidx_list:
        if not (enc_list and bidx_list):
            raise KeyConfigurationError("Set both FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEYS.")
        enc_keys = parse_key_list(enc_list, "encryption")
        bidx_keys = parse_key_list(bidx_list, "blind index")
        if set(enc_keys.values()) & set(bidx_keys.values()):
            raise KeyConfigurationError("Encryption and blind index keys must differ.")
        enc = Keyring(
            purpose="encryption",
            keys=enc_keys,
            active=env.get("FIELD_ENCRYPTION_ACTIVE_KEY", "") or next(iter(enc_keys)),
        )
        bidx = Keyring(
            purpose="blind index",
            keys=bidx_keys,
            active=env.get("BLIND_INDEX_ACTIVE_KEY", "") or next(iter(bidx_keys)),
        )
        return enc, bidx
    if key_file:
        return keyrings_from_file(Path(key_file))
    if debug:
        if not dev_key_file.exists():
            write_dev_key_file(dev_key_file)
        return keyrings_from_file(dev_key_file)
    raise KeyConfigurationError(
        "Field encryption keys are not configured. Set FIELD_ENCRYPTION_KEYS and "
        "BLIND_INDEX_KEYS (or KEY_FILE); generate keys with "
        "`python -m privacy.cipher.keys`. Development keys are generated only when DEBUG is on."
    )


@lru_cache(maxsize=1)
def _settings_keyrings() -> tuple[Keyring, Keyring]:
    from django.conf import settings

    return settings.FIELD_ENCRYPTION_KEYRING, settings.BLIND_INDEX_KEYRING


def encryption_keyring() -> Keyring:
    """The keyring for field encryption, as configured in settings."""
    return _settings_keyrings()[0]


def blind_index_keyring() -> Keyring:
    """The keyring for blind indexes, as configured in settings."""
    return _settings_keyrings()[1]


# Caches derived from the keyrings (the AES-GCM cipher objects, per-district index keys)
# register here, so this module needs no import of the modules above it (no crypto <-> keys circle).
_reset_hooks: list[Callable[[], None]] = []


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    """Register ``hook`` to run whenever the keyrings are reset."""
    _reset_hooks.append(hook)
    return hook


def reset_cache() -> None:
    """Forget cached keyrings and everything derived from them (tests that switch keys, key rotation)."""
    _settings_keyrings.cache_clear()
    for hook in _reset_hooks:
        hook()


if __name__ == "__main__":  # pragma: no cover - a small operator tool
    print(f"FIELD_ENCRYPTION_KEYS=k{secrets.token_hex(3)}:{new_key()}")
    print(f"BLIND_INDEX_KEYS=b{secrets.token_hex(3)}:{new_key()}")
