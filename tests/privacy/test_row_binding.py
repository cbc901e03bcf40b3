"""What a stolen and edited database gets: moved ciphertexts fail, no personal free text in clear."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connection, models, transaction
from django.test.utils import isolate_apps
from django.utils import timezone

from casemgmt.models import Consent, Person
from privacy.cipher import crypto
from privacy.cipher.fields import EncryptedFieldMixin
from privacy.classification import REVIEWED_CLEAR_TEXT, clear_free_text_fields
from tests.factories import make_family, make_person


def db_pk(pk: object) -> object:
    return pk.hex if connection.vendor == "sqlite" else pk  # type: ignore[attr-defined]


@pytest.mark.parametrize("column", ["given_name", "residence_status", "date_of_birth"])
def test_ciphertext_swapped_between_rows_fails(case_manager, column: str, caplog) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    a = make_person(family, case_manager, given_name="Amina", residence_status="tolerated")
    b = make_person(family, case_manager, given_name="Bilal", residence_status="german_citizen")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE casemgmt_person SET {column} = (SELECT {column} FROM casemgmt_person WHERE id = %s) "
            "WHERE id = %s",
            [db_pk(b.pk), db_pk(a.pk)],
        )
    moved = Person.objects.get(pk=a.pk)
    with pytest.raises(crypto.DecryptionError, match=rf"casemgmt_person\.{column} \(row {a.pk}\)") as info:
        getattr(moved, column)
    for secret in ("Bilal", "german_citizen"):
        assert secret not in str(info.value) and secret not in caplog.text
    assert str(a.pk) in caplog.text  # the operator learns where, not what
    assert Person.objects.get(pk=b.pk).given_name == "Bilal"  # the source row is intact


def test_every_model_with_encrypted_fields_knows_its_pk_before_saving() -> None:
    """Row binding needs the primary key in pre_save: a UUID default, never a database sequence."""
    for model in apps.get_models():
        if any(isinstance(f, EncryptedFieldMixin) for f in model._meta.concrete_fields):
            pk = model._meta.pk
            assert pk is not None and pk.has_default() and not isinstance(pk, models.AutoField), model


def test_bulk_create_binds_and_unbound_writes_refuse(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    [person] = Person.objects.bulk_create(
        [
            Person(
                family=family, role="child", given_name="Rami", family_name="Haddad", created_by=case_manager
            )
        ]
    )
    assert Person.objects.get(pk=person.pk).given_name == "Rami"
    with pytest.raises(FieldError, match="bound to their row"), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(given_name="Other")
    person.given_name = "Other"
    with pytest.raises(FieldError, match="bound to their row"), transaction.atomic():
        Person.objects.bulk_update([person], ["given_name"])
    field = Person._meta.get_field("given_name")
    Person.objects.filter(pk=person.pk).update(given_name=field.seal("Sealed", pk=person.pk))  # type: ignore[union-attr]
    assert Person.objects.get(pk=person.pk).given_name == "Sealed"
    assert (
        Person.objects.values_list("given_name", flat=True).get(pk=person.pk) != "Sealed"
    )  # never plaintext


MODELS = [*apps.get_app_config("casemgmt").get_models(), *apps.get_app_config("privacy").get_models()]
TECHNICAL = ("privacy.AuditEntry", "privacy.AuditChainHead")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_free_text_is_encrypted_or_a_reviewed_exception(model) -> None:  # type: ignore[no-untyped-def]
    if model._meta.label in TECHNICAL:
        return
    assert [f for f in clear_free_text_fields(model) if f not in REVIEWED_CLEAR_TEXT] == []


def test_participant_and_consent_free_texts_are_encrypted() -> None:
    from casemgmt.models import ConferenceParticipant

    for model, names in (
        (ConferenceParticipant, ("role", "reason", "legal_basis", "name")),
        (Consent, ("recipient_name",)),
    ):
        for name in names:
            assert isinstance(model._meta.get_field(name), EncryptedFieldMixin), name


@isolate_apps("casemgmt")
def test_the_check_fails_for_a_new_clear_free_text_field() -> None:
    class Note(models.Model):
        id = models.UUIDField(primary_key=True)
        remark = models.CharField(max_length=200)  # typed by a case manager, declared nowhere
        kind = models.CharField(max_length=5, choices=[("a", "A")])

        NOT_PERSONAL = ("id", "remark", "kind")  # declaring it "not personal" does not help

        class Meta:
            app_label = "casemgmt"

        def __str__(self) -> str:
            return "note"

    assert clear_free_text_fields(Note) == ["casemgmt.Note.remark"]


MARKER = "Kindeswohl: child at risk"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="greps the SQLite database file")
def test_erasure_leaves_no_clear_copy_anywhere_in_the_database(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.conferences import conference_create
    from casemgmt.services.consents import consent_create
    from casemgmt.services.families import family_close
    from privacy import erasure

    family = make_family(case_manager, family_name="Kovalenko")
    person = make_person(family, case_manager, given_name="Olena", family_name="Kovalenko")
    consent = consent_create(
        family=family,
        person=person,
        recipient="youth_office",
        recipient_name="Jugendamt Musterland, Frau Kinderschutz-Beispiel",
        purpose="Fallkonferenz",
        given_on=timezone.localdate() - datetime.timedelta(days=3),
        acting_user=case_manager,
    )
    conference_create(
        family=family,
        scheduled_at=timezone.now() + datetime.timedelta(days=2),
        acting_user=case_manager,
        participants=[
            {
                "kind": "external",
                "agency": "youth_office",
                "name": "Frau Beispiel",
                "role": "Kinderschutzfachkraft Jugendamt",
                "reason": MARKER,
                "legal_basis": "§ 8a SGB VIII Gefährdungseinschätzung",
            }
        ],
    )
    assert consent.recipient_name.startswith("Jugendamt")

    def database_bytes() -> bytes:
        connection.ensure_connection()
        return bytes(connection.connection.serialize())  # the whole SQLite file, free pages included

    secrets = (MARKER, "child at risk", "Kinderschutz", "Gefährdungseinschätzung", "Olena")
    dump = database_bytes()
    assert family.reference.encode() in dump  # the grep sees clear columns: it can fail
    for secret in secrets:
        assert secret.encode() not in dump, secret  # neither in the tables nor in the audit log
    family = family_close(
        family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=case_manager
    )
    plan = erasure.plan_family(family)
    assert plan.refusal is None, plan.refusal
    erasure.execute(plan)
    dump = database_bytes()
    for secret in secrets:
        assert secret.encode() not in dump, secret
