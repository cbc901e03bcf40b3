"""An installation from before migration 0008 (clear free texts) upgrades to binary ciphertexts.

Since the binary form (0023), migration 0008's encrypted fields mean ``bytea``; the clear text
it seals must arrive exactly, backslashes and umlauts included, on PostgreSQL and SQLite.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.models import Consent
from casemgmt.services.consents import consent_create
from privacy.cipher import crypto
from tests.casemgmt.conftest import migrate
from tests.factories import make_family, make_person

BEFORE = [("casemgmt", "0007_issue14_record_keys")]
CLEAR = "Jobcenter Müller\\Süd \\x41 'Team'"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_clear_text_sealed_by_0008_arrives_exactly(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    mother = make_person(family, case_manager, given_name="Amina")
    consent = consent_create(
        family=family, person=mother, recipient="jobcenter", purpose="p", recipient_name="sealed later",
        given_on=timezone.localdate() - datetime.timedelta(days=1), acting_user=case_manager,
    )  # fmt: skip
    migrate(BEFORE)  # as before 0008: the recipient's name in clear
    pk = consent.pk.hex if connection.vendor == "sqlite" else consent.pk
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casemgmt_consent SET recipient_name = %s WHERE id = %s", [CLEAR, pk])
    migrate(None)
    assert Consent.objects.get(pk=consent.pk).recipient_name == CLEAR
    with connection.cursor() as cursor:
        cursor.execute("SELECT recipient_name FROM casemgmt_consent WHERE id = %s", [pk])
        stored = bytes(cursor.fetchone()[0])
    assert crypto.version_of(stored) == "e2" and stored[:1] == b"\x02" and b"M\xc3\xbcller" not in stored
