"""Review of the one-statement dashboard (01ca09e): the compiled kinds' SQL is cached per
process, so these tests warm it for one user, time zone or day and then ask for another,
and check what must never cross: families, members and deadlines the caller cannot see."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casemgmt.models import (
    CaseConference,
    Deputyship,
    EmergencyAccess,
    Family,
    FieldOfAction,
    Role,
)
from casemgmt.selectors.deadlines import KINDS, deadline_summary, deadlines_for
from casemgmt.services.goals import goal_create
from casemgmt.services.persons import person_update
from casemgmt.services.plans import plan_create
from privacy.models import Restriction
from tests.api.conftest import prepared_statements
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

TODAY = timezone.localdate()
URL = "/api/v1/dashboard/"


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def _caseload(user, organisation, name):  # type: ignore[no-untyped-def]
    """A family of ``user`` with a due deadline of a member and of the household."""
    family = make_family(user, organisation, family_name=name, opened_on=days(-200))
    person = make_person(family, user)
    goal = goal_create(
        family=family,
        person=person,
        field_of_action=FieldOfAction.objects.get(code="language", organisation=None),
        description="B1",
        agreed_on=days(-100),
        target_date=days(-1),
        acting_user=user,
    )
    plan = plan_create(family=family, review_on=days(2), acting_user=user)
    person_update(person=person, residence_valid_until=days(3), acting_user=user)
    return {"family": family, "person": person, "goal": goal, "plan": plan}


def _ids(items):  # type: ignore[no-untyped-def]
    return {i["family"] for i in items} | {i["object"] for i in items} | {i["person"] for i in items} - {None}


def _of(case):  # type: ignore[no-untyped-def]
    return {str(case[name].pk) for name in ("family", "person", "goal", "plan")}


def test_a_warm_statement_honours_every_access_lapse(case_manager, district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    """The kinds' SQL is compiled once and reused for everyone: each grant that ends (deputyship,
    emergency access), each restriction and each closure must still take effect at once."""
    mine = _caseload(case_manager, district, "Mine")
    colleague = make_user(district, Role.CASE_MANAGER, username="cm_colleague")
    theirs = _caseload(colleague, district, "Theirs")
    foreign = _caseload(other_case_manager, other_case_manager.memberships.get().organisation, "Foreign")

    def seen(user=case_manager):  # type: ignore[no-untyped-def]
        return _ids(deadline_summary(user)[0]) | _ids(deadline_summary(user, limit=1)[0])

    assert seen() == _of(mine)  # warms the statement for this day
    assert seen(colleague) == _of(theirs)
    assert seen(other_case_manager) == _of(foreign)
    now = timezone.now()
    with setup_writes("account_management"):
        deputyship = Deputyship.objects.create(
            organisation=district,
            principal=colleague,
            deputy=case_manager,
            ends_at=now + datetime.timedelta(days=1),
        )
    assert seen() == _of(mine) | _of(theirs)
    with setup_writes("account_management"):
        Deputyship.objects.filter(pk=deputyship.pk).update(ends_at=now - datetime.timedelta(seconds=1))
    assert seen() == _of(mine)
    with setup_writes("account_management"):
        access = EmergencyAccess.objects.create(
            family=theirs["family"],
            user=case_manager,
            reason="Kindeswohl, Schule ruft an",
            opened_at=now,
            expires_at=now + datetime.timedelta(hours=1),
        )
    assert seen() == _of(mine) | _of(theirs)
    with setup_writes("account_management"):
        EmergencyAccess.objects.filter(pk=access.pk).update(
            opened_at=now - datetime.timedelta(hours=2), expires_at=now - datetime.timedelta(seconds=1)
        )
    assert seen() == _of(mine)
    # another organisation's case manager (same district name space, other tenant) never
    assert _ids(deadline_summary(other_case_manager)[0]) == _of(foreign)
    # a restriction made after the statement was compiled hides the member at once
    with setup_writes("data_subject_rights"):
        restriction = Restriction.objects.create(person=mine["person"], restricted_at=now)
    assert str(mine["person"].pk) not in seen() and str(mine["goal"].pk) not in seen()
    with setup_writes("data_subject_rights"):
        Restriction.objects.filter(pk=restriction.pk).update(lifted_at=now)
    assert seen() == _of(mine)
    with setup_writes("case_management"):
        Family.objects.filter(pk=mine["family"].pk).update(status="closed", closed_on=TODAY)
    assert seen() == set()
    assert deadline_summary(case_manager, limit=5)[1]["due"] == 0


def test_conference_dates_follow_the_active_time_zone_with_a_warm_statement(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """23:30 in Berlin on the horizon's last day is the next day in Kiritimati (UTC+14): the
    statement compiled under one zone must not answer for another."""
    family = make_family(case_manager, district, opened_on=days(-10))
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    last = days(14)
    late = datetime.datetime.combine(last, datetime.time(23, 30), berlin)
    with setup_writes("case_conferences"):
        conference = CaseConference.objects.create(family=family, scheduled_at=late)

    def due(tz: str, limit: int | None = None) -> list[datetime.date]:
        with timezone.override(tz):
            items, counts = deadline_summary(case_manager, today=TODAY, kinds=["conference"], limit=limit)
        assert counts["by_kind"]["conference"]["due"] == len(items)
        assert all(i["object"] == str(conference.pk) for i in items)
        return [i["due_on"] for i in items]

    for _ in range(2):  # each zone after the other, twice: no statement of one answers the other
        for limit in (None, 3):
            assert due("Europe/Berlin", limit) == [last]
            assert due("Pacific/Kiritimati", limit) == []
            assert due("America/New_York", limit) == [last]


def test_no_kinds_or_only_unknown_kinds_give_no_deadlines(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Before 01ca09e an empty kind filter gave nothing with zero counts; the one statement
    became an empty UNION ALL, a syntax error."""
    _caseload(case_manager, district, "Mine")
    zero = {kind: {"due": 0, "overdue": 0} for kind in KINDS}
    for kinds in ([], ["birthday"]):
        for limit in (None, 5):
            assert deadline_summary(case_manager, kinds=kinds, limit=limit) == (
                [],
                {"by_kind": zero, "due": 0, "overdue": 0},
            )
        assert deadlines_for(case_manager, kinds=kinds) == []


def test_limit_zero_gives_the_counts_without_items(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """``limit=0``: a slice ``[:0]`` compiles to nothing (EmptyResultSet) and broke the statement."""
    _caseload(case_manager, district, "Mine")
    _, counts = deadline_summary(case_manager)
    assert counts["overdue"] == 2 and counts["due"] == 2  # goal, dormant case; plan, residence
    assert deadline_summary(case_manager, limit=0) == ([], counts)
    with pytest.raises(ValueError):
        deadline_summary(case_manager, limit=-1)


def test_a_limited_list_is_the_head_of_the_full_list_for_same_day_conferences(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Two conferences on one day: the earlier one has the larger id. The limited statement cuts
    by time, so the full list must order a day's conferences by time too, or ``limit=1`` shows
    a conference the full list puts second (and the counts and items disagree on "soonest")."""
    family = make_family(case_manager, district, opened_on=days(-10))
    morning = timezone.make_aware(datetime.datetime.combine(days(2), datetime.time(9)))
    with setup_writes("case_conferences"):
        early = CaseConference.objects.create(
            id=uuid.UUID(int=2**128 - 1), family=family, scheduled_at=morning
        )
        later = CaseConference.objects.create(
            id=uuid.UUID(int=1), family=family, scheduled_at=morning + datetime.timedelta(hours=3)
        )
    items, counts = deadline_summary(case_manager, kinds=["conference"])
    assert [i["object"] for i in items] == [str(early.pk), str(later.pk)]
    for limit in (1, 2):
        assert deadline_summary(case_manager, kinds=["conference"], limit=limit) == (items[:limit], counts)


def test_items_have_the_same_types_on_every_backend(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Rows come from a raw cursor (SQLite gives text): the converted values must match the ORM's."""
    case = _caseload(case_manager, district, "Mine")
    goal_create(  # a household goal: no person
        family=case["family"],
        field_of_action=FieldOfAction.objects.get(code="language", organisation=None),
        description="Wohnung",
        agreed_on=days(-100),
        target_date=days(1),
        acting_user=case_manager,
    )
    with setup_writes("case_conferences"):
        CaseConference.objects.create(
            family=case["family"], scheduled_at=timezone.now() + datetime.timedelta(days=1)
        )
    for limit in (None, 10):
        items, counts = deadline_summary(case_manager, limit=limit)
        assert {i["kind"] for i in items} == {
            "goal_target",
            "plan_review",
            "residence_expiry",
            "dormant_case",
            "conference",
        }
        for item in items:
            assert type(item["due_on"]) is datetime.date
            assert str(uuid.UUID(item["object"])) == item["object"]
            assert item["family"] == str(case["family"].pk)
            assert item["family_reference"] == case["family"].reference
            assert item["person"] is None or str(uuid.UUID(item["person"])) == item["person"]
        persons = {i["kind"]: i["person"] for i in items if i["kind"] != "goal_target"}
        assert persons["residence_expiry"] == str(case["person"].pk)
        assert persons["plan_review"] is None and persons["conference"] is None
        assert {i["person"] for i in items if i["kind"] == "goal_target"} == {None, str(case["person"].pk)}
        assert all(isinstance(v, int) for c in counts["by_kind"].values() for v in c.values())


def test_the_dashboard_is_one_statement(case_manager, district, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    _caseload(case_manager, district, "Mine")
    deadline_summary(case_manager, limit=7)  # warm the permission id and the compiled statement
    for limit in (None, 7):
        with django_assert_num_queries(1) as captured:
            deadline_summary(case_manager, limit=limit)
        assert sum(q["sql"].startswith("WITH") for q in captured.captured_queries) == 1


@pytest.mark.parametrize(
    "query",
    [
        "within=0",
        "within=365",
        "within=365&limit=500",
        "within=",
        "within=%00",
        "within=1e3",
        "within=9999999999999999999999",
        "within=-0",
        "limit=",
        "limit=1&limit=500",
        "limit=true",
        "kind=",
        "kind=goal_target&kind=goal_target",
        "kind=residence_expiry&limit=1",
        "kind=GOAL_TARGET",
        "kind=goal_target%00",
        "kind[]=goal_target",
        "within=1&within=2",
        "%ff=1",
    ],
)
def test_dashboard_odd_parameters_never_fail(case_manager, district, query) -> None:  # type: ignore[no-untyped-def]
    _caseload(case_manager, district, "Mine")
    response = client_for(case_manager).get(f"{URL}?{query}")
    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"].startswith("application/json")


def test_the_prepared_statement_runs_on_its_generic_plan(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL with prepared statements the dashboard's statement keeps its generic plan
    after PostgreSQL's five custom ones, by PostgreSQL's own choice (its constants are literals,
    so the generic plan knows them), and without a transaction to force it."""
    from django.db import connection

    if not prepared_statements():
        pytest.skip("PostgreSQL with prepared statements only")
    _caseload(case_manager, district, "Mine")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(16):  # psycopg prepares a statement on its fifth run
            deadline_summary(case_manager, limit=7)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["WITH deadline_family%"],
        )
        ((generic, custom),) = cursor.fetchall()
    assert custom <= 5 and generic >= 5  # planned for values at most five times, then generic
    statements = [q["sql"] for q in ctx.captured_queries]
    assert len(statements) == 16 and all(sql.startswith("WITH deadline_family") for sql in statements)
