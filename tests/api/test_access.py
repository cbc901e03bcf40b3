"""Access rules in depth: grants, transfer, deputies, break the glass, supervisors, admins."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from knox.models import AuthToken

from casemgmt.models import (
    EmergencyAccess,
    Family,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
    Membership,
    Role,
)
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

FAMILIES = "/api/v1/families/"
PERSONS = "/api/v1/persons/"
REASON = "Meldung der Schule: Kind erscheint verletzt, zuständige Kollegin im Urlaub."


@pytest.fixture
def cm2(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.CASE_MANAGER, username="cm2")


@pytest.fixture
def supervisor(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.SUPERVISOR, username="sup")


def visible_ids(user) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["id"] for r in client_for(user).get(FAMILIES).json()["results"]}


def test_creator_is_granted_through_caseload_not_organisation(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    assert visible_ids(case_manager) == {str(family.pk)}
    assert visible_ids(cm2) == set()
    # direct foreign-key permission rows, not guardian's generic table
    assert FamilyGroupObjectPermission.objects.filter(content_object=family).count() == 2
    from guardian.models import GroupObjectPermission, UserObjectPermission

    assert GroupObjectPermission.objects.count() == 0 and UserObjectPermission.objects.count() == 0


def test_persons_follow_their_family(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    person = make_person(make_family(case_manager), case_manager)
    assert client_for(cm2).get(f"{PERSONS}{person.pk}/").status_code == 404
    assert client_for(case_manager).get(f"{PERSONS}{person.pk}/").status_code == 200


def test_direct_user_grant_also_counts(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    from guardian.shortcuts import assign_perm

    family = make_family(case_manager)
    with setup_writes():
        assign_perm("view_family", cm2, family)
    assert FamilyUserObjectPermission.objects.filter(user=cm2).count() == 1
    assert visible_ids(cm2) == {str(family.pk)}
    # view alone does not allow changes
    response = client_for(cm2).patch(f"{FAMILIES}{family.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == 404


def test_supervisor_transfers_family(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    make_person(family, case_manager)
    response = client_for(supervisor).post(
        f"{FAMILIES}{family.pk}/assign/", {"case_manager": str(cm2.pk)}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["case_manager"] == str(cm2.pk)
    assert "family_name" not in body and "notes" not in body
    assert visible_ids(case_manager) == set()
    assert visible_ids(cm2) == {str(family.pk)}
    assert client_for(cm2).get(PERSONS).json()["count"] == 1
    assert FamilyGroupObjectPermission.objects.filter(content_object=family).count() == 2


@pytest.mark.parametrize("case", ["other_org", "supervisor", "dpo", "inactive", "unknown", "closed", "extra"])
def test_assign_rejects(case: str, case_manager, cm2, supervisor, district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    target = {
        "other_org": other_case_manager,
        "supervisor": supervisor,
        "dpo": make_user(district, Role.DPO),
        "inactive": cm2,
        "closed": cm2,
        "extra": cm2,
    }.get(case)
    body = {"case_manager": str(target.pk) if target else "00000000-0000-0000-0000-000000000000"}
    if case == "inactive":
        cm2.is_active = False
        with setup_writes():
            cm2.save()
    if case == "closed":
        Family.objects.filter(pk=family.pk).update(status="closed", closed_on=timezone.localdate())
    if case == "extra":
        body["notes"] = "x"
    before = list(
        FamilyGroupObjectPermission.objects.values_list("group_id", "permission_id", "content_object_id")
    )
    response = client_for(supervisor).post(f"{FAMILIES}{family.pk}/assign/", body, format="json")
    if case == "closed":  # a state conflict, like every closed-case refusal
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "case_closed"
    else:
        assert response.status_code == 400, response.json()
        assert response.json()["errors"]
    family.refresh_from_db()
    assert family.case_manager == case_manager
    after = list(
        FamilyGroupObjectPermission.objects.values_list("group_id", "permission_id", "content_object_id")
    )
    assert before == after


def test_supervisor_overview_has_no_personal_data(case_manager, supervisor, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Geheim", notes="vertraulich")
    make_family(other_case_manager)
    response = client_for(supervisor).get("/api/v1/case-overview/")
    body = response.json()
    assert [r["id"] for r in body["results"]] == [str(family.pk)]
    assert set(body["results"][0]) == {
        "id",
        "reference",
        "organisation",
        "status",
        "case_manager",
        "opened_on",
        "closed_on",
        "updated_at",
    }
    assert "Geheim" not in response.content.decode() and "vertraulich" not in response.content.decode()
    unassigned = client_for(supervisor).get("/api/v1/case-overview/", {"unassigned": "true"}).json()
    assert unassigned["count"] == 0


def test_deputy_sees_caseload_until_removed(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    client = client_for(case_manager)
    response = client.post("/api/v1/deputies/", {"deputy": str(cm2.pk)}, format="json")
    assert response.status_code == 201, response.json()
    assert visible_ids(cm2) == {str(family.pk)}
    later = make_family(case_manager, family_name="Später")  # new families reach the deputy too
    assert visible_ids(cm2) == {str(family.pk), str(later.pk)}
    assert client.post("/api/v1/deputies/", {"deputy": str(cm2.pk)}, format="json").status_code == 400
    assert client.delete(f"/api/v1/deputies/{response.json()['id']}/").status_code == 204
    assert visible_ids(cm2) == set()
    assert visible_ids(case_manager) == {str(family.pk), str(later.pk)}


def test_supervisor_names_deputy_for_case_manager(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    response = client_for(supervisor).post(
        "/api/v1/deputies/", {"principal": str(case_manager.pk), "deputy": str(cm2.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert visible_ids(cm2) == {str(family.pk)}


def test_case_manager_cannot_name_deputies_for_others(case_manager, cm2, district) -> None:  # type: ignore[no-untyped-def]
    cm3 = make_user(district, Role.CASE_MANAGER)
    response = client_for(cm2).post(
        "/api/v1/deputies/", {"principal": str(case_manager.pk), "deputy": str(cm3.pk)}, format="json"
    )
    assert response.status_code == 403


def test_break_the_glass(case_manager, cm2, supervisor, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    client = client_for(cm2)
    assert client.get(f"{FAMILIES}{family.pk}/").status_code == 404
    response = client.post(
        "/api/v1/emergency-access/", {"reference": family.reference, "reason": REASON}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - timezone.now()) - datetime.timedelta(hours=24)) < datetime.timedelta(minutes=1)
    assert client.get(f"{FAMILIES}{family.pk}/").status_code == 200
    assert client.patch(f"{FAMILIES}{family.pk}/", {"notes": "Notfall"}, format="json").status_code == 200
    # listed for supervisor and DPO review, with the reason
    dpo = make_user(district, Role.DPO)
    for reviewer in (supervisor, dpo):
        listed = client_for(reviewer).get("/api/v1/emergency-access/", {"unreviewed": "true"}).json()
        assert [r["id"] for r in listed["results"]] == [body["id"]]
        assert listed["results"][0]["reason"] == REASON
    # the reason is encrypted at rest
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM casemgmt_emergencyaccess")
        stored = bytes(cursor.fetchone()[0])
        assert b"Schule" not in stored and stored.startswith(b"\x02")
    review = client_for(supervisor).post(
        f"/api/v1/emergency-access/{body['id']}/review/", {"note": "berechtigt"}, format="json"
    )
    assert review.status_code == 200 and review.json()["reviewed_by"] == str(supervisor.pk)
    assert (
        client_for(dpo).post(f"/api/v1/emergency-access/{body['id']}/review/", {}, format="json").status_code
        == 400
    )
    # expiry ends the access
    EmergencyAccess.objects.update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
        opened_at=timezone.now() - datetime.timedelta(hours=25),
    )
    assert client.get(f"{FAMILIES}{family.pk}/").status_code == 404


def test_emergency_access_can_be_ended_early(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    client = client_for(cm2)
    access = client.post(
        "/api/v1/emergency-access/", {"family": str(family.pk), "reason": REASON}, format="json"
    ).json()
    assert client.post(f"/api/v1/emergency-access/{access['id']}/end/").status_code == 200
    assert client.get(f"{FAMILIES}{family.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "kurz"}, "family"),
        ({"family": "x", "reason": REASON}, "family"),
        ({"reference": "LK-1999-00001", "reason": REASON}, "reference"),
        ({"reason": "zu kurz", "family": "F"}, "family"),
    ],
)
def test_break_the_glass_bad_input(case_manager, cm2, body, field) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    if body.get("family") == "F":
        body = {**body, "family": str(family.pk)}
        field = "reason"
    response = client_for(cm2).post("/api/v1/emergency-access/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert EmergencyAccess.objects.count() == 0


def test_break_the_glass_never_crosses_organisations(case_manager, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    response = client_for(other_case_manager).post(
        "/api/v1/emergency-access/", {"family": str(family.pk), "reason": REASON}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["family"][0]["code"] == "does_not_exist"


def test_losing_the_membership_ends_access(case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    with setup_writes():
        Membership.objects.filter(user=case_manager).delete()
    assert client_for(case_manager).get(FAMILIES).status_code == 403
    with setup_writes():
        Membership.objects.create(
            user=case_manager, organisation=make_user_org(case_manager), role=Role.SUPERVISOR
        )
    assert client_for(case_manager).get(FAMILIES).status_code == 403


def make_user_org(user):  # type: ignore[no-untyped-def]
    from casemgmt.models import Organisation

    return Organisation.objects.get(name="Landkreis Musterland")


def test_admin_deactivation_revokes_tokens(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN)
    AuthToken.objects.create(user=case_manager)
    response = client_for(admin).patch(
        f"/api/v1/users/{case_manager.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert AuthToken.objects.filter(user=case_manager).count() == 0


def test_deactivation_in_django_admin_revokes_tokens(case_manager) -> None:  # type: ignore[no-untyped-def]
    AuthToken.objects.create(user=case_manager)
    case_manager.is_active = False
    with setup_writes():  # as the admin form or the shell would
        case_manager.save()
    assert AuthToken.objects.filter(user=case_manager).count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "weak", "password": "demo", "role": "case_manager"}, "password"),
        ({"username": "cm1", "password": "a-Very-long-passphrase-2026", "role": "case_manager"}, "username"),
        ({"username": "x", "password": "a-Very-long-passphrase-2026", "role": "king"}, "role"),
        (
            {"username": "x", "password": "a-Very-long-passphrase-2026", "role": "dpo", "is_superuser": True},
            "is_superuser",
        ),
    ],
)
def test_admin_user_create_bad_input(district, case_manager, body, field) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import User

    admin = make_user(district, Role.ADMIN)
    count = User.objects.count()
    response = client_for(admin).post(
        "/api/v1/users/", {**body, "organisation": str(district.pk)}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert User.objects.count() == count


def test_admin_cannot_deactivate_self(district) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN)
    response = client_for(admin).patch(f"/api/v1/users/{admin.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 400


def test_admin_manages_member_towns(district, town) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN)
    town_user = make_user(town, Role.CASE_MANAGER)
    assert client_for(admin).get(f"/api/v1/users/{town_user.pk}/").status_code == 200
    town_admin = make_user(town, Role.ADMIN)
    assert client_for(town_admin).get(f"/api/v1/organisations/{district.pk}/").status_code == 404


def test_family_list_is_one_query_whatever_the_grants(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import app_queries

    for i in range(10):
        make_family(case_manager, family_name=f"N{i}")
    client_for(case_manager).post("/api/v1/deputies/", {"deputy": str(cm2.pk)}, format="json")
    client = client_for(cm2)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(FAMILIES).json()["count"] == 10
    family_queries = [q for q in app_queries(ctx.captured_queries) if 'FROM "casemgmt_family"' in q]
    # the page with its count: one query with the permission subqueries, no per-row checks
    assert len(family_queries) == 1, family_queries
