"""Art. 18 restriction hides and freezes every record linked to the person, in the database."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casemgmt import policies
from casemgmt.models import Consent, Goal, GoalReview, Person, Referral, Role
from casemgmt.services.conferences import conference_create
from casemgmt.services.consents import consent_create
from casemgmt.services.contacts import contact_create
from casemgmt.services.goals import goal_create
from casemgmt.services.referrals import referral_create
from privacy.models import Restriction
from privacy.rights import restriction_add, restriction_lift
from tests.factories import make_person, make_user

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo_restriction")


@pytest.fixture
def records(case_manager, family, mother, language, course):  # type: ignore[no-untyped-def]
    """The mother's goal, referral, consent and conference participation, plus household records."""
    father = make_person(family, case_manager, given_name="Karim")
    goal = goal_create(
        family=family,
        person=mother,
        field_of_action=language,
        description="Deutsch B1",
        acting_user=case_manager,
    )
    family_goal = goal_create(
        family=family, field_of_action=language, description="Wohnung", acting_user=case_manager
    )
    father_goal = goal_create(
        family=family, person=father, field_of_action=language, description="A2", acting_user=case_manager
    )
    referral = referral_create(person=mother, course=course, goal=goal, acting_user=case_manager)
    consent = consent_create(
        family=family,
        person=mother,
        recipient="jobcenter",
        purpose="Kursplanung",
        given_on=YESTERDAY,
        acting_user=case_manager,
    )
    conference = conference_create(
        family=family,
        acting_user=case_manager,
        scheduled_at=timezone.now() + datetime.timedelta(days=3),
        agenda_members=[mother],  # her consent covers her data only
        participants=[
            {"kind": "family", "person": mother},
            {"kind": "family", "person": father},
            {"kind": "external", "agency": "jobcenter", "reason": "Kurs", "legal_basis": "Einwilligung"},
        ],
    )
    contact = contact_create(
        family=family, occurred_on=TODAY, kind="phone", initiated_by="family", acting_user=case_manager
    )
    mother_contact = contact_create(
        family=family,
        person=mother,
        occurred_on=TODAY,
        kind="accompaniment",
        initiated_by="case_manager",
        acting_user=case_manager,
    )
    return {
        "mother_contact": mother_contact,
        "goal": goal,
        "family_goal": family_goal,
        "father_goal": father_goal,
        "referral": referral,
        "consent": consent,
        "conference": conference,
        "contact": contact,
        "father": father,
    }


def _ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    body = response.json()
    return {item["id"] for item in (body["results"] if isinstance(body, dict) else body)}


def test_restricted_persons_records_are_hidden_everywhere(api, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    goal, referral, consent = records["goal"], records["referral"], records["consent"]
    # lists and filters leave them out; the probe: GET /goals/?person=<restricted>
    assert _ids(api.get("/api/v1/goals/", {"person": str(mother.pk)})) == set()
    assert str(goal.pk) not in _ids(api.get("/api/v1/goals/"))
    assert _ids(api.get("/api/v1/referrals/", {"person": str(mother.pk)})) == set()
    assert str(referral.pk) not in _ids(api.get("/api/v1/referrals/"))
    assert _ids(api.get("/api/v1/consents/", {"person": str(mother.pk)})) == set()
    assert str(consent.pk) not in _ids(api.get("/api/v1/consents/"))
    assert _ids(api.get("/api/v1/contacts/", {"person": str(mother.pk)})) == set()
    assert str(records["mother_contact"].pk) not in _ids(api.get("/api/v1/contacts/"))
    # details are 404, like a missing object
    for url in (
        f"/api/v1/contacts/{records['mother_contact'].pk}/",
        f"/api/v1/goals/{goal.pk}/",
        f"/api/v1/goals/{goal.pk}/reviews/",
        f"/api/v1/referrals/{referral.pk}/",
        f"/api/v1/consents/{consent.pk}/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    # the conference is household-level: it stays, without her participation or her consent's
    conference = api.get(f"/api/v1/conferences/{records['conference'].pk}/").json()
    kinds = sorted((p["kind"], p["person"]) for p in conference["participants"])
    assert kinds == [("family", str(records["father"].pk))]
    # household-level and other members' records stay visible
    visible = _ids(api.get("/api/v1/goals/"))
    assert {str(records["family_goal"].pk), str(records["father_goal"].pk)} <= visible
    assert str(records["contact"].pk) in _ids(api.get("/api/v1/contacts/"))


def test_restricted_persons_records_cannot_be_changed(api, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    goal, referral, consent = records["goal"], records["referral"], records["consent"]
    attempts = [
        ("patch", f"/api/v1/goals/{goal.pk}/", {"description": "neu"}),
        ("post", f"/api/v1/goals/{goal.pk}/reviews/", {"note": "x", "status": "achieved"}),
        ("patch", f"/api/v1/referrals/{referral.pk}/", {"note": "neu"}),
        ("post", f"/api/v1/referrals/{referral.pk}/transition/", {"to": "sent"}),
        ("post", f"/api/v1/consents/{consent.pk}/withdraw/", {}),
        ("patch", f"/api/v1/contacts/{records['mother_contact'].pk}/", {"notes": "neu"}),
    ]
    for method, url, body in attempts:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.content)
        assert set(response.json()) >= {"code", "detail"}
    goal.refresh_from_db()
    referral.refresh_from_db()
    consent.refresh_from_db()
    assert (goal.status, referral.status, consent.withdrawn_on) == ("open", "draft", None)
    assert not GoalReview.objects.filter(goal=goal).exists()
    # a referral may not point at her goal, and her consent no longer covers sharing
    response = api.post(
        "/api/v1/referrals/",
        {"person": str(records["father"].pk), "course": str(referral.course_id), "goal": str(goal.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    # nor may a household contact be moved onto her: she is not a member the API can name
    response = api.patch(
        f"/api/v1/contacts/{records['contact'].pk}/", {"person": str(mother.pk)}, format="json"
    )
    assert response.status_code == 400
    records["contact"].refresh_from_db()
    assert records["contact"].person_id is None
    conference = api.post(
        f"/api/v1/conferences/{records['conference'].pk}/participants/",
        {"kind": "external", "agency": "jobcenter", "reason": "Kurs", "legal_basis": "Einwilligung"},
        format="json",
    )
    assert conference.status_code == 409


def test_lifting_the_restriction_shows_everything_again(api, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    assert _ids(api.get("/api/v1/goals/", {"person": str(mother.pk)})) == set()
    restriction_lift(person=mother, acting_user=dpo)
    assert _ids(api.get("/api/v1/goals/", {"person": str(mother.pk)})) == {str(records["goal"].pk)}
    assert (
        api.patch(f"/api/v1/goals/{records['goal'].pk}/", {"description": "neu"}, format="json").status_code
        == 200
    )


def test_restriction_written_directly_in_the_database_is_honoured(api, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    """The rule lives in the query, not in a service: a row inserted behind the API's back counts."""
    Restriction.objects.bulk_create(
        [Restriction(person=mother, reason="x", restricted_at=timezone.now(), restricted_by=dpo)]
    )
    assert api.get(f"/api/v1/goals/{records['goal'].pk}/").status_code == 404
    assert api.get(f"/api/v1/referrals/{records['referral'].pk}/").status_code == 404


@pytest.mark.parametrize(
    "url", ["/api/v1/goals/", "/api/v1/referrals/", "/api/v1/consents/", "/api/v1/conferences/"]
)
def test_restriction_costs_no_query(api, dpo, mother, records, url) -> None:  # type: ignore[no-untyped-def]
    """The restriction is a condition inside the list query: the same number of queries with and without."""
    api.get(url)
    with CaptureQueriesContext(connection) as before:
        api.get(url)
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    with CaptureQueriesContext(connection) as after:
        api.get(url)
    # never more (an emptied page may skip its prefetch)
    assert len(after.captured_queries) <= len(before.captured_queries)
    assert any("privacy_restriction" in q["sql"] for q in after.captured_queries)


def test_service_check_refuses_restricted_record(case_manager, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ObjectDoesNotExist

    policies.require_case_record(case_manager, records["goal"])
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    with pytest.raises(ObjectDoesNotExist):  # the API answers 404
        policies.require_case_record(case_manager, records["goal"])
    policies.require_case_record(case_manager, records["family_goal"])
    assert not Goal.objects.filter(
        policies.case_record_access(case_manager, Goal), pk=records["goal"].pk
    ).exists()
    assert Referral.objects.filter(policies.not_restricted(Referral)).count() == 0
    assert Consent.objects.filter(policies.not_restricted(Consent)).count() == 0


def test_every_record_linked_to_a_person_declares_its_path() -> None:
    """A new model with a foreign key to Person, or to a record linked to one, must declare its path."""
    for model in apps.get_app_config("casemgmt").get_models():
        targets = {getattr(f, "related_model", None) for f in model._meta.concrete_fields if f.is_relation}
        linked = any(
            t is Person or (t is not None and policies.person_paths().get(t._meta.label)) for t in targets
        )
        if linked:
            assert model._meta.label in policies.person_paths(), model._meta.label
            assert model._meta.label in policies.family_paths(), model._meta.label
    assert policies.person_paths().keys() == policies.family_paths().keys()


def test_services_refuse_changes_to_restricted_records(case_manager, dpo, mother, records) -> None:  # type: ignore[no-untyped-def]
    """Not only the API: a command or the shell calling the services directly is refused too."""
    from django.core.exceptions import ObjectDoesNotExist

    from casemgmt.services.consents import consent_withdraw
    from casemgmt.services.goals import goal_review_add, goal_update
    from casemgmt.services.referrals import referral_transition, referral_update

    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    goal, referral, consent = records["goal"], records["referral"], records["consent"]
    calls = [
        lambda: goal_update(goal=goal, acting_user=case_manager, description="neu"),
        lambda: goal_review_add(goal=goal, acting_user=case_manager, status="achieved"),
        lambda: referral_update(referral=referral, acting_user=case_manager, note="neu"),
        lambda: referral_transition(referral=referral, to="sent", acting_user=case_manager),
        lambda: consent_withdraw(consent=consent, acting_user=case_manager),
    ]
    for call in calls:
        with pytest.raises(ObjectDoesNotExist):
            call()
    # nor may a family-level goal be moved onto her
    from casemgmt.errors import Conflict

    with pytest.raises(Conflict):
        goal_update(goal=records["family_goal"], acting_user=case_manager, person=mother)
    goal.refresh_from_db()
    referral.refresh_from_db()
    consent.refresh_from_db()
    records["family_goal"].refresh_from_db()
    assert (goal.description, goal.status) == ("Deutsch B1", "open")
    assert (referral.status, consent.withdrawn_on, records["family_goal"].person_id) == ("draft", None, None)


def test_contact_services_refuse_a_restricted_or_foreign_member(
    case_manager, dpo, family, mother, records
) -> None:  # type: ignore[no-untyped-def]
    """From the shell as from the API: no new contact with her, none naming another family's member."""
    from casemgmt.errors import Conflict
    from casemgmt.services.contacts import contact_update
    from tests.factories import make_family

    def phone_call_with(person):  # type: ignore[no-untyped-def]
        return contact_create(
            family=family,
            person=person,
            occurred_on=TODAY,
            kind="phone",
            initiated_by="family",
            acting_user=case_manager,
        )

    stranger = make_person(make_family(case_manager, family_name="Nowak"), case_manager, given_name="Ola")
    with pytest.raises(ValidationError):
        phone_call_with(stranger)
    restriction_add(person=mother, reason="Richtigkeit bestritten", acting_user=dpo)
    with pytest.raises(Conflict):
        phone_call_with(mother)
    with pytest.raises(ObjectDoesNotExist):
        contact_update(contact=records["mother_contact"], acting_user=case_manager, notes="neu")
    with pytest.raises(Conflict):
        contact_update(contact=records["contact"], acting_user=case_manager, person=mother)
