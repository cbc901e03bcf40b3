"""Art. 16 rectification trail, Art. 19 recipients to inform, Art. 21 objections."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt.models import Role
from casemgmt.services import catalogue
from casemgmt.services.referrals import referral_create, referral_transition
from privacy.models import Objection, RecipientNotice, Rectification, Restriction
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user
from tests.privacy.test_rights import export_url

TODAY = timezone.localdate()


def rectifications(person) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/privacy/subjects/{person.pk}/rectifications/"


@pytest.fixture
def referred(household, case_manager, district):  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN, username="admin")
    provider = catalogue.provider_create(organisation=district, name="VHS Musterstadt", acting_user=admin)
    course = catalogue.course_create(
        provider=provider,
        title="Integrationskurs",
        course_type="integration_course",
        starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=90),
        capacity=10,
        acting_user=admin,
    )
    referral = referral_create(person=household[1], course=course, acting_user=case_manager)
    referral_transition(referral=referral, to="sent", acting_user=case_manager)
    return household


def test_rectification_keeps_previous_value_encrypted_and_lists_recipients(dpo, referred) -> None:  # type: ignore[no-untyped-def]
    mother = referred[1]
    client = client_for(dpo)
    response = client.post(
        rectifications(mother),
        {"field": "given_name", "value": "Olha", "reason": "Schreibweise laut Pass"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["previous_value"] == "Olena"
    mother.refresh_from_db()
    assert mother.given_name == "Olha"
    with connection.cursor() as cursor:
        cursor.execute("SELECT previous_value, reason FROM privacy_rectification")
        raw = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert "Olena" not in raw and "Pass" not in raw
    assert [r["previous_value"] for r in client.get(rectifications(mother)).json()] == ["Olena"]
    export = client.get(export_url(mother)).json()
    assert export["rectifications"][0]["previous_value"] == "Olena"
    html = client.get(export_url(mother), {"format": "html", "lang": "de"}).content.decode()
    assert "Berichtigungen (Art. 16)" in html and "Vorname" in html
    # Art. 19: the provider that received the referral is to be informed
    notices = client.get("/api/v1/privacy/recipient-notices/", {"person": str(mother.pk)}).json()["results"]
    assert [(n["recipient_name"], n["cause"], n["informed_at"]) for n in notices] == [
        ("VHS Musterstadt", "rectification", None)
    ]
    marked = client.post(f"/api/v1/privacy/recipient-notices/{notices[0]['id']}/informed/")
    assert marked.status_code == 200 and marked.json()["informed_at"]
    again = client.post(f"/api/v1/privacy/recipient-notices/{notices[0]['id']}/informed/")
    assert again.status_code == 409


def test_restriction_lists_recipients_to_inform(dpo, referred) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    client.post(
        f"/api/v1/privacy/subjects/{referred[1].pk}/restriction/", {"reason": "bestritten"}, format="json"
    )
    assert list(RecipientNotice.objects.values_list("cause", "recipient_kind")) == [
        ("restriction", "course_provider")
    ]


def test_erasure_lists_recipients_to_inform_and_keeps_the_list(dpo, case_manager, referred) -> None:  # type: ignore[no-untyped-def]
    """Art. 19 after Art. 17: the provider that received the mother's referral is on the DPO's
    list, written after erasure so that the erasure does not clear the list itself."""
    from tests.privacy.test_rights import close, erase

    family, mother, son = referred
    referral = mother.referrals.get()
    referral_transition(referral=referral, to="declined", acting_user=case_manager)
    close(family, case_manager)
    client = client_for(dpo)
    response = erase(client, person=str(mother.pk), dry_run=True)
    assert response.status_code == 200 and not RecipientNotice.objects.exists()  # a preview tells nobody
    response = erase(client, person=str(mother.pk), dry_run=False)
    assert response.status_code == 201, response.content
    assert response.json()["summary"]["recipients_to_inform"] == 1
    notices = client.get("/api/v1/privacy/recipient-notices/", {"person": str(mother.pk)}).json()["results"]
    assert [(n["recipient_name"], n["cause"], n["received_via"]) for n in notices] == [
        ("VHS Musterstadt", "erasure", "referral")
    ]
    # the son received nothing: erasing him adds no notice
    assert erase(client, person=str(son.pk), dry_run=False).json()["summary"]["recipients_to_inform"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"field": "role", "value": "child", "reason": "x"},
        {"field": "given_name", "value": "Olena", "reason": "same"},
        {"field": "date_of_birth", "value": "gestern", "reason": "x"},
        {"field": "sex", "value": "robot", "reason": "x"},
        {"field": "given_name", "value": "Olha", "reason": ""},
        {"field": "given_name", "value": 5, "reason": "x"},
        {"field": "given_name", "value": "Olha", "reason": "x", "extra": 1},
    ],
)
def test_rectification_bad_input(dpo, household, body) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).post(rectifications(household[1]), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert not Rectification.objects.exists()


def test_date_of_birth_rectification_updates_birth_year(dpo, household) -> None:  # type: ignore[no-untyped-def]
    son = household[2]
    response = client_for(dpo).post(
        rectifications(son),
        {"field": "date_of_birth", "value": "2013-05-01", "reason": "Urkunde"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["previous_value"] == "2012-05-01"
    son.refresh_from_db()
    assert son.birth_year == 2013


def test_objection_with_decision(dpo, household) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    mother = household[1]
    created = client.post(
        "/api/v1/privacy/objections/",
        {"person": str(mother.pk), "reason": "Besondere Situation"},
        format="json",
    )
    assert created.status_code == 201, created.content
    duplicate = client.post(
        "/api/v1/privacy/objections/", {"person": str(mother.pk), "reason": "nochmal"}, format="json"
    )
    assert duplicate.status_code == 409
    url = f"/api/v1/privacy/objections/{created.json()['id']}/decision/"
    assert client.post(url, {"decision": "pending", "reason": "x"}, format="json").status_code == 400
    assert client.post(url, {"decision": "upheld", "reason": ""}, format="json").status_code == 400
    decided = client.post(url, {"decision": "upheld", "reason": "Schutzwürdige Gründe"}, format="json")
    assert decided.status_code == 200 and decided.json()["decision"] == "upheld"
    assert Restriction.objects.filter(person=mother, lifted_at__isnull=True).exists()
    assert client.post(url, {"decision": "rejected", "reason": "x"}, format="json").status_code == 409
    export = client.get(export_url(mother)).json()
    assert export["status"]["restricted"] and export["status"]["objections"][0]["decision"] == "upheld"
    html = client.get(export_url(mother), {"format": "html", "lang": "de"}).content.decode()
    assert "stattgegeben" in html


def test_other_tenants_requests_are_404(dpo, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.rights import objection_add

    foreign = make_person(make_family(other_case_manager), other_case_manager)
    other_dpo = make_user(foreign.family.organisation, Role.DPO, username="other-dpo")
    objection = objection_add(person=foreign, reason="x", acting_user=other_dpo)
    client = client_for(dpo)
    assert client.get(rectifications(foreign)).status_code == 404
    assert client.get(f"/api/v1/privacy/objections/{objection.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/privacy/objections/{objection.pk}/decision/",
            {"decision": "upheld", "reason": "x"},
            format="json",
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/privacy/objections/", {"person": str(foreign.pk), "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    assert Objection.objects.get().decision == "pending"
