"""Encrypted model fields: plaintext never reaches the database, lookups refuse, errors are loud."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import FieldError
from django.core.serializers import serialize
from django.db import connection

from casemgmt.models import Family, Person, PersonSearchTerm
from privacy.cipher import crypto
from tests.factories import make_family, make_person

ENCRYPTED_PERSON_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "residence_status",
    "country_of_origin",
)


def raw_row(table: str, pk: object, columns: tuple[str, ...]) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s",
            [pk.hex if connection.vendor == "sqlite" else pk],
        )  # type: ignore[union-attr]
        row = cursor.fetchone()
    return dict(zip(columns, row, strict=True))


def test_person_round_trip_and_raw_row_holds_no_plaintext(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(
        case_manager,
        family_name="Öztürk",
        address="Lindenweg 7, 12345 Musterdorf",
        phone="+49 151 1234567",
        notes="Sohn hat Asthma; Termin beim Kinderarzt.",
    )
    person = make_person(
        family,
        case_manager,
        given_name="Hüseyin",
        family_name="Öztürk",
        date_of_birth=datetime.date(1979, 3, 2),
        residence_status="tolerated",
        country_of_origin="TR",
    )
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.given_name, fresh.family_name) == ("Hüseyin", "Öztürk")
    assert fresh.date_of_birth == datetime.date(1979, 3, 2)
    assert (fresh.residence_status, fresh.country_of_origin) == ("tolerated", "TR")
    assert fresh.birth_year == 1979

    row = raw_row("casemgmt_person", person.pk, ENCRYPTED_PERSON_COLUMNS)
    for column, value in row.items():
        assert isinstance(value, bytes | memoryview), column
        assert (crypto.version_of(bytes(value)), crypto.key_id_of(bytes(value))) == ("e2", "test1"), column
    dump = b" ".join(bytes(v) for v in row.values())
    # Values of five or more bytes cannot turn up in ciphertext by chance; the short
    # country code is checked by decrypting the column (it is not stored as is).
    for secret in ("Hüseyin", "Öztürk", "1979-03-02", "tolerated"):
        assert secret.encode() not in dump
    assert row["country_of_origin"] != "TR"

    frow = raw_row("casemgmt_family", family.pk, ("family_name", "address", "phone", "notes"))
    fdump = " ".join(str(v) for v in frow.values())
    for secret in ("Öztürk", "Lindenweg", "1234567", "Asthma"):
        assert secret not in fdump


def test_blind_index_columns_hold_no_plaintext(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Haddad")
    person = make_person(family, case_manager, given_name="Amina", family_name="Haddad")
    terms = list(PersonSearchTerm.objects.filter(person=person).values_list("kind", "value"))
    assert {kind for kind, _ in terms} == {"name", "phonetic", "dob"}
    for _kind, value in terms:
        assert isinstance(value, str) and value.startswith("btest1:")
        assert "amina" not in value.lower() and "haddad" not in value.lower()
    # Equal names in different indexes give different index values (per-index contexts).
    frow = raw_row("casemgmt_family", family.pk, ("family_name_index",))
    assert frow["family_name_index"] not in {value for _kind, value in terms}


def test_ciphertext_moved_to_another_column_fails(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    person = make_person(family, case_manager, given_name="Amina", family_name="Haddad")
    given = raw_row("casemgmt_person", person.pk, ("given_name",))["given_name"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casemgmt_person SET family_name = %s WHERE id = %s",
            [given, person.pk.hex if connection.vendor == "sqlite" else person.pk],
        )
    with pytest.raises(crypto.DecryptionError, match=r"casemgmt_person\.family_name"):
        _ = Person.objects.get(pk=person.pk).family_name


def test_tampered_row_raises_on_read(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, notes="vertraulich")
    stored = raw_row("casemgmt_family", family.pk, ("notes",))["notes"]
    assert isinstance(stored, bytes | memoryview)
    flipped = bytes(stored)[:-3] + bytes([bytes(stored)[-3] ^ 0x01]) + bytes(stored)[-2:]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casemgmt_family SET notes = %s WHERE id = %s",
            [flipped, family.pk.hex if connection.vendor == "sqlite" else family.pk],
        )
    with pytest.raises(crypto.DecryptionError) as info:
        _ = Family.objects.get(pk=family.pk).notes
    assert "vertraulich" not in str(info.value)


@pytest.mark.parametrize(
    "lookup", ["family_name", "family_name__icontains", "family_name__startswith", "family_name__in"]
)
def test_value_lookups_on_encrypted_fields_raise(db, lookup: str) -> None:  # type: ignore[no-untyped-def]
    value: object = ["x"] if lookup.endswith("__in") else "x"
    with pytest.raises(FieldError, match="blind index"):
        list(Person.objects.filter(**{lookup: value}))


def test_isnull_lookup_allowed(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    make_person(family, case_manager, date_of_birth=None)
    assert Person.objects.filter(date_of_birth__isnull=True).count() == 1
    assert Person.objects.filter(date_of_birth=None).count() == 1


def test_fixtures_never_hold_plaintext(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Kovalenko")
    with pytest.raises(FieldError, match="not serialisable"):
        serialize("json", Family.objects.filter(pk=family.pk))


def test_update_fields_keeps_blind_index_in_step(case_manager) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.persons import person_update

    family = make_family(case_manager)
    person = make_person(family, case_manager, family_name="Haddad")
    before = set(PersonSearchTerm.objects.filter(person=person).values_list("value", flat=True))
    person_update(
        person=person, acting_user=case_manager, family_name="Müller", date_of_birth=datetime.date(2001, 1, 1)
    )
    after = set(PersonSearchTerm.objects.filter(person=person).values_list("value", flat=True))
    assert after != before and len(after) == len(before)
    assert Person.objects.get(pk=person.pk).birth_year == 2001
