"""The audit trail: writes and reads recorded, encrypted fields masked (integrity: test_transparency.py)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.models import Family, Person, Role, User
from privacy.audit import audited, log_bulk
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

SECRET_NAME = "Geheimnachname"
SECRET_NOTE = "Diagnose: Tuberkulose beim Sohn"


def audit_table_dump() -> str:
    """Every column of every audit row, as text: what a database reader would see."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM privacy_auditentry")
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


def raw_value(table: str, column: str, pk: object) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s", [pk.hex if connection.vendor == "sqlite" else pk]
        )  # type: ignore[attr-defined]
        return str(cursor.fetchone()[0])


def test_write_audit_masks_encrypted_fields(api, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/families/",
        {"family_name": SECRET_NAME, "notes": SECRET_NOTE},
        format="json",
        REMOTE_ADDR="192.0.2.10",
    )
    family = Family.objects.get(pk=response.json()["id"])
    api.patch(
        f"/api/v1/families/{family.pk}/",
        {"notes": SECRET_NOTE + " (Update)", "status": "active"},
        format="json",
    )
    entries = AuditEntry.objects.filter(object_pk=str(family.pk), content_type__model="family").order_by(
        "seq"
    )
    create, update = (
        entries.filter(action=AuditEntry.Action.CREATE).get(),
        entries.filter(action=AuditEntry.Action.UPDATE).get(),
    )
    assert create.actor == case_manager and create.remote_addr == "192.0.2.10"
    assert create.activity == "case_management" and create.organisation_id == district.pk
    assert create.object_repr == family.reference  # no personal data in the representation
    changes = update.changes if isinstance(update.changes, dict) else __import__("json").loads(update.changes)
    assert changes["notes"] == ["[encrypted]", "[encrypted]"]  # recorded as changed, value masked
    assert changes["status"] == ["intake", "active"]
    dump = audit_table_dump()
    ciphertext = raw_value("casemgmt_family", "notes", family.pk)
    for secret in (SECRET_NAME, SECRET_NOTE, "Tuberkulose", ciphertext, ciphertext[10:40]):
        assert secret not in dump


def test_person_create_and_delete_masked(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    person = make_person(family, case_manager, given_name="Zuleikha", family_name=SECRET_NAME)
    pk = person.pk
    with audited(actor=case_manager, activity="case_management"):
        person.delete()  # deletes log every field: still masked
    entry = AuditEntry.objects.get(object_pk=str(pk), action=AuditEntry.Action.DELETE)
    assert entry.activity == "case_management"
    dump = audit_table_dump()
    assert "Zuleikha" not in dump and SECRET_NAME not in dump
    assert not Person.objects.filter(pk=pk).exists()


def test_read_audit_one_entry_per_request(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    families = [make_family(case_manager, family_name=f"Name{i}") for i in range(3)]
    before = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).count()
    api.get("/api/v1/families/", {"name": SECRET_NAME})
    api.get("/api/v1/families/")
    api.get(f"/api/v1/families/{families[0].pk}/")
    reads = list(AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).order_by("id")[before:])
    assert len(reads) == 3
    search, listing, detail = reads
    assert search.object_ids == [] and search.additional_data["filters"] == ["name"]
    assert sorted(listing.object_ids) == sorted(str(f.pk) for f in families)
    assert detail.object_ids == [str(families[0].pk)] and detail.object_pk == str(families[0].pk)
    assert all(r.actor == case_manager and r.activity == "case_management" for r in reads)
    assert SECRET_NAME not in audit_table_dump()  # search terms are not logged


@pytest.mark.parametrize("url", ["/api/v1/families/", "/api/v1/dashboard/", "detail"])
def test_a_head_request_is_logged_like_its_get(api, case_manager, url) -> None:  # type: ignore[no-untyped-def]
    """HEAD runs the same read, and its Content-Length tells the size of the body it withholds."""
    family = make_family(case_manager, opened_on=datetime.date(2020, 1, 1))  # dormant: a dashboard item
    url = f"/api/v1/families/{family.pk}/" if url == "detail" else url
    before = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).count()
    response = api.head(url)
    assert response.status_code == 200 and not response.content
    reads = list(AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).order_by("id")[before:])
    assert len(reads) == 1
    assert reads[0].object_ids == [str(family.pk)] and reads[0].actor == case_manager
    assert reads[0].additional_data["endpoint"].startswith("HEAD /")


def test_failed_reads_are_not_logged_as_reads(api, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    foreign = make_family(other_case_manager)
    assert api.get(f"/api/v1/families/{foreign.pk}/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS, object_pk=str(foreign.pk)).exists()


def test_forwarded_for_not_trusted_without_proxy(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    api.get("/api/v1/families/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert AuditEntry.objects.latest("id").remote_addr == "198.51.100.7"


def test_forwarded_for_trusted_behind_configured_proxy(api, case_manager, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api.get("/api/v1/families/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.99")
    assert AuditEntry.objects.latest("id").remote_addr == "203.0.113.99"


def test_grants_and_transfers_are_audited(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.access import family_assign

    family = make_family(case_manager)
    other = make_user(district, Role.CASE_MANAGER)
    supervisor = make_user(district, Role.SUPERVISOR)
    family_assign(family=family, case_manager=other, acting_user=supervisor)
    grants = AuditEntry.objects.filter(content_type__model="familygroupobjectpermission")
    assert grants.filter(action=AuditEntry.Action.CREATE).count() == 4  # two grants each for both caseloads
    assert grants.filter(action=AuditEntry.Action.DELETE).count() == 2


def test_bulk_writes_get_one_entry(case_manager) -> None:  # type: ignore[no-untyped-def]
    families = [make_family(case_manager, family_name=f"B{i}") for i in range(3)]
    Family.objects.filter(pk__in=[f.pk for f in families]).update(status="paused")
    entry = log_bulk(
        model=Family,
        action=AuditEntry.Action.UPDATE,
        object_ids=[f.pk for f in families],
        actor=case_manager,
        activity="case_management",
        note="status paused",
    )
    assert len(entry.object_ids) == 3 and entry.activity == "case_management"


def test_no_api_write_to_the_audit_trail(district) -> None:  # type: ignore[no-untyped-def]
    dpo = make_user(district, Role.DPO)
    client = client_for(dpo)
    entry = log_bulk(
        model=Family, action=AuditEntry.Action.UPDATE, object_ids=[], activity="case_management", note="x"
    )
    assert client.post("/api/v1/audit/events/", {}, format="json").status_code == 405
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/v1/audit/events/{entry.pk}/").status_code == 405
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.fixture
def admin_user(db):  # type: ignore[no-untyped-def]
    """pytest-django's superuser, created by a named process like every audited write."""
    with setup_writes():
        return User.objects.create_superuser("root", "root@example.org", "a long root passphrase")


def test_admin_shows_audit_read_only(admin_user, client) -> None:  # type: ignore[no-untyped-def]
    entry = log_bulk(
        model=Family, action=AuditEntry.Action.UPDATE, object_ids=[], activity="case_management", note="x"
    )
    client.force_login(admin_user)
    assert client.get("/admin/privacy/auditentry/").status_code == 200
    assert client.get("/admin/privacy/auditentry/add/").status_code == 403
    assert client.post(f"/admin/privacy/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"/admin/privacy/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_timestamps_are_aware(case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    assert timezone.is_aware(AuditEntry.objects.latest("id").timestamp)


def test_reads_name_the_organisation(api, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    make_person(family, case_manager)
    api.get(f"/api/v1/families/{family.pk}/")
    api.get("/api/v1/persons/")  # persons do not carry the organisation: the reader's is recorded
    detail, listing = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).order_by("id")
    assert detail.organisation_id == district.pk and listing.organisation_id == district.pk


@pytest.mark.parametrize("authenticated_by", ["token", "session"])
def test_a_read_of_objects_without_an_organisation_names_the_readers_first(
    case_manager, district, other_district, authenticated_by
) -> None:  # type: ignore[no-untyped-def]
    """The reader's first organisation (by when they joined it): from the memberships the token
    statement read, or, without a token, looked up inside the INSERT; both say the same."""
    from casemgmt.models import Membership

    make_person(make_family(case_manager), case_manager)
    with setup_writes():  # stored second, but joined first: the order is by date, not by row
        Membership.objects.create(user=case_manager, organisation=other_district, role=Role.DPO)
        Membership.objects.filter(user=case_manager, organisation=district).update(
            created_at=timezone.now() + datetime.timedelta(days=1)
        )
    if authenticated_by == "token":
        client = client_for(case_manager)
    else:
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(case_manager)
    assert client.get("/api/v1/persons/").status_code == 200
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).latest("id")
    assert entry.organisation_id == other_district.pk


def test_a_read_writes_one_insert_and_locks_nothing(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    family = make_family(case_manager)
    with CaptureQueriesContext(connection) as captured:
        assert api.get(f"/api/v1/families/{family.pk}/").status_code == 200
    audit = [q["sql"] for q in captured if "privacy_audit" in q["sql"]]
    assert len(audit) == 1 and audit[0].startswith("INSERT")
    assert not any("FOR UPDATE" in q["sql"] or "FOR NO KEY UPDATE" in q["sql"] for q in captured)
    assert AuditEntry.objects.latest("id").seq is None  # ordered later, by the sealer
