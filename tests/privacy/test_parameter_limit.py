"""Server-side binding on PostgreSQL: id lists built in Python stay under 65,535 parameters.

Each element of an ``__in`` list is one protocol parameter, and a statement takes at most
65,535 (client-side binding spliced them into the text). Retention, erasure and the breach
report build such lists from unbounded data.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.models import Consent, Person, Role, SetPasswordToken
from privacy import erasure
from privacy.audit import log_bulk
from privacy.breaches import affected
from privacy.models import AuditEntry, Breach
from privacy.retention import apply_retention
from tests.factories import make_family, make_person, make_user, setup_writes

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's protocol limit"),
]

OVER_THE_LIMIT = 2**16 + 100


def test_retention_deletes_more_rows_than_one_statement_takes_parameters(district) -> None:  # type: ignore[no-untyped-def]
    user = make_user(district, Role.CASE_MANAGER)
    long_ago = timezone.now() - datetime.timedelta(days=400)
    with setup_writes("account_management"):
        SetPasswordToken.objects.bulk_create(
            SetPasswordToken(user=user, organisation=district, digest=f"{i:064x}", expires_at=long_ago)
            for i in range(OVER_THE_LIMIT)
        )
    with setup_writes("data_subject_rights"):
        run = apply_retention(dry_run=False, rules=["set_password_tokens"])
    assert run.line(None, "set_password_tokens").applied == OVER_THE_LIMIT
    assert not SetPasswordToken.objects.exists()
    tombstone = AuditEntry.objects.filter(content_type__model="setpasswordtoken").get()
    assert len(tombstone.object_ids) == OVER_THE_LIMIT


def test_erasure_updates_any_number_of_rows() -> None:
    ids = [uuid.uuid4() for _ in range(OVER_THE_LIMIT)]
    erasure._update_bound(Consent, ids, {"anonymised_at": timezone.now()})  # no such rows: no error


def test_breach_report_reads_any_number_of_touched_ids(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Nowak")
    person = make_person(family, case_manager, given_name="Anna")
    start = timezone.now() - datetime.timedelta(minutes=1)
    with setup_writes("case_management"):
        log_bulk(
            model=Person,
            action=AuditEntry.Action.ACCESS,
            object_ids=[person.pk, *(uuid.uuid4() for _ in range(OVER_THE_LIMIT))],
            organisation_id=district.pk,
            note="a large export",
        )
    end = timezone.now() + datetime.timedelta(minutes=1)
    with setup_writes("audit_logging"):
        breach = Breach.objects.create(
            organisation=district,
            description="Fehlversand",
            occurred_from=start,
            occurred_to=end,
            discovered_at=end,
            recorded_at=end,
        )
    report = affected(breach)
    assert [p["id"] for p in report["persons"]] == [str(person.pk)]
