"""AES-GCM envelope: round trip, key ids, nonces, binding to the column, tamper and key errors."""

from __future__ import annotations

import base64

import pytest
from django.test import override_settings

from privacy.cipher import crypto, keys
from privacy.cipher.keys import Keyring, new_key


def test_round_trip_and_fresh_nonce() -> None:
    a = crypto.encrypt("Amina Haddad", context="t.c", row="r1")
    b = crypto.encrypt("Amina Haddad", context="t.c", row="r1")
    assert a != b  # a fresh nonce every time: equal plaintexts do not show as equal
    assert crypto.decrypt(a, context="t.c", row="r1") == "Amina Haddad"
    assert a.startswith(b"\x02\x05test1")  # version e2, key id length, key id
    assert crypto.key_id_of(a) == "test1" and crypto.version_of(a) == "e2"
    assert b"Amina" not in a
    assert len(a) == 2 + len("test1") + 12 + len("Amina Haddad") + 16  # no encoding overhead


def test_unicode_and_empty_round_trip() -> None:
    for value in ("", "Ümit Şahin-Öztürk", "محمد", "😀" * 10):
        assert (
            crypto.decrypt(crypto.encrypt(value, context="t.c", row="r1"), context="t.c", row="r1") == value
        )


def test_ciphertext_bound_to_column() -> None:
    token = crypto.encrypt("secret", context="casemgmt_person.given_name", row="r1")
    with pytest.raises(crypto.DecryptionError, match=r"casemgmt_person\.family_name"):
        crypto.decrypt(token, context="casemgmt_person.family_name", row="r1")


@pytest.mark.parametrize("position", [10, 20, -1])
def test_tampered_value_raises(position: int) -> None:
    token = crypto.encrypt("secret value", context="t.c", row="r1")
    raw = bytearray(token)
    raw[7 + position if position >= 0 else position] ^= 0x01  # past the header: nonce, body, tag
    tampered = bytes(raw)
    with pytest.raises(crypto.DecryptionError, match="failed authentication") as info:
        crypto.decrypt(tampered, context="t.c", row="r1")
    assert "secret" not in str(info.value)


def test_relabelled_key_id_fails() -> None:
    token = crypto.encrypt("secret", context="t.c", row="r1")
    relabelled = token.replace(b"\x05test1", b"\x05test0", 1)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(relabelled, context="t.c", row="r1")


@pytest.mark.parametrize(
    "bad",
    [
        "plain text",
        "e2:test1:!!!not-base64!!!",
        "e2:test1:AAAA",
        "e3:x:y",
        b"plain text",
        b"\x02",
        b"\x02\x05test1" + b"\x00" * 20,  # truncated: shorter than nonce and tag
        b"\x02\x30test1",  # key id longer than the value
        b"\x03\x05test1" + b"\x00" * 40,  # no such version
        b"\x02\x05te\xfft1" + b"\x00" * 40,  # key id not ASCII
        b"",
    ],
)
def test_malformed_values_raise(bad: str | bytes) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bad, context="t.c", row="r1")


def test_unknown_key_id_raises() -> None:
    token = crypto.encrypt("secret", context="t.c", row="r1")
    ring = Keyring(purpose="encryption", keys={"other": keys.KEY_BYTES * b"\x01"}, active="other")
    with override_settings(FIELD_ENCRYPTION_KEYRING=ring):
        keys.reset_cache()
        try:
            with pytest.raises(crypto.DecryptionError, match="Unknown encryption key id 'test1'"):
                crypto.decrypt(token, context="t.c", row="r1")
        finally:
            keys.reset_cache()
    keys.reset_cache()


def test_wrong_key_material_raises() -> None:
    token = crypto.encrypt("secret", context="t.c", row="r1")
    ring = Keyring(purpose="encryption", keys={"test1": keys.KEY_BYTES * b"\x02"}, active="test1")
    with override_settings(FIELD_ENCRYPTION_KEYRING=ring):
        keys.reset_cache()
        try:
            with pytest.raises(crypto.DecryptionError, match="failed authentication"):
                crypto.decrypt(token, context="t.c", row="r1")
        finally:
            keys.reset_cache()
    keys.reset_cache()


def test_inactive_key_still_decrypts() -> None:
    old = crypto.encrypt("written before rotation", context="t.c", row="r1", kid="test0")
    assert crypto.key_id_of(old) == "test0"
    assert crypto.decrypt(old, context="t.c", row="r1") == "written before rotation"
    assert crypto.key_id_of(crypto.encrypt("new", context="t.c", row="r1")) == "test1"


def test_keyring_validation() -> None:
    with pytest.raises(keys.KeyConfigurationError, match="32 bytes"):
        Keyring(purpose="encryption", keys={"k": b"short"}, active="k")
    with pytest.raises(keys.KeyConfigurationError, match="not among"):
        Keyring(purpose="encryption", keys={"k": 32 * b"a"}, active="missing")
    with pytest.raises(keys.KeyConfigurationError, match="invalid"):
        Keyring(purpose="encryption", keys={"bad id!": 32 * b"a"}, active="bad id!")


def test_load_keyrings_from_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {
        "FIELD_ENCRYPTION_KEYS": f"a:{new_key()},b:{new_key()}",
        "FIELD_ENCRYPTION_ACTIVE_KEY": "b",
        "BLIND_INDEX_KEYS": f"x:{new_key()}",
    }
    enc, bidx = keys.load_keyrings(env=env, debug=False, dev_key_file=tmp_path / "k.json")
    assert enc.active == "b" and sorted(enc.keys) == ["a", "b"]
    assert bidx.active == "x"
    assert not (tmp_path / "k.json").exists()


def test_missing_keys_in_production_refuse_to_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(keys.KeyConfigurationError, match="not configured"):
        keys.load_keyrings(env={}, debug=False, dev_key_file=tmp_path / "k.json")
    with pytest.raises(keys.KeyConfigurationError, match="both"):
        keys.load_keyrings(
            env={"FIELD_ENCRYPTION_KEYS": f"a:{new_key()}"}, debug=False, dev_key_file=tmp_path / "k.json"
        )


def test_same_key_for_both_purposes_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    k = new_key()
    with pytest.raises(keys.KeyConfigurationError, match="must differ"):
        keys.load_keyrings(
            env={"FIELD_ENCRYPTION_KEYS": f"a:{k}", "BLIND_INDEX_KEYS": f"b:{k}"},
            debug=False,
            dev_key_file=tmp_path / "k.json",
        )


def test_dev_key_file_generated_once_with_owner_only_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "var" / "dev-keys.json"
    first = keys.load_keyrings(env={}, debug=True, dev_key_file=path)
    second = keys.load_keyrings(env={}, debug=True, dev_key_file=path)
    assert first == second
    assert path.stat().st_mode & 0o777 == 0o600


def test_key_errors_never_contain_key_material(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = "c2VjcmV0LWtleS1tYXRlcmlhbA"  # valid base64, wrong length
    with pytest.raises(keys.KeyConfigurationError) as info:
        keys.load_keyrings(
            env={"FIELD_ENCRYPTION_KEYS": f"a:{secret}", "BLIND_INDEX_KEYS": f"b:{new_key()}"},
            debug=False,
            dev_key_file=tmp_path / "k.json",
        )
    assert secret not in str(info.value)


def test_ciphertext_bound_to_row(caplog) -> None:  # type: ignore[no-untyped-def]
    token = crypto.encrypt("tolerated", context="casemgmt_person.residence_status", row="row-a")
    assert crypto.decrypt(token, context="casemgmt_person.residence_status", row="row-a") == "tolerated"
    with pytest.raises(crypto.DecryptionError, match="row-b") as info:
        crypto.decrypt(token, context="casemgmt_person.residence_status", row="row-b")
    assert "tolerated" not in str(info.value)
    # Logged for the operator, without the value or the ciphertext.
    assert "row-b" in caplog.text and "tolerated" not in caplog.text
    assert token.hex() not in caplog.text and repr(token) not in caplog.text
    with pytest.raises(crypto.DecryptionError, match="no row"):
        crypto.decrypt(token, context="casemgmt_person.residence_status", row=None)


def test_encrypt_refuses_without_row() -> None:
    with pytest.raises(ValueError, match="primary key"):
        crypto.encrypt("x", context="t.c", row="")


def legacy_e1(plaintext: str, *, context: str, kid: str = "test1") -> str:
    """An e1 value as written before row binding (associated data without the row)."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    key = keys.encryption_keyring().keys[kid]
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), f"e1|{context}|{kid}".encode())
    return f"e1:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def test_legacy_e1_values_still_decrypt_and_stay_column_bound() -> None:
    old = legacy_e1("Amina", context="t.c")
    assert crypto.version_of(old) == "e1"
    assert crypto.decrypt(old, context="t.c", row="any") == "Amina"
    assert not crypto.is_current(old, kid="test1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old, context="t.other", row="any")


def test_a_reset_while_the_active_sealer_is_built_never_leaves_the_old_key_in_use(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The active key's sealer is cached per column: one built across a reset (another thread
    rotating the keyring meanwhile) may serve its own call, but later writes use the new key."""
    current = keys.encryption_keyring()
    rotated = Keyring(
        purpose="encryption", keys={**current.keys, "new9": keys.KEY_BYTES * b"\x09"}, active="new9"
    )
    rotation = override_settings(FIELD_ENCRYPTION_KEYRING=rotated)
    build = crypto._sealer
    rotations: list[int] = []

    def racing(context: str, kid: str):  # type: ignore[no-untyped-def]
        if not rotations:  # the rotation lands between reading the active key and caching
            rotations.append(1)
            rotation.enable()
            keys.reset_cache()
        return build(context, kid)

    keys.reset_cache()
    monkeypatch.setattr(crypto, "_sealer", racing)
    try:
        crypto.encrypt("x", context="race.c", row="r1")
        monkeypatch.setattr(crypto, "_sealer", build)
        later = [crypto.encrypt("x", context="race.c", row="r1") for _ in range(3)]
        assert all(crypto.key_id_of(value) == "new9" for value in later)
    finally:
        rotation.disable()
        keys.reset_cache()


def test_a_header_that_is_no_key_id_never_reaches_messages_or_logs(caplog) -> None:  # type: ignore[no-untyped-def]
    """A raw value in an encrypted column that happens to start like a ciphertext: its "key id"
    part may be personal data, so neither the error nor the log line shows it."""
    for stored in (
        "e2:Amina Haddad visa:" + "A" * 40,
        "e2:Amina Haddad visa:!!!",
        b"\x02\x11Amina Haddad visa" + b"\x00" * 40,
        b"\x01\x11Amina Haddad visa" + b"\x00" * 40,
    ):
        with pytest.raises(crypto.DecryptionError) as info:
            crypto.decrypt(stored, context="t.c", row="r1")
        assert "Amina" not in str(info.value)
    assert "Amina" not in caplog.text
    assert "not a key id" in str(info.value)


def as_text(stored: bytes) -> str:
    """A binary value as the earlier text form wrote it (``e2:<key id>:<base64url>``)."""
    version, kid = crypto.version_of(stored), crypto.key_id_of(stored)
    return f"{version}:{kid}:{base64.urlsafe_b64encode(stored[2 + len(kid) :]).decode()}"


def test_values_in_the_earlier_text_form_still_decrypt_with_the_same_binding() -> None:
    """The text form and the binary form carry the same nonce, ciphertext and associated data:
    a column not yet converted (or a migration reading one) decrypts, and the binding holds."""
    stored = crypto.encrypt("Amina", context="t.c", row="r1")
    old = as_text(stored)
    assert crypto.decrypt(old, context="t.c", row="r1") == "Amina"
    assert crypto.from_text(old) == stored
    assert crypto.key_id_of(old) == "test1" and crypto.version_of(old) == "e2"
    assert not crypto.is_current(old, kid="test1")  # rotation rewrites it in the binary form
    assert crypto.is_current(stored, kid="test1") and not crypto.is_current(stored, kid="test0")
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        crypto.decrypt(old, context="t.c", row="r2")
    legacy = legacy_e1("Amina", context="t.c")
    assert crypto.decrypt(crypto.from_text(legacy), context="t.c", row="any") == "Amina"
    assert crypto.version_of(crypto.from_text(legacy)) == "e1"


def test_the_envelope_decrypts_any_bytes_like_a_driver_returns() -> None:
    stored = crypto.encrypt("Amina", context="t.c", row="r1")
    for value in (stored, memoryview(stored), bytearray(stored)):
        assert crypto.decrypt(value, context="t.c", row="r1") == "Amina"
