"""Case work over the API: goals, referrals, consents, conferences, contacts, closure."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casemgmt.models import (
    CaseConference,
    Consent,
    Contact,
    DuplicateReview,
    Family,
    Goal,
    GoalReview,
    Organisation,
    Referral,
    ReferralTransition,
    Role,
)
from casemgmt.services.catalogue import course_create, provider_create
from casemgmt.services.consents import consent_create
from casemgmt.services.referrals import referral_create, referral_transition
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user, setup_writes

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def raw(table: str, column: str) -> bytes:
    """A column's stored values (ciphertexts are bytes), joined to search plaintext in them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        stored = [bytes(row[0]) for row in cursor.fetchall() if row[0] is not None]
    assert stored, f"{table}.{column} holds no value to check"
    return b" ".join(stored)


# --- goals


def test_goal_create_review_and_filters(api, family, mother, language) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/goals/",
        {
            "family": str(family.pk),
            "person": str(mother.pk),
            "field_of_action": str(language.pk),
            "description": "B1-Prüfung bestehen",
            "agreed_on": (TODAY - datetime.timedelta(days=90)).isoformat(),
            "target_date": YESTERDAY.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    goal = response.json()
    assert goal["status"] == "open" and goal["overdue"] is True and goal["field_of_action_code"] == "language"
    assert "Prüfung".encode() not in raw("casemgmt_goal", "description")
    assert api.get("/api/v1/goals/", {"overdue": "true"}).json()["count"] == 1
    assert api.get("/api/v1/goals/", {"field_of_action_code": "work"}).json()["count"] == 0
    assert api.get("/api/v1/goals/", {"field_of_action_code": "language"}).json()["count"] == 1
    # The field of action is filtered by the id the body carries; a code there is a 400.
    assert api.get("/api/v1/goals/", {"field_of_action": goal["field_of_action"]}).json()["count"] == 1
    assert api.get("/api/v1/goals/", {"field_of_action": "work"}).status_code == 400
    assert api.get("/api/v1/goals/", {"person": str(mother.pk), "status": "open"}).json()["count"] == 1

    review = api.post(
        f"/api/v1/goals/{goal['id']}/reviews/", {"status": "achieved", "note": "Zertifikat da"}, format="json"
    )
    assert review.status_code == 201, review.json()
    after = api.get(f"/api/v1/goals/{goal['id']}/").json()
    assert (
        after["status"] == "achieved"
        and after["achieved_at"] == TODAY.isoformat()
        and after["overdue"] is False
    )
    assert [r["note"] for r in api.get(f"/api/v1/goals/{goal['id']}/reviews/").json()] == ["Zertifikat da"]
    assert b"Zertifikat" not in raw("casemgmt_goalreview", "note")


def test_review_on_cancelled_goal_is_conflict(api, family, language) -> None:  # type: ignore[no-untyped-def]
    goal = api.post(
        "/api/v1/goals/",
        {"family": str(family.pk), "field_of_action": str(language.pk), "description": "x"},
        format="json",
    ).json()
    assert (
        api.post(f"/api/v1/goals/{goal['id']}/reviews/", {"status": "cancelled"}, format="json").status_code
        == 201
    )
    response = api.post(f"/api/v1/goals/{goal['id']}/reviews/", {"status": "open"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "goal_cancelled"
    assert GoalReview.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"person": "OTHER"}, "person"),
        ({"target_date": (TODAY - datetime.timedelta(days=400)).isoformat()}, "target_date"),
        ({"agreed_on": (TODAY + datetime.timedelta(days=3)).isoformat()}, "agreed_on"),
        ({"field_of_action": "00000000-0000-0000-0000-000000000000"}, "field_of_action"),
        ({"status": "achieved"}, "status"),
        ({"description": ""}, "description"),
        ({"family": "00000000-0000-0000-0000-000000000000"}, "family"),
    ],
)
def test_goal_bad_input(api, case_manager, family, language, change, field) -> None:  # type: ignore[no-untyped-def]
    other = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    body = {"family": str(family.pk), "field_of_action": str(language.pk), "description": "x"}
    body.update({k: (str(other.pk) if v == "OTHER" else v) for k, v in change.items()})
    response = api.post("/api/v1/goals/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Goal.objects.count() == 0


def test_field_of_another_district_is_not_usable(api, family, other_district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import FieldOfAction

    with setup_writes("course_referrals"):
        foreign = FieldOfAction.objects.create(organisation=other_district, code="foreign", name="Foreign")
    response = api.post(
        "/api/v1/goals/",
        {"family": str(family.pk), "field_of_action": str(foreign.pk), "description": "x"},
        format="json",
    )
    assert response.status_code == 400 and "field_of_action" in response.json()["errors"]


# --- referrals


def test_referral_lifecycle(api, case_manager, mother, course) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/referrals/", {"person": str(mother.pk), "course": str(course.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    referral = response.json()
    assert referral["status"] == "draft" and referral["provider"] == str(course.provider_id)
    assert referral["allowed_transitions"] == ["sent", "cancelled"]
    for to in ("sent", "accepted", "enrolled", "completed"):
        step = api.post(f"/api/v1/referrals/{referral['id']}/transition/", {"to": to}, format="json")
        assert step.status_code == 200, step.json()
    body = api.get(f"/api/v1/referrals/{referral['id']}/").json()
    assert [(t["from_status"], t["to_status"]) for t in body["transitions"]] == [
        ("", "draft"),
        ("draft", "sent"),
        ("sent", "accepted"),
        ("accepted", "enrolled"),
        ("enrolled", "completed"),
    ]
    assert all(t["actor"] == str(case_manager.pk) for t in body["transitions"])
    seats = api.get(f"/api/v1/courses/{course.pk}/").json()["seats_taken"]
    assert seats == 1


def test_invalid_transition_is_409_with_allowed(api, case_manager, mother, course) -> None:  # type: ignore[no-untyped-def]
    referral = referral_create(person=mother, course=course, acting_user=case_manager)
    response = api.post(f"/api/v1/referrals/{referral.pk}/transition/", {"to": "enrolled"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "detail": response.json()["detail"],
        "current": "draft",
        "allowed": ["sent", "cancelled"],
    }
    assert (
        api.post(f"/api/v1/referrals/{referral.pk}/transition/", {"to": "flying"}, format="json").status_code
        == 400
    )
    referral.refresh_from_db()
    assert referral.status == "draft" and ReferralTransition.objects.count() == 1


def test_capacity_is_never_exceeded(api, case_manager, family, course) -> None:  # type: ignore[no-untyped-def]
    referrals = []
    for i in range(3):
        person = make_person(family, case_manager, given_name=f"P{i}")
        referral = referral_create(person=person, course=course, acting_user=case_manager)
        for to in ("sent", "accepted"):
            referral_transition(referral=referral, to=to, acting_user=case_manager)
        referrals.append(referral)
    codes = [
        api.post(f"/api/v1/referrals/{r.pk}/transition/", {"to": "enrolled"}, format="json")
        for r in referrals
    ]
    assert [c.status_code for c in codes] == [200, 200, 409]
    assert codes[2].json()["code"] == "course_full" and codes[2].json()["capacity"] == 2
    assert Referral.objects.filter(status="enrolled").count() == 2


def test_referral_to_course_in_another_district_rejected(api, case_manager, mother, other_district) -> None:  # type: ignore[no-untyped-def]
    other_admin = make_user(other_district, Role.ADMIN)
    foreign_provider = provider_create(
        organisation=other_district, name="Anderswo e.V.", acting_user=other_admin
    )
    foreign = course_create(
        provider=foreign_provider,
        title="Kurs",
        course_type="counselling",
        starts_on=TODAY,
        ends_on=TODAY,
        capacity=5,
        acting_user=other_admin,
    )
    response = api.post(
        "/api/v1/referrals/", {"person": str(mother.pk), "course": str(foreign.pk)}, format="json"
    )
    assert response.status_code == 400 and "course" in response.json()["errors"]
    assert Referral.objects.count() == 0


def test_town_family_uses_district_catalogue(district, town, course) -> None:  # type: ignore[no-untyped-def]
    town_cm = make_user(town, Role.CASE_MANAGER)
    person = make_person(make_family(town_cm, town), town_cm)
    response = client_for(town_cm).post(
        "/api/v1/referrals/", {"person": str(person.pk), "course": str(course.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("case", ["goal_of_other_family", "provider_mismatch", "nothing", "unknown_field"])
def test_referral_bad_input(api, case_manager, mother, course, language, admin, district, case) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.goals import goal_create

    other_family = make_family(case_manager, family_name="Kaya")
    body: dict[str, object] = {"person": str(mother.pk), "course": str(course.pk)}
    if case == "goal_of_other_family":
        body["goal"] = str(
            goal_create(
                family=other_family, field_of_action=language, description="x", acting_user=case_manager
            ).pk
        )
    elif case == "provider_mismatch":
        body["provider"] = str(provider_create(organisation=district, name="Andere", acting_user=admin).pk)
    elif case == "nothing":
        body.pop("course")
    else:
        body["status"] = "enrolled"
    response = api.post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 400, response.json()
    assert Referral.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_enrolment_respects_capacity(district, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """N threads race to enrol into a course with capacity C: exactly C succeed, the rest 409."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL; SQLite serialises writers anyway")
    import threading

    from django.db import connections

    cm = make_user(district, Role.CASE_MANAGER, username="racer")
    admin = make_user(district, Role.ADMIN, username="race_admin")
    provider = provider_create(organisation=district, name="Race e.V.", acting_user=admin)
    course = course_create(
        provider=provider,
        title="Knapp",
        course_type="language_course",
        cefr_level="A2",
        starts_on=TODAY,
        ends_on=TODAY,
        capacity=3,
        acting_user=admin,
    )
    family = make_family(cm, district)
    referral_ids = []
    for i in range(10):
        referral = referral_create(
            person=make_person(family, cm, given_name=f"R{i}"), course=course, acting_user=cm
        )
        referral_transition(referral=referral, to="sent", acting_user=cm)
        referral_transition(referral=referral, to="accepted", acting_user=cm)
        referral_ids.append(referral.pk)

    # Widen the race window: every count waits a moment before the service acts on it, so
    # without the course row lock all threads would see free seats and overbook.
    import time

    from django.db.models.query import QuerySet

    real_count = QuerySet.count

    def slow_count(self: QuerySet) -> int:  # type: ignore[type-arg]
        result = real_count(self)
        time.sleep(0.05)
        return result

    monkeypatch.setattr(QuerySet, "count", slow_count)
    barrier = threading.Barrier(len(referral_ids))
    results: list[int] = []
    lock = threading.Lock()

    def enrol(pk: object) -> None:
        client = client_for(cm)
        barrier.wait()
        status = client.post(
            f"/api/v1/referrals/{pk}/transition/", {"to": "enrolled"}, format="json"
        ).status_code
        with lock:
            results.append(status)
        connections.close_all()

    threads = [threading.Thread(target=enrol, args=(pk,)) for pk in referral_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [200] * 3 + [409] * 7
    assert Referral.objects.filter(course=course, status="enrolled").count() == 3


# --- consents and conferences


def test_consent_withdrawal_is_an_action_not_a_delete(api, family, mother) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/consents/",
        {
            "family": str(family.pk),
            "person": str(mother.pk),
            "recipient": "jobcenter",
            "purpose": "Arbeitsvermittlung",
            "given_on": YESTERDAY.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    consent = response.json()
    assert consent["valid_today"] is True
    assert api.delete(f"/api/v1/consents/{consent['id']}/").status_code == 405
    assert api.patch(f"/api/v1/consents/{consent['id']}/", {"purpose": "x"}, format="json").status_code == 405
    withdrawn = api.post(f"/api/v1/consents/{consent['id']}/withdraw/", {}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_on"] == TODAY.isoformat()
    assert withdrawn.json()["valid_today"] is False
    assert api.post(f"/api/v1/consents/{consent['id']}/withdraw/", {}, format="json").status_code == 409
    assert Consent.objects.count() == 1
    assert api.get("/api/v1/consents/", {"valid": "true"}).json()["count"] == 0
    assert b"Arbeitsvermittlung" not in raw("casemgmt_consent", "purpose")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"recipient": "police"}, "recipient"),
        ({"person": None}, "person"),
        ({"given_on": "2999-01-01"}, "given_on"),
    ],
)
def test_consent_bad_input(api, family, mother, body, field) -> None:  # type: ignore[no-untyped-def]
    data = {
        "family": str(family.pk),
        "person": str(mother.pk),
        "recipient": "school",
        "purpose": "x",
        "given_on": YESTERDAY.isoformat(),
        **body,
    }
    response = api.post("/api/v1/consents/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Consent.objects.count() == 0


EXTERNAL = {
    "kind": "external",
    "agency": "jobcenter",
    "name": "Herr Muster",
    "role": "Fallmanager",
    "reason": "Eingliederungsvereinbarung",
    "legal_basis": "Einwilligung, § 67b SGB X",
}


def conference_body(family: Family, **extra: object) -> dict[str, object]:
    return {
        "family": str(family.pk),
        "scheduled_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        "format": "in_person",
        "agenda": "Sprachkurs und Arbeit",
        **extra,
    }


def test_external_participant_needs_consent(api, case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/conferences/", conference_body(family, participants=[EXTERNAL]), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "consent_missing" and response.json()["agency"] == "jobcenter"
    assert CaseConference.objects.count() == 0
    consent_create(
        family=family,
        person=mother,
        recipient="jobcenter",
        purpose="Konferenz",
        given_on=YESTERDAY,
        acting_user=case_manager,
    )
    response = api.post(
        "/api/v1/conferences/", conference_body(family, participants=[EXTERNAL]), format="json"
    )
    assert response.status_code == 201, response.json()
    participant = response.json()["participants"][0]
    assert participant["agency"] == "jobcenter" and participant["consent"]
    assert b"Herr Muster" not in raw("casemgmt_conferenceparticipant", "name")


def test_hold_with_decisions_creates_goals(api, case_manager, family, mother, language) -> None:  # type: ignore[no-untyped-def]
    consent_create(
        family=family,
        person=mother,
        recipient="jobcenter",
        purpose="Konferenz",
        given_on=YESTERDAY,
        acting_user=case_manager,
    )
    conference = api.post(
        "/api/v1/conferences/", conference_body(family, participants=[EXTERNAL]), format="json"
    ).json()
    response = api.post(
        f"/api/v1/conferences/{conference['id']}/hold/",
        {
            "minutes": "Vereinbart: B1-Kurs, Bewerbungstraining",
            "decisions": [
                {"field_of_action": str(language.pk), "person": str(mother.pk), "description": "B1-Kurs"}
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "held" and len(body["decided_goals"]) == 1
    goal = Goal.objects.get()
    assert goal.conference_id is not None and goal.person_id == mother.pk
    assert b"Bewerbungstraining" not in raw("casemgmt_caseconference", "minutes")
    again = api.post(f"/api/v1/conferences/{conference['id']}/hold/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conference_not_planned"


def test_withdrawn_consent_stops_holding(api, case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    consent = consent_create(
        family=family,
        person=mother,
        recipient="jobcenter",
        purpose="Konferenz",
        given_on=YESTERDAY,
        acting_user=case_manager,
    )
    conference = api.post(
        "/api/v1/conferences/", conference_body(family, participants=[EXTERNAL]), format="json"
    ).json()
    api.post(f"/api/v1/consents/{consent.pk}/withdraw/", {}, format="json")
    response = api.post(f"/api/v1/conferences/{conference['id']}/hold/", {"minutes": "x"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "consent_missing"
    assert CaseConference.objects.get().status == "planned"
    more = api.post(f"/api/v1/conferences/{conference['id']}/participants/", EXTERNAL, format="json")
    assert more.status_code == 409


def test_hold_with_bad_decision_changes_nothing(api, case_manager, family, language) -> None:  # type: ignore[no-untyped-def]
    conference = api.post("/api/v1/conferences/", conference_body(family), format="json").json()
    other = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    response = api.post(
        f"/api/v1/conferences/{conference['id']}/hold/",
        {
            "minutes": "x",
            "decisions": [
                {
                    "field_of_action": str(language.pk),
                    "person": str(other.pk),
                    "description": "falsche Person",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert CaseConference.objects.get().status == "planned" and Goal.objects.count() == 0


def test_second_conference_at_same_time_refused(api, family) -> None:  # type: ignore[no-untyped-def]
    body = conference_body(family)
    assert api.post("/api/v1/conferences/", body, format="json").status_code == 201
    response = api.post("/api/v1/conferences/", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conference_clash"
    assert CaseConference.objects.count() == 1


@pytest.mark.parametrize(
    "participant",
    [
        {"kind": "internal"},
        {"kind": "internal", "user": "OTHER_ORG"},
        {"kind": "family", "person": "OTHER"},
        {"kind": "external", "agency": "jobcenter"},
        {"kind": "alien"},
    ],
)
def test_bad_participants(api, case_manager, family, other_case_manager, participant) -> None:  # type: ignore[no-untyped-def]
    other = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    spec = {
        k: (str(other_case_manager.pk) if v == "OTHER_ORG" else str(other.pk) if v == "OTHER" else v)
        for k, v in participant.items()
    }
    response = api.post("/api/v1/conferences/", conference_body(family, participants=[spec]), format="json")
    assert response.status_code == 400, response.json()
    assert CaseConference.objects.count() == 0


# --- contacts, closure, duplicates


def test_contacts(api, family) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/contacts/",
        {
            "family": str(family.pk),
            "occurred_on": TODAY.isoformat(),
            "kind": "home_visit",
            "initiated_by": "family",
            "duration_minutes": 90,
            "notes": "Familie meldete sich selbst",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert api.get("/api/v1/contacts/", {"initiated_by": "family"}).json()["count"] == 1
    assert b"meldete" not in raw("casemgmt_contact", "notes")
    for bad in (
        {"occurred_on": "2999-01-01"},
        {"kind": "telepathy"},
        {"duration_minutes": 5000},
        {"duration_minutes": -5},
    ):
        body = {
            "family": str(family.pk),
            "occurred_on": TODAY.isoformat(),
            "kind": "phone",
            "initiated_by": "case_manager",
            **bad,
        }
        assert api.post("/api/v1/contacts/", body, format="json").status_code == 400, bad
    assert Contact.objects.count() == 1


def test_close_needs_finished_referrals_and_reopen(
    api, case_manager, family, mother, course, language
) -> None:  # type: ignore[no-untyped-def]
    referral = referral_create(person=mother, course=course, acting_user=case_manager)
    close = {"outcome": "self_sufficient", "benefit_status_at_closure": "none"}
    response = api.post(f"/api/v1/families/{family.pk}/close/", close, format="json")
    assert response.status_code == 409
    conflict = response.json()
    assert conflict["code"] == "open_referrals" and conflict["open_referrals"] == [str(referral.pk)]
    referral_transition(referral=referral, to="cancelled", acting_user=case_manager)
    response = api.post(f"/api/v1/families/{family.pk}/close/", close, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed" and response.json()["closure_outcome"] == "self_sufficient"
    # a closed case takes no new work until it is reopened
    goal = api.post(
        "/api/v1/goals/",
        {"family": str(family.pk), "field_of_action": str(language.pk), "description": "x"},
        format="json",
    )
    # a state conflict: 409 case_closed, as README promises for state conflicts
    assert goal.status_code == 409 and goal.json()["code"] == "case_closed"
    patched = api.patch(f"/api/v1/families/{family.pk}/", {"notes": "x"}, format="json")
    assert patched.status_code == 409 and patched.json()["code"] == "case_closed"
    reopened = api.post(f"/api/v1/families/{family.pk}/reopen/")
    assert reopened.status_code == 200 and reopened.json()["status"] == "active"
    assert reopened.json()["closed_on"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "vanished", "benefit_status_at_closure": "none"},
        {"outcome": "self_sufficient"},
        {"outcome": "withdrew", "benefit_status_at_closure": "none", "closed_on": "2999-01-01"},
    ],
)
def test_close_bad_input(api, family, body) -> None:  # type: ignore[no-untyped-def]
    response = api.post(f"/api/v1/families/{family.pk}/close/", body, format="json")
    assert response.status_code == 400
    family.refresh_from_db()
    assert family.status != "closed"


def test_duplicate_warning(api, case_manager, district, family, mother) -> None:  # type: ignore[no-untyped-def]
    body = {
        "family": str(family.pk),
        "role": "parent",
        "given_name": "AMINA",
        "family_name": "Haddad",
        "date_of_birth": mother.date_of_birth.isoformat(),
    }
    response = api.post("/api/v1/persons/", body, format="json")
    assert response.status_code == 201
    warning = response.json()["warnings"][0]
    assert warning["code"] == "possible_duplicate" and warning["family_reference"] == family.reference
    # a colleague who cannot see the family learns nothing (no oracle): the match goes to
    # the supervisor's review list instead
    colleague = make_user(district, Role.CASE_MANAGER)
    own = make_family(colleague, family_name="Haddad")
    response = client_for(colleague).post("/api/v1/persons/", {**body, "family": str(own.pk)}, format="json")
    assert response.json()["warnings"] == []
    assert DuplicateReview.objects.filter(candidate=mother, status="open").count() == 1
    # nobody in another district is matched
    other_cm = make_user(OrganisationFactory(name="Landkreis Fern"), Role.CASE_MANAGER)
    far = make_family(other_cm, family_name="Haddad")
    assert (
        client_for(other_cm)
        .post("/api/v1/persons/", {**body, "family": str(far.pk)}, format="json")
        .json()["warnings"]
        == []
    )


# --- catalogue


def test_catalogue_rules(admin, district, provider, course) -> None:  # type: ignore[no-untyped-def]
    client = client_for(admin)
    bad = client.post(
        "/api/v1/courses/",
        {
            "provider": str(provider.pk),
            "title": "Beratung",
            "course_type": "counselling",
            "cefr_level": "B1",
            "starts_on": "2030-01-01",
            "ends_on": "2030-02-01",
            "capacity": 5,
        },
        format="json",
    )
    assert bad.status_code == 400 and "cefr_level" in bad.json()["errors"]
    order = client.post(
        "/api/v1/courses/",
        {
            "provider": str(provider.pk),
            "title": "X",
            "course_type": "other",
            "starts_on": "2030-02-01",
            "ends_on": "2030-01-01",
            "capacity": 5,
        },
        format="json",
    )
    assert order.status_code == 400
    zero = client.patch(f"/api/v1/courses/{course.pk}/", {"capacity": 0}, format="json")
    assert zero.status_code == 400
    assert (
        client.post(
            "/api/v1/fields-of-action/",
            {"organisation": str(district.pk), "code": "language", "name": "dup"},
            format="json",
        ).status_code
        == 400
    )
    defaults = client_for(admin).get("/api/v1/fields-of-action/").json()
    assert {f["code"] for f in defaults} >= {
        "language",
        "education",
        "work",
        "recognition",
        "health",
        "housing",
        "parenting",
        "participation",
        "residence",
        "finances",
    }


def test_capacity_cannot_drop_below_seats_taken(admin, case_manager, family, course) -> None:  # type: ignore[no-untyped-def]
    for i in range(2):
        referral = referral_create(
            person=make_person(family, case_manager, given_name=f"K{i}"),
            course=course,
            acting_user=case_manager,
        )
        for to in ("sent", "accepted", "enrolled"):
            referral_transition(referral=referral, to=to, acting_user=case_manager)
    response = client_for(admin).patch(f"/api/v1/courses/{course.pk}/", {"capacity": 1}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["capacity"][0]["code"] == "below_taken"


# --- query counts


LISTS = [
    "/api/v1/goals/",
    "/api/v1/referrals/",
    "/api/v1/consents/",
    "/api/v1/conferences/",
    "/api/v1/contacts/",
    "/api/v1/courses/",
    "/api/v1/providers/",
]


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_flat(api, case_manager, admin, family, mother, course, language, url) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.conferences import conference_create
    from casemgmt.services.contacts import contact_create
    from casemgmt.services.goals import goal_create

    def add(start: int, n: int) -> None:
        for i in range(start, start + n):
            person = make_person(family, case_manager, given_name=f"Q{i}")
            goal = goal_create(
                family=family,
                person=person,
                field_of_action=language,
                description="x",
                acting_user=case_manager,
            )
            referral = referral_create(person=person, course=course, goal=goal, acting_user=case_manager)
            referral_transition(referral=referral, to="sent", acting_user=case_manager)
            consent_create(
                family=family,
                person=person,
                recipient="school",
                purpose="x",
                given_on=YESTERDAY,
                acting_user=case_manager,
            )
            conference_create(
                family=family,
                acting_user=case_manager,
                scheduled_at=timezone.now() + datetime.timedelta(days=i + 1),
                participants=[{"kind": "internal", "user": case_manager}],
            )
            contact_create(
                family=family,
                occurred_on=TODAY,
                kind="phone",
                initiated_by="family",
                acting_user=case_manager,
            )
            provider_create(
                organisation=Organisation.objects.get(pk=family.organisation_id),
                name=f"Träger {i}",
                acting_user=admin,
            )

    client = api if "courses" not in url and "providers" not in url else client_for(admin)
    add(0, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(2, 8)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), [
        q["sql"][:120] for q in large.captured_queries
    ]
