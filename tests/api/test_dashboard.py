"""Deadlines: the case manager's dashboard, the supervisors' counts, reminders from the job runner."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from casemgmt.models import FieldOfAction, Referral, Role
from casemgmt.services.conferences import conference_create
from casemgmt.services.consents import consent_create
from casemgmt.services.contacts import contact_create
from casemgmt.services.goals import goal_create
from casemgmt.services.persons import person_update
from casemgmt.services.plans import plan_create
from privacy.jobs import reminder_text, send_deadline_reminders
from privacy.models import Restriction
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

TODAY = timezone.localdate()
URL = "/api/v1/dashboard/"


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def scene(case_manager, district):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, district, family_name="Haddad", opened_on=days(-200))
    person = make_person(family, case_manager)
    language = FieldOfAction.objects.get(code="language", organisation=None)
    overdue_goal = goal_create(
        family=family,
        person=person,
        field_of_action=language,
        description="B1",
        agreed_on=days(-100),
        target_date=days(-3),
        acting_user=case_manager,
    )
    goal_create(  # far in the future: not due
        family=family,
        field_of_action=language,
        description="B2",
        agreed_on=days(-100),
        target_date=days(200),
        acting_user=case_manager,
    )
    plan = plan_create(family=family, review_on=days(5), acting_user=case_manager)
    conference = conference_create(
        family=family, scheduled_at=timezone.now() + datetime.timedelta(days=2), acting_user=case_manager
    )
    consent = consent_create(
        family=family,
        person=person,
        recipient="jobcenter",
        purpose="Fallkonferenz",
        given_on=days(-300),
        valid_until=days(1),
        acting_user=case_manager,
    )
    person_update(person=person, residence_valid_until=days(10), acting_user=case_manager)
    # no contact for 200 days: a dormant case
    return {
        "family": family,
        "person": person,
        "goal": overdue_goal,
        "plan": plan,
        "conference": conference,
        "consent": consent,
    }


def test_dashboard_lists_due_and_overdue_sorted_with_counts(api, scene) -> None:  # type: ignore[no-untyped-def]
    response = api.get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    kinds = [(i["kind"], i["due_on"], i["overdue"]) for i in body["items"]]
    dormant_due = (scene["family"].opened_on + datetime.timedelta(weeks=6)).isoformat()
    assert kinds == [
        ("dormant_case", dormant_due, True),
        ("goal_target", days(-3).isoformat(), True),
        ("consent_expiry", days(1).isoformat(), False),
        ("conference", days(2).isoformat(), False),
        ("plan_review", days(5).isoformat(), False),
        ("residence_expiry", days(10).isoformat(), False),
    ]
    assert body["counts"]["overdue"] == 2 and body["counts"]["due"] == 4
    assert body["counts"]["by_kind"]["goal_target"] == {"due": 0, "overdue": 1}
    # ids and references only: no names, no free text
    assert "Haddad" not in response.content.decode() and "B1" not in response.content.decode()
    assert {i["family_reference"] for i in body["items"]} == {scene["family"].reference}
    # a narrower horizon and a kind filter
    narrow = api.get(URL, {"within": 1, "kind": ["goal_target", "consent_expiry"]}).json()
    assert [i["kind"] for i in narrow["items"]] == ["goal_target", "consent_expiry"]
    # a limit cuts the items, soonest first; the counts still cover everything
    limited = api.get(URL, {"limit": 2}).json()
    assert [i["kind"] for i in limited["items"]] == ["dormant_case", "goal_target"]
    assert limited["counts"] == body["counts"]


def _sent_referral(scene, *, days_ago: int) -> Referral:  # type: ignore[no-untyped-def]
    """A referral of the scene's member, sent ``days_ago`` days ago and not answered."""
    from casemgmt.models import Provider, ReferralTransition

    sent_at = timezone.now() - datetime.timedelta(days=days_ago)
    with setup_writes("course_referrals"):  # what ``referral_transition`` writes, backdated
        provider = Provider.objects.create(organisation=scene["family"].organisation, name="VHS")
        referral = Referral.objects.create(
            family=scene["family"], person=scene["person"], provider=provider, status="sent", sent_at=sent_at
        )
        ReferralTransition.objects.create(
            referral=referral, from_status="draft", to_status="sent", at=sent_at
        )
    return referral


def test_a_contact_ends_the_dormant_case_and_a_sent_referral_waits(api, scene, case_manager) -> None:  # type: ignore[no-untyped-def]
    contact_create(
        family=scene["family"],
        occurred_on=TODAY,
        kind="office",
        initiated_by="family",
        acting_user=case_manager,
    )
    referral = _sent_referral(scene, days_ago=20)
    kinds = {i["kind"]: i for i in api.get(URL).json()["items"]}
    assert "dormant_case" not in kinds
    assert kinds["referral_response"]["overdue"] is True
    assert kinds["referral_response"]["object"] == str(referral.pk)


def test_deadlines_never_reach_users_who_cannot_see_the_family(scene, district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    colleague = client_for(make_user(district, Role.CASE_MANAGER, username="cm_same"))
    assert colleague.get(URL).json()["items"] == []
    assert client_for(other_case_manager).get(URL).json()["items"] == []
    for role in (Role.SUPERVISOR, Role.DPO, Role.ADMIN):
        assert client_for(make_user(district, role)).get(URL).status_code == 403


def test_a_restricted_members_deadlines_are_hidden(api, scene) -> None:  # type: ignore[no-untyped-def]
    with setup_writes("data_subject_rights"):
        Restriction.objects.create(person=scene["person"], restricted_at=timezone.now())
    kinds = {i["kind"] for i in api.get(URL).json()["items"]}
    # the member's goal, consent and residence permit are hidden; household deadlines stay
    assert kinds == {"dormant_case", "conference", "plan_review"}


def test_supervisors_see_counts_per_case_manager_without_personal_data(
    scene, district, case_manager, other_district
) -> None:  # type: ignore[no-untyped-def]
    sup = client_for(make_user(district, Role.SUPERVISOR, username="sup"))
    response = sup.get("/api/v1/dashboard/caseloads/")
    assert response.status_code == 200, response.content
    rows = response.json()["case_managers"]
    assert len(rows) == 1
    row = rows[0]
    assert row["case_manager"] == str(case_manager.pk) and row["username"] == "cm1"
    assert (row["overdue"], row["due"]) == (2, 3)  # residence expiry is not counted for supervisors
    assert "residence_expiry" not in row["by_kind"]
    text = response.content.decode()
    assert scene["family"].reference not in text and str(scene["family"].pk) not in text
    other = client_for(make_user(other_district, Role.SUPERVISOR, username="sup_other"))
    assert other.get("/api/v1/dashboard/caseloads/").json()["case_managers"] == []
    assert client_for(case_manager).get("/api/v1/dashboard/caseloads/").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"within": "soon"},
        {"within": "-1"},
        {"within": "366"},
        {"within": "1.5"},
        {"limit": "0"},
        {"limit": "501"},
        {"kind": "birthday"},
        {"page": "2"},
    ],
)
def test_dashboard_bad_input(api, scene, params) -> None:  # type: ignore[no-untyped-def]
    response = api.get(URL, params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    sup = client_for(make_user(scene["family"].organisation, Role.SUPERVISOR, username="sup_bad"))
    if "kind" not in params and "limit" not in params:
        assert sup.get("/api/v1/dashboard/caseloads/", params).status_code == 400


def test_dashboard_query_count_does_not_grow_with_the_caseload(
    scene, case_manager, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    api = client_for(case_manager)
    api.get(URL)  # warm the permission-id cache
    # token with the roles, one statement for every kind of deadline (rows and counts), the
    # audit entry; on PostgreSQL with prepared statements, the statement's generic plan adds
    # SET LOCAL, inside the test's transaction a SAVEPOINT/RELEASE pair (BEGIN/COMMIT otherwise)
    with django_assert_max_num_queries(3) as first:
        api.get(URL)
    for _ in range(3):
        family = make_family(case_manager, opened_on=days(-100))
        plan_create(family=family, review_on=days(3), acting_user=case_manager)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert len(api.get(URL).json()["items"]) > 6


def test_reminders_carry_counts_and_a_link_only(scene, case_manager, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REMINDER_EMAILS = True
    with setup_writes():
        case_manager.email = "cm1@example.org"
        case_manager.save(update_fields=["email"])
    result = send_deadline_reminders.call()
    assert result == {"case_managers_with_deadlines": 1, "emails_sent": 1}
    (message,) = mail.outbox
    assert message.to == ["cm1@example.org"]
    assert message.body == reminder_text(4, 2)
    assert scene["family"].reference not in message.body and "Haddad" not in message.body
    settings.REMINDER_EMAILS = False
    assert send_deadline_reminders.call()["emails_sent"] == 0


def _consent(  # type: ignore[no-untyped-def]
    user, family, person, given: int, members, categories=None, valid_until=None, recipient="jobcenter"
):
    return consent_create(
        family=family,
        person=person,
        recipient=recipient,
        purpose="Fallkonferenz",
        given_on=days(given),
        valid_until=valid_until,
        members=members,
        data_categories=categories,
        acting_user=user,
    )


def _due_consents(user) -> set[str]:  # type: ignore[no-untyped-def]
    from casemgmt.selectors.deadlines import deadlines_for

    return {i["object"] for i in deadlines_for(user, kinds=["consent_expiry"])}


def test_a_later_consent_replaces_an_expiring_one_only_if_it_covers_as_much(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """A renewal for fewer members or fewer kinds of data does not silence the reminder of
    the consent it does not fully replace; one that covers as much does."""
    from casemgmt.models import SharedCategory

    family = make_family(case_manager, district, opened_on=days(-400))
    mother = make_person(family, case_manager)
    child = make_person(family, case_manager, given_name="Yusuf", role="child")

    def consent(given: int, members, categories=None, valid_until=None, recipient="jobcenter"):  # type: ignore[no-untyped-def]
        return _consent(case_manager, family, mother, given, members, categories, valid_until, recipient)

    def due() -> set[str]:
        return _due_consents(case_manager)

    expiring = consent(-300, [mother, child], valid_until=days(1))
    assert due() == {str(expiring.pk)}
    consent(-20, [mother])  # the mother alone renewed
    assert due() == {str(expiring.pk)}
    consent(-10, [mother, child], categories=[SharedCategory.values[0]])  # fewer kinds of data
    assert due() == {str(expiring.pk)}
    consent(-5, [child, mother])  # the whole household again, every kind of data
    assert due() == set()
    # One kind of data for the child, renewed with every kind for the child: replaced.
    narrow = consent(
        -300, [child], categories=[SharedCategory.values[0]], valid_until=days(2), recipient="school"
    )
    assert due() == {str(narrow.pk)}
    consent(-1, [child], recipient="school")
    assert due() == set()


def test_a_renewal_with_the_same_narrow_scope_and_more_members_replaces(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Review: the same (not all) categories, given in another order, to more members, replaces the
    expiring consent on every backend (JSON equality of data_categories); one category fewer, or
    a member fewer, does not; another family's renewal never does."""
    from casemgmt.models import SharedCategory

    family = make_family(case_manager, district, opened_on=days(-400))
    mother = make_person(family, case_manager)
    child = make_person(family, case_manager, given_name="Yusuf", role="child")
    other = make_family(case_manager, district, opened_on=days(-400))
    other_mother = make_person(other, case_manager)
    two = [SharedCategory.values[3], SharedCategory.values[1]]

    def consent(fam, person, given, members, categories, valid_until=None):  # type: ignore[no-untyped-def]
        return _consent(case_manager, fam, person, given, members, categories, valid_until)

    def due() -> set[str]:
        return _due_consents(case_manager)

    expiring = consent(family, mother, -300, [mother], two, valid_until=days(1))
    consent(other, other_mother, -5, [other_mother], None)
    assert due() == {str(expiring.pk)}
    consent(family, mother, -20, [mother], two[:1])
    assert due() == {str(expiring.pk)}
    consent(family, mother, -10, [child, mother], list(reversed(two)))
    assert due() == set()


def _declared_deadlines(user, *, today: datetime.date, until: datetime.date):  # type: ignore[no-untyped-def]
    """The deadlines as the sources declare them, evaluated kind by kind with the plain ORM:
    the reference the dashboard's one statement must agree with."""
    from casemgmt import policies
    from casemgmt.models import Person
    from casemgmt.selectors.casework import case_records_for
    from casemgmt.selectors.deadlines import _DUE_COLUMNS, OPEN_FAMILY_STATUSES, SOURCES

    found = set()
    for source in SOURCES:
        (due_column,) = _DUE_COLUMNS[source.kind]
        for row in (
            case_records_for(user, source.open_rows()).filter(source.due_by(until)).values("pk", due_column)
        ):
            found.add((source.kind, str(row["pk"]), source.due_on(row)))
    persons = case_records_for(
        user,
        Person.objects.filter(family__status__in=OPEN_FAMILY_STATUSES, residence_valid_until__isnull=False),
    )
    assert policies.VIEW_FAMILY  # the same permission the dashboard reads with
    for person in persons:
        if person.residence_valid_until <= until:
            found.add(("residence_expiry", str(person.pk), person.residence_valid_until))
    return found


def test_the_one_statement_agrees_with_the_declared_sources(scene, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """Several families: open, paused, closed, one with a restricted member; every kind due."""
    from casemgmt.models import Family
    from casemgmt.selectors.deadlines import deadline_summary, horizon_end

    language = FieldOfAction.objects.get(code="language", organisation=None)
    for status, name in (("paused", "Paused"), ("closed", "Closed"), ("active", "Restricted")):
        family = make_family(case_manager, district, family_name=name, opened_on=days(-90))
        person = make_person(family, case_manager)
        for offset in (-20, -1, 0, 3, 13, 14, 15, 40):
            goal_create(
                family=family,
                person=person,
                field_of_action=language,
                description="Ziel",
                agreed_on=days(-100),
                target_date=days(offset),
                acting_user=case_manager,
            )
        plan_create(family=family, review_on=days(-2), acting_user=case_manager)
        person_update(person=person, residence_valid_until=days(-5), acting_user=case_manager)
        with setup_writes("case_management"):
            Family.objects.filter(pk=family.pk).update(
                status=status, closed_on=TODAY if status == "closed" else None
            )
            if name == "Restricted":
                Restriction.objects.create(person=person, restricted_at=timezone.now())
    until = horizon_end(TODAY)
    expected = _declared_deadlines(case_manager, today=TODAY, until=until)
    assert {kind for kind, _, _ in expected} >= {
        "goal_target",
        "plan_review",
        "residence_expiry",
        "dormant_case",
    }
    items, counts = deadline_summary(case_manager, today=TODAY)
    assert {(i["kind"], i["object"], i["due_on"]) for i in items} == expected
    assert counts["due"] + counts["overdue"] == len(expected)
    # closed families have no deadlines; the paused one keeps them
    references = {i["family_reference"] for i in items}
    assert Family.objects.filter(status="closed", reference__in=references).count() == 0
    assert Family.objects.filter(status="paused", reference__in=references).count() == 1
    # with a limit: the same counts, and the soonest items of the full list
    for limit in (1, 3, 10):
        limited, limited_counts = deadline_summary(case_manager, today=TODAY, limit=limit)
        assert limited_counts == counts
        assert limited == items[:limit]
    # someone else sees none of it
    assert deadline_summary(make_user(district, Role.CASE_MANAGER, username="cm_nobody"))[0] == []


def test_the_compiled_statement_follows_the_settings(api, scene, case_manager, settings) -> None:  # type: ignore[no-untyped-def]
    """The kinds' SQL is compiled once per day and shape: a changed setting must not reuse it."""
    _sent_referral(scene, days_ago=10)

    def referral_items():  # type: ignore[no-untyped-def]
        return [i for i in api.get(URL).json()["items"] if i["kind"] == "referral_response"]

    settings.DEADLINE_REFERRAL_RESPONSE_DAYS = 30  # due in 20 days: beyond the 14-day horizon
    assert referral_items() == []
    settings.DEADLINE_REFERRAL_RESPONSE_DAYS = 7
    assert [i["overdue"] for i in referral_items()] == [True]
    settings.DEADLINE_DORMANT_WEEKS = 52
    assert "dormant_case" not in {i["kind"] for i in api.get(URL).json()["items"]}


def test_the_goal_deadline_index_covers_exactly_the_open_goals() -> None:
    from casemgmt.models import Goal

    (index,) = [i for i in Goal._meta.indexes if i.name == "goal_family_due"]
    statuses = dict(index.condition.children)["status__in"]  # type: ignore[union-attr]
    assert set(statuses) == Goal.OPEN_STATUSES


def test_a_familys_last_contact_follows_every_save_and_delete_of_its_contacts(scene, case_manager) -> None:  # type: ignore[no-untyped-def]
    """The dormant-case deadline reads ``Family.last_contact_on``: it must always be the newest
    contact, whether a contact is added, moved in time or deleted, by a service or the ORM."""
    import random

    from casemgmt.models import Contact, Family
    from casemgmt.selectors.deadlines import deadline_summary, horizon_end
    from casemgmt.services.contacts import contact_update

    family = scene["family"]
    rng = random.Random(7)

    def newest() -> datetime.date | None:
        dates = list(Contact.objects.filter(family=family).values_list("occurred_on", flat=True))
        return max(dates, default=None)

    def dormant() -> bool:
        return any(i["kind"] == "dormant_case" for i in deadline_summary(case_manager)[0])

    assert Family.objects.get(pk=family.pk).last_contact_on is None and dormant()  # opened 200 days ago
    older = contact_create(
        family=family, occurred_on=days(-90), kind="phone", initiated_by="family", acting_user=case_manager
    )
    recent = contact_create(
        family=family, occurred_on=days(-5), kind="office", initiated_by="family", acting_user=case_manager
    )
    assert Family.objects.get(pk=family.pk).last_contact_on == days(-5) and not dormant()
    contact_update(contact=recent, occurred_on=days(-100), acting_user=case_manager)  # moved back in time
    assert Family.objects.get(pk=family.pk).last_contact_on == days(-90) and dormant()
    with setup_writes("case_management"):
        older.delete()
    assert Family.objects.get(pk=family.pk).last_contact_on == days(-100)
    for step in range(30):
        contacts = list(Contact.objects.filter(family=family))
        action = rng.choice(["add", "add", "move", "delete"] if contacts else ["add"])
        if action == "add":
            contact_create(
                family=family,
                occurred_on=days(-rng.randint(0, 120)),
                kind="phone",
                initiated_by="family",
                acting_user=case_manager,
            )
        elif action == "move":
            contact_update(
                contact=rng.choice(contacts), occurred_on=days(-rng.randint(0, 120)), acting_user=case_manager
            )
        else:
            with setup_writes("case_management"):
                rng.choice(contacts).delete()
        stored = Family.objects.get(pk=family.pk).last_contact_on
        assert stored == newest(), (step, action)
        # due once the dormant date (six weeks after the last activity) falls within the horizon
        dormant_on = (stored or family.opened_on) + datetime.timedelta(weeks=6)
        assert dormant() == (dormant_on <= horizon_end(TODAY, None)), (step, action)


def test_a_referral_is_due_for_an_answer_from_the_moment_the_service_sent_it(scene, case_manager) -> None:  # type: ignore[no-untyped-def]
    """The response deadline reads ``Referral.sent_at``: the transition to "sent" sets it, in the
    same UPDATE as the status, to the transition's own time; no other transition touches it."""
    from casemgmt.models import Provider, ReferralTransition
    from casemgmt.selectors.deadlines import deadline_summary, referral_response_days
    from casemgmt.services.referrals import referral_transition

    with setup_writes("course_referrals"):
        provider = Provider.objects.create(organisation=scene["family"].organisation, name="VHS")
        referral = Referral.objects.create(family=scene["family"], person=scene["person"], provider=provider)
    assert referral.sent_at is None
    referral = referral_transition(referral=referral, to="sent", acting_user=case_manager)
    transition = ReferralTransition.objects.get(referral=referral, to_status="sent")
    referral.refresh_from_db()
    assert referral.sent_at == transition.at

    def response_items(today: datetime.date) -> list[dict[str, object]]:
        items, _ = deadline_summary(case_manager, today=today, kinds=["referral_response"])
        return items

    sent_on = timezone.localtime(transition.at).date()
    due_on = sent_on + datetime.timedelta(days=referral_response_days())
    assert response_items(sent_on - datetime.timedelta(days=30)) == []  # beyond the horizon
    (item,) = response_items(due_on + datetime.timedelta(days=1))
    assert item["object"] == str(referral.pk) and item["overdue"] is True and item["due_on"] == due_on
    referral_transition(referral=referral, to="accepted", acting_user=case_manager)
    referral.refresh_from_db()
    assert referral.sent_at == transition.at  # kept: the referral was sent then
    assert response_items(due_on + datetime.timedelta(days=1)) == []  # answered


def test_the_migration_fills_sent_at_from_the_transitions(scene) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from django.apps import apps
    from django.db import connection

    from casemgmt.models import Provider, ReferralTransition

    fill = importlib.import_module("casemgmt.migrations.0021_referral_sent_at").fill
    at = timezone.now() - datetime.timedelta(days=3)
    with setup_writes("course_referrals"):
        provider = Provider.objects.create(organisation=scene["family"].organisation, name="VHS")
        sent, draft = (
            Referral.objects.create(
                family=scene["family"], person=scene["person"], provider=provider, status=status
            )
            for status in ("sent", "draft")
        )
        ReferralTransition.objects.create(referral=sent, from_status="draft", to_status="sent", at=at)
    fill(apps, type("SchemaEditor", (), {"connection": connection})())
    sent.refresh_from_db()
    draft.refresh_from_db()
    assert (sent.sent_at, draft.sent_at) == (at, None)


def test_the_residence_deadline_index_covers_exactly_the_persons_with_a_permit() -> None:
    from casemgmt.models import Person

    (index,) = [i for i in Person._meta.indexes if i.name == "person_residence_due"]
    assert dict(index.condition.children) == {"residence_valid_until__isnull": False}  # type: ignore[union-attr]
    assert {"id", "residence_valid_until"} <= set(index.include)
