"""Statements per request on the hot paths (issue 17): they cannot creep back unnoticed.

``django_assert_num_queries`` counts every statement the request sends, the audit inserts
included. Writes run in the service's transaction; inside the test's own transaction that
becomes a SAVEPOINT/RELEASE pair, which in production is the BEGIN/COMMIT Django does not
log. ``HARNESS`` is that pair; the targets of the issue are the counts without it:
family detail and person search ≤ 5, goal create and referral transition ≤ 8.
The same counts hold on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.services.referrals import referral_create

TODAY = timezone.localdate()
HARNESS = 2  # SAVEPOINT + RELEASE around a service's transaction (BEGIN/COMMIT in production)

FAMILY_DETAIL = 3  # token with memberships, family, audit (read access)
# token with memberships (and so districts), index terms, candidates (whole rows: they are the page),
# audit: the terms are read on their own so that no statement scans the person table
# (bench/results/full.md)
PERSON_SEARCH = 4
GOAL_CREATE = 7  # token with memberships, family, person, field of action, access+restriction, insert, audit
# token with memberships, fetch+authorise+lock, update, audit, transition, audit, history
REFERRAL_TRANSITION = 7


def goal_body(family, mother, language) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "family": str(family.pk),
        "person": str(mother.pk),
        "field_of_action": str(language.pk),
        "description": "B1-Prüfung bestehen",
        "agreed_on": (TODAY - datetime.timedelta(days=90)).isoformat(),
        "target_date": TODAY.isoformat(),
    }


@pytest.fixture
def warm(api, family, mother, language):  # type: ignore[no-untyped-def]
    """A first request of each kind: per-process caches (content types, permission ids) are warm."""
    api.get(f"/api/v1/families/{family.pk}/")
    assert api.post("/api/v1/goals/", goal_body(family, mother, language), format="json").status_code == 201
    return api


def test_family_detail(warm, family, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(FAMILY_DETAIL):
        assert warm.get(f"/api/v1/families/{family.pk}/").status_code == 200


def test_person_search(warm, mother, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(PERSON_SEARCH):
        response = warm.get("/api/v1/persons/", {"name": "Amina Haddad"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [str(mother.pk)]
    assert response.json()["count"] == 1


def test_goal_create(warm, family, mother, language, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(GOAL_CREATE + HARNESS):
        response = warm.post("/api/v1/goals/", goal_body(family, mother, language), format="json")
    assert response.status_code == 201, response.json()
    goal = response.json()
    assert goal["field_of_action_code"] == "language" and goal["person"] == str(mother.pk)
    assert warm.get(f"/api/v1/goals/{goal['id']}/").json() == goal


def test_referral_transition(warm, mother, course, case_manager, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    referral = referral_create(person=mother, course=course, acting_user=case_manager)
    with django_assert_num_queries(REFERRAL_TRANSITION + HARNESS):
        response = warm.post(f"/api/v1/referrals/{referral.pk}/transition/", {"to": "sent"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "sent" and [t["to_status"] for t in body["transitions"]] == ["draft", "sent"]
    assert warm.get(f"/api/v1/referrals/{referral.pk}/").json() == body


def test_referral_transition_of_a_foreign_or_unknown_referral_is_404(  # type: ignore[no-untyped-def]
    warm, mother, course, case_manager, other_case_manager
) -> None:
    from tests.conftest import client_for

    referral = referral_create(person=mother, course=course, acting_user=case_manager)
    stranger = client_for(other_case_manager)
    url = f"/api/v1/referrals/{referral.pk}/transition/"
    assert stranger.post(url, {"to": "sent"}, format="json").status_code == 404
    assert (
        warm.post("/api/v1/referrals/not-a-uuid/transition/", {"to": "sent"}, format="json").status_code
        == 404
    )
    referral.refresh_from_db()
    assert referral.status == "draft"
