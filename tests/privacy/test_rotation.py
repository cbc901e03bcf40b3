"""Key rotation: resumable, complete, refuses with a missing key, old keys removable only when unused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from casemgmt.models import Family, Person
from privacy import rotation
from privacy.cipher import crypto, keys
from privacy.cipher.keys import Keyring
from tests.conftest import client_for
from tests.factories import make_family, make_person

NEW_ENC = b"\x11" * 32
NEW_BIDX = b"\x22" * 32


@contextmanager
def keyrings(enc: Keyring, bidx: Keyring) -> Iterator[None]:
    with override_settings(FIELD_ENCRYPTION_KEYRING=enc, BLIND_INDEX_KEYRING=bidx):
        keys.reset_cache()
        try:
            yield
        finally:
            keys.reset_cache()
    keys.reset_cache()


def rotated_rings() -> tuple[Keyring, Keyring]:
    old_enc, old_bidx = settings.FIELD_ENCRYPTION_KEYRING, settings.BLIND_INDEX_KEYRING
    enc = Keyring(purpose="encryption", keys={**old_enc.keys, "k2027": NEW_ENC}, active="k2027")
    bidx = Keyring(purpose="blind index", keys={**old_bidx.keys, "b2027": NEW_BIDX}, active="b2027")
    return enc, bidx


def raw_values(table: str, column: str) -> list[Any]:
    """Stored values as the driver returns them: bytes for ciphertexts, text for blind indexes."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
        return [bytes(r[0]) if isinstance(r[0], memoryview) else r[0] for r in cursor.fetchall()]


@pytest.fixture
def data(case_manager):  # type: ignore[no-untyped-def]
    families = [make_family(case_manager, family_name=f"Müller{i}", notes="vertraulich") for i in range(7)]
    for family in families:
        make_person(family, case_manager, given_name="Hüseyin", family_name="Öztürk")
    return families


def test_rotate_all_values_and_indexes(case_manager, data, capsys) -> None:  # type: ignore[no-untyped-def]
    enc, bidx = rotated_rings()
    with keyrings(enc, bidx):
        # during rotation search finds values indexed under either key
        assert (
            client_for(case_manager).get("/api/v1/persons/", {"name": "Hüseyin Öztürk"}).json()["count"] == 7
        )
        call_command("rotate_keys", "--batch-size", "3")
        out = capsys.readouterr().out
        assert "rows rotated" in out
        assert all(crypto.key_id_of(v) == "k2027" for v in raw_values("casemgmt_person", "given_name"))
        assert all(crypto.key_id_of(v) == "k2027" for v in raw_values("casemgmt_family", "notes"))
        assert all(v.startswith("b2027:") for v in raw_values("casemgmt_personsearchterm", "value"))
        assert all(v.startswith("b2027:") for v in raw_values("casemgmt_family", "family_name_index"))
        assert Person.objects.first().given_name == "Hüseyin"
        assert (
            client_for(case_manager).get("/api/v1/persons/", {"name": "HUESEYIN OEZTUERK"}).json()["count"]
            == 7
        )
        call_command("check_keys", "--retired", "test1", "--retired", "btest1")
        # a second run has nothing left to do
        assert rotation.rotate().rows_rotated == 0


def test_rotation_resumes_after_interruption(case_manager, data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    enc, bidx = rotated_rings()
    with keyrings(enc, bidx):
        real_update = rotation.transaction.atomic
        calls = {"n": 0}

        def interrupted_atomic(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real_update(*args, **kwargs)

        monkeypatch.setattr(rotation.transaction, "atomic", interrupted_atomic)
        with pytest.raises(KeyboardInterrupt):
            rotation.rotate(batch=2)
        monkeypatch.setattr(rotation.transaction, "atomic", real_update)
        partly = raw_values("casemgmt_family", "family_name")
        assert any(crypto.key_id_of(v) == "k2027" for v in partly) and any(
            crypto.key_id_of(v) == "test1" for v in partly
        )
        result = rotation.rotate(batch=2)
        assert result.rows_rotated > 0
        assert all(crypto.key_id_of(v) == "k2027" for v in raw_values("casemgmt_family", "family_name"))
        assert rotation.check_keys().ok


def test_old_key_cannot_be_retired_while_used(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="still protect"):
        call_command("check_keys", "--retired", "test1")


def test_rotation_with_missing_key_writes_nothing(case_manager, data) -> None:  # type: ignore[no-untyped-def]
    before = raw_values("casemgmt_family", "family_name")
    enc = Keyring(purpose="encryption", keys={"k2027": NEW_ENC}, active="k2027")  # test1 forgotten
    with keyrings(enc, settings.BLIND_INDEX_KEYRING):
        with pytest.raises(CommandError, match="do not decrypt"):
            call_command("rotate_keys")
        with pytest.raises(CommandError, match="do not decrypt"):
            call_command("check_keys")
    assert raw_values("casemgmt_family", "family_name") == before


def test_check_keys_reports_tampered_value(case_manager, data, capsys) -> None:  # type: ignore[no-untyped-def]
    family = Family.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casemgmt_family SET notes = %s WHERE id = %s",
            [
                "e1:test1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                family.pk.hex if connection.vendor == "sqlite" else family.pk,
            ],
        )
    with pytest.raises(CommandError):
        call_command("check_keys")
    assert "casemgmt_family.notes" in capsys.readouterr().err


def test_wrong_key_material_refuses_to_start(case_manager, data) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ImproperlyConfigured

    from privacy.startup import verify_keys_against_data

    assert verify_keys_against_data() > 0  # the right keys read the data
    wrong = Keyring(purpose="encryption", keys={"test1": b"\x33" * 32, "test0": b"\x44" * 32}, active="test1")
    with keyrings(wrong, settings.BLIND_INDEX_KEYRING), pytest.raises(ImproperlyConfigured, match="Refusing"):
        verify_keys_against_data()


def test_rotation_rewrites_legacy_e1_values_to_row_bound_e2(case_manager, data) -> None:  # type: ignore[no-untyped-def]
    """Values written before row binding decrypt, and rotate_keys rewrites them as e2 (same key)."""
    from tests.privacy.test_crypto import legacy_e1

    family = data[0]
    pk = family.pk.hex if connection.vendor == "sqlite" else family.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casemgmt_family SET notes = %s WHERE id = %s",
            # an e1 value as the column conversion leaves it: the binary form, version 1
            [crypto.from_text(legacy_e1("alte Notiz", context="casemgmt_family.notes")), pk],
        )
    assert Family.objects.get(pk=family.pk).notes == "alte Notiz"
    assert rotation.check_keys().values_by_version["e1"] == 1
    result = rotation.rotate(batch=2)
    assert result.per_model["casemgmt.Family"] == 1
    assert all(crypto.key_id_of(v) == "test1" for v in raw_values("casemgmt_family", "notes"))
    assert Family.objects.get(pk=family.pk).notes == "alte Notiz"
    assert rotation.check_keys().values_by_version["e1"] == 0
    assert rotation.rotate().rows_rotated == 0


@pytest.mark.parametrize("size", ["0", "10001"])
def test_rotation_refuses_a_batch_size_one_statement_could_not_carry(size: str) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="between 1 and 10000"):
        call_command("rotate_keys", "--batch-size", size)
