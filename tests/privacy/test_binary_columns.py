"""Encrypted columns are binary; columns of the earlier text form convert without a key.

The attacker's view first: the conversion must not turn a value it does not recognise into
``NULL`` (silent data loss), must not need the keys (a migration never holds them), and a
converted value must stay bound to its row and column exactly as before.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from casemgmt.models import Family
from privacy.cipher import crypto, text_form
from tests.factories import make_family
from tests.privacy.test_crypto import as_text, legacy_e1

pytestmark = pytest.mark.django_db

TABLE = "scratch_text_ciphertexts"


def scratch_table(rows: list[tuple[str, str | None]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id varchar(8) PRIMARY KEY, c text NULL)")
        cursor.executemany(f"INSERT INTO {TABLE} (id, c) VALUES (%s, %s)", rows)


def stored_values() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, c FROM {TABLE}")
        return {key: bytes(v) if isinstance(v, memoryview) else v for key, v in cursor.fetchall()}


def convert(*, to_text: bool = False) -> None:
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        text_form._convert_postgresql(connection, quote, TABLE, ["c"], to_text=to_text)
    else:
        text_form._convert_in_python(connection, quote, TABLE, "id", ["c"], to_text=to_text)


def test_text_values_become_the_binary_form_without_a_key_and_keep_their_binding() -> None:
    context = "casemgmt_person.given_name"
    current = crypto.encrypt("Amina", context=context, row="row-a")
    long_value = crypto.encrypt("ß" * 700, context=context, row="row-b")  # PostgreSQL's base64 wraps lines
    scratch_table(
        [
            ("a", as_text(current)),
            ("b", as_text(long_value)),
            ("c", legacy_e1("Omar", context=context)),
            ("empty", ""),
            ("null", None),
        ]
    )
    convert()
    values = stored_values()
    assert values["a"] == current and values["b"] == long_value  # the same bytes: nothing re-encrypted
    assert crypto.decrypt(values["a"], context=context, row="row-a") == "Amina"  # type: ignore[arg-type]
    assert crypto.decrypt(values["c"], context=context, row="any") == "Omar"  # type: ignore[arg-type]
    assert crypto.version_of(values["c"]) == "e1"  # type: ignore[arg-type]
    assert values["empty"] in (b"", "") and values["null"] is None
    with pytest.raises(crypto.DecryptionError):  # still bound to its row
        crypto.decrypt(values["a"], context=context, row="row-b")  # type: ignore[arg-type]
    convert()  # again: nothing left in the text form, nothing changes
    assert stored_values() == values
    convert(to_text=True)  # the migration backwards gives back the text form, value for value
    back = stored_values()
    assert back["a"] == as_text(current) and back["b"] == as_text(long_value)
    assert back["empty"] == "" and back["null"] is None
    assert crypto.decrypt(back["c"], context=context, row="any") == "Omar"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [b"\x02", b"\x07\x05test1" + b"\x00" * 30, b"\x02\x40test1", b"\x02\x04t\xfft1" + b"\x00" * 30]
)
def test_a_value_not_in_the_binary_form_stops_the_conversion_back(bad: bytes) -> None:
    scratch_table([("good", as_text(crypto.encrypt("Amina", context="t.c", row="r")))])
    convert()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (id, c) VALUES ('bad', %s)", [bad])
    before = stored_values()
    with pytest.raises(ValueError, match="binary form"):
        convert(to_text=True)
    assert stored_values() == before


@pytest.mark.parametrize(
    "bad",
    ["Amina Haddad", "e2:test1:not base64!", "e3:test1:AAAA", "e2:Amina Haddad:AAAA", "e2:test1:AAA"],
)
def test_a_value_not_in_the_text_form_stops_the_conversion_and_is_never_shown(bad: str) -> None:
    good = as_text(crypto.encrypt("Amina", context="t.c", row="r"))
    scratch_table([("good", good), ("bad", bad)])
    with pytest.raises(ValueError, match="not") as info:
        convert()
    assert "Amina" not in str(info.value) and bad not in str(info.value)
    assert stored_values() == {"good": good, "bad": bad}  # nothing converted, nothing lost


def test_the_migration_leaves_binary_columns_alone(case_manager) -> None:  # type: ignore[no-untyped-def]
    """A database created after the change has binary columns from the start; the migration's
    function finds nothing to convert there, and values keep decrypting."""
    family = make_family(case_manager, family_name="Haddad", notes="vertraulich")
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    text_form.convert_columns("casemgmt")(apps, editor)
    text_form.convert_columns("privacy")(apps, editor)
    fresh = Family.objects.get(pk=family.pk)
    assert (fresh.family_name, fresh.notes) == ("Haddad", "vertraulich")


def test_encrypted_columns_are_binary_in_the_database(case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager, notes="vertraulich")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND (table_name, column_name)"
                " IN (('casemgmt_family', 'notes'), ('casemgmt_person', 'given_name'))"
            )
            assert [row[0] for row in cursor.fetchall()] == ["bytea"]
        else:  # SQLite: what counts is the values' storage class
            cursor.execute("SELECT DISTINCT typeof(notes) FROM casemgmt_family WHERE length(notes) > 0")
            assert [row[0] for row in cursor.fetchall()] == ["blob"]


def test_the_text_form_written_as_bytes_by_an_older_version_still_reads_and_rotates(case_manager) -> None:  # type: ignore[no-untyped-def]
    """A version from before the binary form, still running while the columns are converted,
    writes its text form into the binary column as ASCII bytes: it decrypts, keeps its
    binding, and rotation rewrites it in the binary form."""
    from privacy import rotation

    family = make_family(case_manager, notes="vertraulich")
    stored = crypto.encrypt("alte Notiz", context="casemgmt_family.notes", row=str(family.pk))
    old_write = as_text(stored).encode("ascii")
    pk = family.pk.hex if connection.vendor == "sqlite" else family.pk
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casemgmt_family SET notes = %s WHERE id = %s", [old_write, pk])
    assert Family.objects.get(pk=family.pk).notes == "alte Notiz"
    assert crypto.key_id_of(old_write) == "test1" and not crypto.is_current(old_write, kid="test1")
    with pytest.raises(crypto.DecryptionError):  # still bound to its row
        crypto.decrypt(old_write, context="casemgmt_family.notes", row="another-row")
    assert rotation.check_keys().ok
    assert rotation.rotate().rows_rotated >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM casemgmt_family WHERE id = %s", [pk])
        assert bytes(cursor.fetchone()[0])[:1] == b"\x02"
    assert Family.objects.get(pk=family.pk).notes == "alte Notiz"


def test_the_readiness_check_skips_empty_values(case_manager) -> None:  # type: ignore[no-untyped-def]
    """An empty string is stored empty (a zero-length blob on SQLite, where it never equals
    ``''``): the key check must pass over it, not try to decrypt it."""
    from casemgmt import health

    make_family(case_manager, notes="", address="")
    health._keys_ok_until = 0
    assert health.keys_read_stored_data()
