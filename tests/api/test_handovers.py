"""Handover inside the district tree: offer, accept/decline/withdraw, expiry, what each side sees."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from casemgmt.models import DuplicateReview, Family, Handover, Role
from casemgmt.selectors.families import families_visible_to
from casemgmt.services.consents import consent_create
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

URL = "/api/v1/handovers/"


@pytest.fixture
def scene(district, town, case_manager):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, district, family_name="Haddad")
    mother = make_person(
        family,
        case_manager,
        given_name="Amina",
        family_name="Haddad",
        date_of_birth=datetime.date(1985, 3, 1),
    )
    consent = consent_create(
        family=family,
        person=mother,
        recipient="integration_management",
        purpose="Übergabe an die Stadt",
        given_on=timezone.localdate(),
        acting_user=case_manager,
    )
    town_sup = make_user(town, Role.SUPERVISOR, username="town_sup")
    town_cm = make_user(town, Role.CASE_MANAGER, username="town_cm")
    return {"family": family, "mother": mother, "consent": consent, "town_sup": town_sup, "town_cm": town_cm}


def _offer(api, scene, town, **extra):  # type: ignore[no-untyped-def]
    body = {
        "family": str(scene["family"].pk),
        "to_organisation": str(town.pk),
        "reason": "moved",
        "legal_basis": "consent",
        "consent": str(scene["consent"].pk),
        "note": "Familie Haddad zieht nach Beispielstadt",
        **extra,
    }
    return api.post(URL, json.dumps(body), content_type="application/json")


def test_offer_and_accept_moves_the_case(api, scene, town, case_manager) -> None:  # type: ignore[no-untyped-def]
    response = _offer(api, scene, town)
    assert response.status_code == 201, response.content
    offer = response.json()
    assert offer["side"] == "case" and offer["status"] == "offered"
    assert offer["note"].startswith("Familie Haddad")

    receiver = client_for(scene["town_sup"])
    seen = receiver.get(f"{URL}{offer['id']}/").json()
    # Before acceptance the receiver sees the offer only: no family, no note, no consent.
    assert seen["side"] == "receiver"
    assert seen["family"] is None and seen["note"] is None and seen["consent"] is None
    assert seen["household_size"] == 1 and seen["reason"] == "moved"
    assert b"Haddad" not in receiver.get(URL).content
    assert not families_visible_to(scene["town_sup"]).exists()

    accepted = receiver.post(
        f"{URL}{offer['id']}/accept/",
        json.dumps({"case_manager": str(scene["town_cm"].pk)}),
        content_type="application/json",
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    family = Family.objects.get(pk=scene["family"].pk)
    assert family.organisation_id == town.pk and family.case_manager == scene["town_cm"]
    assert family.reference.startswith("BS-")
    # the old case manager lost the case; the new one has it
    assert client_for(case_manager).get(f"/api/v1/families/{family.pk}/").status_code == 404
    assert client_for(scene["town_cm"]).get(f"/api/v1/families/{family.pk}/").status_code == 200
    # the audit shows the handover with its legal basis
    from django.contrib.contenttypes.models import ContentType

    entries = (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Handover), object_pk=offer["id"]
        )
        .exclude(action=AuditEntry.Action.ACCESS)
        .order_by("pk")
    )
    assert [e.actor for e in entries] == [case_manager, scene["town_sup"]]
    assert "accepted" in json.dumps(entries.last().changes)
    assert all(e.activity == "case_management" for e in entries)
    assert "Haddad" not in json.dumps([e.changes for e in entries])


def test_decline_leaves_the_case(api, scene, town, case_manager) -> None:  # type: ignore[no-untyped-def]
    offer = _offer(api, scene, town).json()
    receiver = client_for(scene["town_sup"])
    assert receiver.post(f"{URL}{offer['id']}/decline/").status_code == 200
    family = Family.objects.get(pk=scene["family"].pk)
    assert family.organisation_id != town.pk and family.case_manager == case_manager
    # decided: no second decision
    again = receiver.post(
        f"{URL}{offer['id']}/accept/",
        json.dumps({"case_manager": str(scene["town_cm"].pk)}),
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "decided"


def test_expired_offer_cannot_be_accepted(api, scene, town) -> None:  # type: ignore[no-untyped-def]
    offer = _offer(api, scene, town).json()
    with setup_writes("case_management"):
        Handover.objects.filter(pk=offer["id"]).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    receiver = client_for(scene["town_sup"])
    assert receiver.get(f"{URL}{offer['id']}/").json()["status"] == "expired"
    response = receiver.post(
        f"{URL}{offer['id']}/accept/",
        json.dumps({"case_manager": str(scene["town_cm"].pk)}),
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["code"] == "expired"
    assert receiver.post(f"{URL}{offer['id']}/decline/").status_code == 409
    # a new offer can be made once the old one lapsed
    assert _offer(api, scene, town).status_code == 201


def test_withdraw(api, scene, town) -> None:  # type: ignore[no-untyped-def]
    offer = _offer(api, scene, town).json()
    assert api.post(f"{URL}{offer['id']}/withdraw/").status_code == 200
    assert client_for(scene["town_sup"]).get(f"{URL}{offer['id']}/").json()["status"] == "withdrawn"
    assert api.post(f"{URL}{offer['id']}/withdraw/").status_code == 409


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"to_organisation": "not-a-uuid"}, "to_organisation", None),
        ({"to_organisation": 5}, "to_organisation", None),
        ({"reason": "bored"}, "reason", "invalid_choice"),
        ({"legal_basis": 1}, "legal_basis", "invalid_choice"),
        ({"consent": None}, "consent", "required"),
        ({"note": 5}, "note", "invalid"),
        ({"note": "x" * 2001}, "note", "max_length"),
        ({"family": "00000000-0000-0000-0000-000000000000"}, "family", "does_not_exist"),
        ({"unknown": 1}, "unknown", "unknown_field"),
    ],
)
def test_offer_bad_input(api, scene, town, change, field, code) -> None:  # type: ignore[no-untyped-def]
    response = _offer(api, scene, town, **change)
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"] if "errors" in body else field in json.dumps(body), body
    if code:
        assert code in json.dumps(body)
    assert not Handover.objects.exists()


def test_offer_outside_the_tree_or_foreign_ids(api, scene, town, other_district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    # another district's organisation: the same answer as a typo
    response = _offer(api, scene, town, to_organisation=str(other_district.pk))
    assert response.status_code == 400 and "does_not_exist" in response.content.decode()
    # own organisation
    response = _offer(api, scene, town, to_organisation=str(scene["family"].organisation_id))
    assert response.status_code == 400
    # another district's family and consent are not found
    foreign = make_family(other_case_manager, other_district)
    assert _offer(api, scene, town, family=str(foreign.pk)).status_code == 400
    foreign_consent = consent_create(
        family=foreign,
        recipient="other",
        purpose="x",
        given_by_representative="Vormund",
        given_on=timezone.localdate(),
        acting_user=other_case_manager,
    )
    assert _offer(api, scene, town, consent=str(foreign_consent.pk)).status_code == 400
    # a consent to the jobcenter does not cover a handover
    jobcenter = consent_create(
        family=scene["family"],
        person=scene["mother"],
        recipient="jobcenter",
        purpose="Arbeit",
        given_on=timezone.localdate(),
        acting_user=scene["family"].case_manager,
    )
    response = _offer(api, scene, town, consent=str(jobcenter.pk))
    assert response.status_code == 400 and "not_covering" in response.content.decode()
    # one member's consent does not hand over the household: the son's data would go too
    make_person(scene["family"], scene["family"].case_manager, given_name="Omar", role="child")
    response = _offer(api, scene, town)
    assert response.status_code == 400 and "not_covering" in response.content.decode()
    assert not Handover.objects.filter(family=scene["family"]).exists()
    # statutory basis needs no consent
    assert _offer(api, scene, town, legal_basis="statutory_task", consent=None).status_code == 201
    # one open offer per family
    response = _offer(api, scene, town, legal_basis="statutory_task", consent=None)
    assert response.status_code == 409 and response.json()["code"] == "already_offered"


def test_accept_bad_input(api, scene, town, case_manager, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    offer = _offer(api, scene, town).json()
    receiver = client_for(scene["town_sup"])
    url = f"{URL}{offer['id']}/accept/"
    for body in (
        {},
        {"case_manager": 5},
        {"case_manager": "nope"},
        {"case_manager": str(case_manager.pk)},
        {"case_manager": str(other_case_manager.pk)},
        {"case_manager": str(scene["town_sup"].pk)},
    ):
        response = receiver.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert Handover.objects.get().status == "offered"
    # the sending side's supervisor cannot accept on the receiver's behalf
    sender_sup = make_user(scene["family"].organisation, Role.SUPERVISOR, username="sender_sup")
    response = client_for(sender_sup).post(
        url, json.dumps({"case_manager": str(scene["town_cm"].pk)}), content_type="application/json"
    )
    assert response.status_code == 404
    assert client_for(sender_sup).get(f"{URL}{offer['id']}/").json()["note"] is None


def test_accept_records_duplicates_across_the_tree_for_review(api, scene, town) -> None:  # type: ignore[no-untyped-def]
    # the same mother is already known in the town
    existing = make_family(scene["town_cm"], town, family_name="Haddad")
    make_person(
        existing,
        scene["town_cm"],
        given_name="Amina",
        family_name="Haddad",
        date_of_birth=datetime.date(1985, 3, 1),
    )
    offer = _offer(api, scene, town).json()
    receiver = client_for(scene["town_sup"])
    response = receiver.post(
        f"{URL}{offer['id']}/accept/",
        json.dumps({"case_manager": str(scene["town_cm"].pk)}),
        content_type="application/json",
    )
    assert response.status_code == 200
    review = DuplicateReview.objects.get(person=scene["mother"])
    assert review.organisation_id == town.pk and review.match == "exact"
    # the requester (the sending case manager) learns nothing of it
    assert b"possible_duplicate" not in response.content


def test_nightly_run_marks_lapsed_offers_expired(api, scene, town) -> None:  # type: ignore[no-untyped-def]
    from privacy.jobs import run_retention

    offer = _offer(api, scene, town).json()
    with setup_writes("case_management"):
        Handover.objects.filter(pk=offer["id"]).update(
            expires_at=timezone.now() - datetime.timedelta(hours=1)
        )
    assert run_retention.call()["handovers_expired"] == 1
    assert Handover.objects.get(pk=offer["id"]).status == "expired"
