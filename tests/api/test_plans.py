"""Integration plans over the API: versions, supervisor approval, the family's agreement, assessments."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.models import Assessment, FieldOfAction, Goal, PlanVersion, Role
from casemgmt.services.plans import assessment_create
from privacy.models import Restriction
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

TODAY = timezone.localdate()


@pytest.fixture
def scene(case_manager, district):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, district, family_name="Haddad")
    person = make_person(family, case_manager)
    supervisor = make_user(district, Role.SUPERVISOR, username="sup")
    return {"family": family, "person": person, "supervisor": supervisor}


def language() -> FieldOfAction:
    return FieldOfAction.objects.get(code="language", organisation=None)


def test_plan_version_approval_and_agreement(api, scene) -> None:  # type: ignore[no-untyped-def]
    family, person = scene["family"], scene["person"]
    plan = api.post("/api/v1/plans/", {"family": str(family.pk), "review_on": str(TODAY)}, format="json")
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    assert api.post("/api/v1/plans/", {"family": str(family.pk)}, format="json").status_code == 409
    goal = api.post(
        "/api/v1/goals/",
        {
            "family": str(family.pk),
            "field_of_action": str(language().pk),
            "description": "B1",
            "plan": plan_id,
        },
        format="json",
    )
    assert goal.status_code == 201, goal.content
    assert goal.json()["plan"] == plan_id

    version = api.post("/api/v1/plan-versions/", {"plan": plan_id, "summary": "Sprachkurs B1"}, format="json")
    assert version.status_code == 201, version.content
    body = version.json()
    assert (body["number"], body["status"], body["goal_ids"]) == (1, "draft", [goal.json()["id"]])
    # one undecided version at a time
    assert api.post("/api/v1/plan-versions/", {"plan": plan_id}, format="json").status_code == 409
    vid = body["id"]
    submitted = api.post(f"/api/v1/plan-versions/{vid}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert api.post(f"/api/v1/plan-versions/{vid}/submit/").status_code == 409

    sup = client_for(scene["supervisor"])
    listed = sup.get("/api/v1/plan-approvals/", {"status": "submitted"}).json()["results"]
    assert [v["id"] for v in listed] == [vid]
    # the supervisor's view carries no names or free text
    assert "summary" not in listed[0] and "Haddad" not in str(listed)
    assert sup.get(f"/api/v1/plan-versions/{vid}/").status_code == 403
    approved = sup.post(f"/api/v1/plan-approvals/{vid}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert sup.post(f"/api/v1/plan-approvals/{vid}/return/").status_code == 409
    # the case manager cannot approve
    assert api.post(f"/api/v1/plan-approvals/{vid}/approve/").status_code == 403

    agreed = api.post(
        f"/api/v1/plan-versions/{vid}/agreement/",
        {"agreed_on": str(TODAY), "agreed_by_person": str(person.pk)},
        format="json",
    )
    assert agreed.status_code == 200, agreed.content
    assert agreed.json()["agreed_by_person"] == str(person.pk)
    again = api.post(
        f"/api/v1/plan-versions/{vid}/agreement/",
        {"agreed_on": str(TODAY), "agreed_by_representative": "Vormund"},
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "already_agreed"
    # a second version once the first is decided
    second = api.post("/api/v1/plan-versions/", {"plan": plan_id}, format="json")
    assert second.status_code == 201 and second.json()["number"] == 2


def test_supervisor_of_another_district_cannot_approve(api, scene, other_district) -> None:  # type: ignore[no-untyped-def]
    plan_id = api.post("/api/v1/plans/", {"family": str(scene["family"].pk)}, format="json").json()["id"]
    vid = api.post("/api/v1/plan-versions/", {"plan": plan_id}, format="json").json()["id"]
    api.post(f"/api/v1/plan-versions/{vid}/submit/")
    other = client_for(make_user(other_district, Role.SUPERVISOR, username="sup_other"))
    assert other.post(f"/api/v1/plan-approvals/{vid}/approve/").status_code == 404
    assert PlanVersion.objects.get(pk=vid).status == "submitted"


def test_agreement_bad_input(api, scene, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    plan_id = api.post("/api/v1/plans/", {"family": str(scene["family"].pk)}, format="json").json()["id"]
    vid = api.post("/api/v1/plan-versions/", {"plan": plan_id}, format="json").json()["id"]
    url = f"/api/v1/plan-versions/{vid}/agreement/"
    # a draft cannot be agreed
    draft = api.post(url, {"agreed_on": str(TODAY), "agreed_by_representative": "Vormund"}, format="json")
    assert draft.status_code == 409
    api.post(f"/api/v1/plan-versions/{vid}/submit/")
    foreign = make_person(make_family(other_case_manager), other_case_manager)
    cases = [
        ({}, "agreed_on"),
        ({"agreed_on": "yesterday", "agreed_by_representative": "X"}, "agreed_on"),
        ({"agreed_on": str(TODAY)}, "agreed_by_person"),
        ({"agreed_on": str(TODAY), "agreed_by_person": str(foreign.pk)}, "agreed_by_person"),
        (
            {
                "agreed_on": str(TODAY),
                "agreed_by_person": str(scene["person"].pk),
                "agreed_by_representative": "X",
            },
            "agreed_by_person",
        ),
        (
            {"agreed_on": str(TODAY + datetime.timedelta(days=2)), "agreed_by_representative": "X"},
            "agreed_on",
        ),
        ({"agreed_on": str(TODAY), "agreed_by_representative": 5}, "agreed_by_representative"),
        ({"agreed_on": str(TODAY), "agreed_by_representative": "X", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        response = api.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in str(response.json()), (body, response.json())


def test_assessments_baseline_follow_up_and_encrypted_notes(api, scene) -> None:  # type: ignore[no-untyped-def]
    family, person = scene["family"], scene["person"]
    base = {"family": str(family.pk), "person": str(person.pk), "field_of_action": str(language().pk)}
    first = api.post(
        "/api/v1/assessments/",
        {**base, "kind": "baseline", "score": 2, "notes": "spricht kaum Deutsch", "assessed_on": str(TODAY)},
        format="json",
    )
    assert first.status_code == 201, first.content
    dup = api.post("/api/v1/assessments/", {**base, "kind": "baseline", "score": 3}, format="json")
    assert dup.status_code == 409 and dup.json()["code"] == "baseline_exists"
    follow = api.post("/api/v1/assessments/", {**base, "kind": "follow_up", "score": 4}, format="json")
    assert follow.status_code == 201
    listed = api.get("/api/v1/assessments/", {"family": str(family.pk)}).json()["results"]
    assert [a["kind"] for a in listed] == ["baseline", "follow_up"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM casemgmt_assessment")
        stored = [bytes(row[0]) for row in cursor.fetchall() if row[0] is not None]
        assert stored and all(b"Deutsch" not in value for value in stored)
    patched = api.patch(f"/api/v1/assessments/{first.json()['id']}/", {"score": 1}, format="json")
    assert patched.status_code == 200 and patched.json()["score"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "3"}, "score"),
        ({"score": 3.5}, "score"),
        ({"kind": "midterm"}, "kind"),
        ({"field_of_action": "not-a-uuid"}, "field_of_action"),
        ({"assessed_on": "2999-01-01"}, "assessed_on"),
        ({"person": "00000000-0000-0000-0000-000000000000"}, "person"),
        ({"notes": ["a"]}, "notes"),
    ],
)
def test_assessment_bad_input(api, scene, body, field) -> None:  # type: ignore[no-untyped-def]
    data = {
        "family": str(scene["family"].pk),
        "field_of_action": str(language().pk),
        "kind": "baseline",
        "score": 3,
        **body,
    }
    response = api.post("/api/v1/assessments/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_restricted_members_assessments_are_hidden(api, scene, case_manager) -> None:  # type: ignore[no-untyped-def]
    assessment = assessment_create(
        family=scene["family"],
        person=scene["person"],
        field_of_action=language(),
        kind="baseline",
        score=2,
        acting_user=case_manager,
    )
    with setup_writes("data_subject_rights"):
        Restriction.objects.create(person=scene["person"], restricted_at=timezone.now())
    assert api.get(f"/api/v1/assessments/{assessment.pk}/").status_code == 404
    assert api.get("/api/v1/assessments/").json()["results"] == []


def test_goal_cannot_link_another_familys_plan(api, scene, case_manager) -> None:  # type: ignore[no-untyped-def]
    other = make_family(case_manager)
    plan_id = api.post("/api/v1/plans/", {"family": str(other.pk)}, format="json").json()["id"]
    response = api.post(
        "/api/v1/goals/",
        {
            "family": str(scene["family"].pk),
            "field_of_action": str(language().pk),
            "description": "B1",
            "plan": plan_id,
        },
        format="json",
    )
    assert response.status_code == 400 and "plan" in response.json()["errors"]
    assert not Goal.objects.filter(family=scene["family"]).exists()
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("/api/v1/plans/", "cm"),
        ("/api/v1/plan-versions/", "cm"),
        ("/api/v1/assessments/", "cm"),
        ("/api/v1/plan-approvals/", "sup"),
    ],
)
def test_list_query_counts_do_not_grow(case_manager, scene, url, role) -> None:  # type: ignore[no-untyped-def]
    from django.test.utils import CaptureQueriesContext

    from casemgmt.services.plans import plan_create, plan_version_create, plan_version_submit
    from tests.conftest import app_queries

    def add(n: int) -> None:
        for _ in range(n):
            family = make_family(case_manager)
            plan = plan_create(family=family, acting_user=case_manager)
            plan_version_submit(
                version=plan_version_create(plan=plan, acting_user=case_manager), acting_user=case_manager
            )
            assessment_create(
                family=family, field_of_action=language(), kind="baseline", score=3, acting_user=case_manager
            )

    client = client_for(case_manager if role == "cm" else scene["supervisor"])
    add(1)
    client.get(url)  # warm up per-process caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).json()["count"] == 1
    add(4)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).json()["count"] == 5
    assert len(app_queries(large.captured_queries)) == len(app_queries(small.captured_queries))
