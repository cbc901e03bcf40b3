"""Art. 33: the breach register and the affected persons of an incident window from the audit log."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.models import Role
from privacy.models import AuditEntry, Breach
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

BREACHES = "/api/v1/privacy/breaches/"


def window(start: datetime.datetime, end: datetime.datetime, org) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {
        "organisation": str(org.pk),
        "description": "Laptop mit Zugang im Zug verloren",
        "occurred_from": start.isoformat(),
        "occurred_to": end.isoformat(),
        "discovered_at": end.isoformat(),
        "categories": ["identification", "case_notes"],
        "approximate_persons": 12,
        "measures": "Token widerrufen, Passwort zurückgesetzt",
    }


def test_breach_register_and_affected_persons(dpo, district, case_manager) -> None:  # type: ignore[no-untyped-def]
    before = timezone.now() - datetime.timedelta(hours=2)
    family = make_family(case_manager, family_name="Nowak")
    mother = make_person(family, case_manager, given_name="Anna")
    son = make_person(family, case_manager, given_name="Piotr", role="child")
    untouched = make_person(make_family(case_manager, family_name="Ruhig"), case_manager)
    start = timezone.now()
    client_for(case_manager).get(f"/api/v1/persons/{mother.pk}/")
    end = timezone.now() + datetime.timedelta(seconds=1)
    client = client_for(dpo)
    created = client.post(BREACHES, window(start, end, district), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["categories"] == ["identification", "case_notes"] and body["approximate_persons"] == 12
    assert client.get(BREACHES).json()["results"][0]["id"] == body["id"]
    affected = client.get(f"{BREACHES}{body['id']}/affected/", {"lang": "de"}).json()
    ids = {p["id"] for p in affected["persons"]}
    assert str(mother.pk) in ids and str(untouched.pk) not in ids and str(son.pk) not in ids
    assert affected["complete"] and affected["entries"] >= 1
    assert {c["label"] for c in affected["categories"]} >= {"Identifikationsdaten (Namen)"}
    # the same question for an earlier window finds nobody
    earlier = client.post(
        BREACHES, window(before, before + datetime.timedelta(minutes=1), district), format="json"
    )
    assert client.get(f"{BREACHES}{earlier.json()['id']}/affected/").json()["persons"] == []
    # listing affected persons is itself on the trail
    assert AuditEntry.objects.filter(activity="audit_logging", action=AuditEntry.Action.ACCESS).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"categories": ["horoscope"]},
        {"occurred_to": "2020-01-01T00:00:00Z"},
        {"approximate_persons": -1},
        {"description": ""},
        {"discovered_at": "gestern"},
        {"colour": "red"},
        {"approximate_persons": "12"},
    ],
)
def test_breach_bad_input(dpo, district, change) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    body = {**window(now - datetime.timedelta(hours=1), now, district), **change}
    response = client_for(dpo).post(BREACHES, body, format="json")
    assert response.status_code == 400, response.content
    assert not Breach.objects.exists()


def test_other_tenants_breaches_are_404(dpo, other_district) -> None:  # type: ignore[no-untyped-def]
    from privacy.breaches import breach_record

    other_dpo = make_user(other_district, Role.DPO, username="other-dpo")
    now = timezone.now()
    breach = breach_record(
        organisation=other_district,
        acting_user=other_dpo,
        description="x",
        occurred_from=now,
        occurred_to=now,
        discovered_at=now,
    )
    client = client_for(dpo)
    assert client.get(f"{BREACHES}{breach.pk}/").status_code == 404
    assert client.get(f"{BREACHES}{breach.pk}/affected/").status_code == 404
    assert client.post(BREACHES, window(now, now, other_district), format="json").status_code == 404
    assert client.get(BREACHES).json()["results"] == []
