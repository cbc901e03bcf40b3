"""Deputies end, and the DPO sees every grant of case access (assignment, deputy, emergency) in one report."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import override_settings
from django.utils import timezone

from casemgmt.models import AccessGrant, Deputyship, Role
from casemgmt.services.access import deputy_add, emergency_access_open, family_assign
from tests.conftest import client_for
from tests.factories import make_family, make_user

FAMILIES = "/api/v1/families/"
REPORT = "/api/v1/privacy/access-grants/"
REASON = "Meldung der Schule: Kind erscheint verletzt, zuständige Kollegin im Urlaub."


@pytest.fixture
def cm2(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.CASE_MANAGER, username="cm2")


@pytest.fixture
def supervisor(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.SUPERVISOR, username="sup")


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo1")


def visible_ids(user) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["id"] for r in client_for(user).get(FAMILIES).json()["results"]}


# --- deputies end


@override_settings(DEPUTY_DEFAULT_DAYS=14, DEPUTY_MAX_DAYS=30)
def test_deputy_gets_default_end_and_records_who_named_them(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    response = client_for(supervisor).post(
        "/api/v1/deputies/", {"principal": str(case_manager.pk), "deputy": str(cm2.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created_by"] == str(supervisor.pk)
    ends = datetime.datetime.fromisoformat(body["ends_at"])
    assert abs(ends - (timezone.now() + datetime.timedelta(days=14))) < datetime.timedelta(minutes=1)


@override_settings(DEPUTY_MAX_DAYS=30)
@pytest.mark.parametrize(
    ("ends_at", "code"),
    [
        (lambda: timezone.now() + datetime.timedelta(days=31), "too_long"),
        (lambda: timezone.now() - datetime.timedelta(minutes=1), "past"),
        (lambda: "morgen", "invalid"),
        (lambda: 5, "invalid"),
    ],
)
def test_deputy_end_bad_input_changes_nothing(case_manager, cm2, ends_at, code) -> None:  # type: ignore[no-untyped-def]
    value = ends_at()
    body = {"deputy": str(cm2.pk), "ends_at": value.isoformat() if hasattr(value, "isoformat") else value}
    response = client_for(case_manager).post("/api/v1/deputies/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"]["ends_at"][0]["code"] == code
    assert not Deputyship.objects.exists() and not AccessGrant.objects.filter(kind="deputy").exists()


def test_expired_deputyship_grants_nothing(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    ends = timezone.now() + datetime.timedelta(days=2)
    deputyship = deputy_add(principal=case_manager, deputy=cm2, acting_user=case_manager, ends_at=ends)
    assert visible_ids(cm2) == {str(family.pk)}
    # The end passes (edited in the database, as time would): the deputy is still in the
    # caseload group, but no longer sees anything.
    Deputyship.objects.filter(pk=deputyship.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert cm2.groups.filter(caseload__owner=case_manager).exists()
    assert visible_ids(cm2) == set()
    assert client_for(cm2).get(f"{FAMILIES}{family.pk}/").status_code == 404
    assert visible_ids(case_manager) == {str(family.pk)}
    # Named again, the cover starts anew.
    again = client_for(case_manager).post("/api/v1/deputies/", {"deputy": str(cm2.pk)}, format="json")
    assert again.status_code == 201, again.json()
    assert visible_ids(cm2) == {str(family.pk)}


def test_group_membership_alone_grants_nothing(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    """Somebody put into a caseload group by hand (Django admin, shell) is no deputy."""
    from casemgmt.services.access import caseload_group

    make_family(case_manager)
    cm2.groups.add(caseload_group(case_manager))
    assert visible_ids(cm2) == set()


# --- the DPO's report of access grants


def _world(district, case_manager, cm2, supervisor):  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN, username="admin1")
    created = client_for(admin).post(
        "/api/v1/users/",
        {"username": "neu", "organisation": str(district.pk), "role": "case_manager"},
        format="json",
    )
    assert created.status_code == 201
    from casemgmt.models import User

    newcomer = User.objects.get(username="neu")
    family = make_family(case_manager)
    family_assign(family=family, case_manager=newcomer, acting_user=supervisor)
    deputy_add(principal=newcomer, deputy=cm2, acting_user=supervisor)
    emergency_access_open(family=family, acting_user=case_manager, reason=REASON)
    return admin, newcomer, family


def test_report_shows_who_granted_what_to_whom_and_when(district, case_manager, cm2, supervisor, dpo) -> None:  # type: ignore[no-untyped-def]
    _, newcomer, family = _world(district, case_manager, cm2, supervisor)
    response = client_for(dpo).get(REPORT)
    assert response.status_code == 200, response.json()
    rows = response.json()["grants"]
    kinds = [(r["kind"], r["grantee"], r["granted_by"]) for r in rows]
    assert kinds == [
        ("assignment", str(case_manager.pk), str(case_manager.pk)),  # opened the family
        ("assignment", str(newcomer.pk), str(supervisor.pk)),  # transfer by the supervisor
        ("deputy", str(cm2.pk), str(supervisor.pk)),
        ("emergency_access", str(case_manager.pk), str(case_manager.pk)),
    ]
    first = rows[0]
    assert first["revoked_by"] == str(supervisor.pk) and first["revoked_at"]  # the transfer ended it
    assert rows[1]["family_reference"] == family.reference and rows[1]["grantee_username"] == "neu"
    assert rows[2]["principal"] == str(newcomer.pk) and rows[2]["ends_at"]
    # The same in the audit trail: the assignment names actor and activity.
    from privacy.models import AuditEntry

    assigned = [
        e
        for e in AuditEntry.objects.filter(actor=supervisor)
        if (e.additional_data or {}).get("event") == "family_assigned"
    ]
    assert assigned and assigned[0].activity == "account_management"


def test_report_as_csv(district, case_manager, cm2, supervisor, dpo) -> None:  # type: ignore[no-untyped-def]
    _world(district, case_manager, cm2, supervisor)
    response = client_for(dpo).get(REPORT, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kind"] for r in rows] == ["assignment", "assignment", "deputy", "emergency_access"]
    assert "Haddad" not in response.content.decode()  # no family names, only references


def test_report_period_and_tenant(district, other_district, case_manager, cm2, supervisor, dpo) -> None:  # type: ignore[no-untyped-def]
    _world(district, case_manager, cm2, supervisor)
    other_dpo = make_user(other_district, Role.DPO, username="dpo_other")
    assert client_for(other_dpo).get(REPORT).json()["grants"] == []
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert client_for(dpo).get(REPORT, {"from": yesterday, "to": yesterday}).json()["grants"] == []


@pytest.mark.parametrize(
    "params",
    [{"format": "xml"}, {"from": "gestern"}, {"from": "2026-05-01", "to": "2026-01-01"}, {"user": "x"}],
)
def test_report_bad_input(dpo, params) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).get(REPORT, params)
    assert response.status_code == 400 and {"code", "detail"} <= set(response.json())


def test_report_query_count_does_not_grow(
    district, case_manager, cm2, supervisor, dpo, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _world(district, case_manager, cm2, supervisor)
    client = client_for(dpo)
    client.get(REPORT)
    with django_assert_num_queries(4) as small:
        client.get(REPORT)
    for i in range(5):
        other = make_user(district, Role.CASE_MANAGER, username=f"more{i}")
        make_family(other)
        deputy_add(principal=other, deputy=cm2, acting_user=other)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(REPORT).json()["grants"]) == 14


def test_naming_and_removing_a_deputy_are_account_events_the_dpo_sees(
    case_manager, cm2, supervisor, dpo
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: deputy changes are in the audit trail with who did them, visible to the DPO."""
    from privacy.models import AuditEntry

    response = client_for(supervisor).post(
        "/api/v1/deputies/", {"principal": str(case_manager.pk), "deputy": str(cm2.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert client_for(supervisor).delete(f"/api/v1/deputies/{response.json()['id']}/").status_code == 204
    named, removed = (
        AuditEntry.objects.get(additional_data__event=event) for event in ("deputy_named", "deputy_removed")
    )
    for entry in (named, removed):
        assert entry.actor_id == supervisor.pk and entry.activity == "account_management"
        assert entry.organisation_id is not None
    events = client_for(dpo).get("/api/v1/audit/events/", {"page_size": 200}).json()["results"]
    shown = {str(e.get("id")) for e in events}
    assert {str(named.pk), str(removed.pk)} <= shown, events[:3]


# --- the precompiled rule


def _declared_ids(user, codename: str) -> set[object]:  # type: ignore[no-untyped-def]
    """The access rule straight from its declaration (``_family_grants``), compiled anew."""
    from casemgmt import policies
    from casemgmt.models import Family

    granted, organisations = policies._family_grants(user, codename, timezone.now())
    rows = Family.objects.filter(id__in=granted, organisation_id__in=organisations)
    return set(rows.values_list("id", flat=True))


def _compiled_ids(user, codename: str) -> set[object]:  # type: ignore[no-untyped-def]
    from casemgmt import policies
    from casemgmt.models import Family

    return set(Family.objects.filter(policies.family_access(user, codename)).values_list("id", flat=True))


def test_precompiled_rule_grants_exactly_what_the_declared_rule_grants(  # type: ignore[no-untyped-def]
    district, other_district, case_manager, cm2, supervisor
) -> None:
    """The rule runs as SQL compiled once per process with the user and time bound per request;
    every grant kind, its end, and another user's grants must come out as the declared querysets
    say, for viewing and changing alike."""
    from casemgmt import policies
    from casemgmt.models import EmergencyAccess
    from casemgmt.services.access import caseload_group

    own = make_family(case_manager)
    theirs = make_family(cm2)
    make_family(make_user(other_district))
    third = make_user(district, Role.CASE_MANAGER, username="third")
    elsewhere = make_family(third)
    cm2.groups.add(caseload_group(case_manager))  # group membership alone grants nothing
    users = (case_manager, cm2, third, supervisor)

    def agree() -> dict[str, set[object]]:
        seen = {}
        for user in users:
            for codename in (policies.VIEW_FAMILY, policies.CHANGE_FAMILY):
                compiled = _compiled_ids(user, codename)
                assert compiled == _declared_ids(user, codename), (user.username, codename)
                seen[f"{user.username}:{codename}"] = compiled
        return seen

    seen = agree()
    assert seen[f"{case_manager.username}:view_family"] == {own.pk}
    assert seen[f"{cm2.username}:view_family"] == {theirs.pk}
    deputyship = deputy_add(principal=case_manager, deputy=cm2, acting_user=case_manager)
    emergency_access_open(family=elsewhere, acting_user=case_manager, reason=REASON)
    seen = agree()
    assert seen[f"{cm2.username}:view_family"] == {own.pk, theirs.pk}
    assert seen[f"{case_manager.username}:view_family"] == {own.pk, elsewhere.pk}
    # Ends pass (as time would): the bound time, not the compiled stand-in, decides.
    Deputyship.objects.filter(pk=deputyship.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    EmergencyAccess.objects.update(
        opened_at=timezone.now() - datetime.timedelta(hours=2),
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    seen = agree()
    assert seen[f"{cm2.username}:view_family"] == {theirs.pk}
    assert seen[f"{case_manager.username}:view_family"] == {own.pk}
    # Neither deactivated users nor the anonymous user reach anything.
    from django.contrib.auth.models import AnonymousUser

    case_manager.is_active = False
    assert _compiled_ids(case_manager, policies.VIEW_FAMILY) == set()
    assert _compiled_ids(AnonymousUser(), policies.VIEW_FAMILY) == set()


def test_precompiled_rule_binds_users_of_any_pk_form_and_negates(  # type: ignore[no-untyped-def]
    district, case_manager, cm2
) -> None:
    """Review: the bound user id may come as a str (a session, a lazy object); the condition is
    also negated (exclude) and combined by callers, as the Q of querysets was."""
    import copy

    from django.utils.functional import SimpleLazyObject

    from casemgmt import policies
    from casemgmt.models import Family

    own = make_family(case_manager)
    theirs = make_family(cm2)
    deputy_add(principal=cm2, deputy=case_manager, acting_user=cm2)
    as_str = copy.copy(case_manager)
    as_str.pk = str(case_manager.pk).upper()
    lazy = SimpleLazyObject(lambda: case_manager)
    for user in (case_manager, as_str, lazy):
        assert _compiled_ids(user, policies.VIEW_FAMILY) == {own.pk, theirs.pk}
    other = make_family(make_user(district, Role.CASE_MANAGER, username="x"))
    excluded = set(Family.objects.exclude(policies.family_access(case_manager)).values_list("id", flat=True))
    assert excluded == {other.pk}
    either = Family.objects.filter(policies.family_access(case_manager) | policies.family_access(cm2))
    assert set(either.values_list("id", flat=True)) == {own.pk, theirs.pk}
    both = (
        Family.objects.filter(policies.family_access(case_manager))
        .order_by()
        .union(Family.objects.filter(policies.family_access(cm2)).order_by())
    )
    assert {f.pk for f in both} == {own.pk, theirs.pk}
