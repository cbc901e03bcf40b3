"""Bad input on the back-office, catalogue and DPO writes: 400 naming the field, nothing written."""

from __future__ import annotations

import pytest
from django.apps import apps

from casemgmt.models import Role
from tests.conftest import client_for
from tests.factories import make_family, make_user

# (role, url, body with placeholders, field named in the error, model that must not grow)
CASES = [
    (
        Role.ADMIN,
        "/api/v1/organisations/",
        {"name": "", "kind": "town", "parent": "DISTRICT"},
        "name",
        "casemgmt.Organisation",
    ),
    (
        Role.ADMIN,
        "/api/v1/organisations/",
        {"name": "X", "kind": "district", "parent": "DISTRICT"},
        "kind",
        "casemgmt.Organisation",
    ),
    (
        Role.ADMIN,
        "/api/v1/organisations/",
        {"name": "X", "kind": "town", "parent": "nope"},
        "parent",
        "casemgmt.Organisation",
    ),
    (
        Role.ADMIN,
        "/api/v1/memberships/",
        {"user": "CM", "organisation": "DISTRICT", "role": "king"},
        "role",
        "casemgmt.Membership",
    ),
    (
        Role.ADMIN,
        "/api/v1/memberships/",
        {"user": "CM", "organisation": "DISTRICT", "role": "dpo"},
        "non_field_errors",
        "casemgmt.Membership",
    ),
    (Role.CASE_MANAGER, "/api/v1/deputies/", {"deputy": "nope"}, "deputy", "casemgmt.Deputyship"),
    (Role.CASE_MANAGER, "/api/v1/deputies/", {"deputy": "CM", "extra": 1}, "extra", "casemgmt.Deputyship"),
    (Role.ADMIN, "/api/v1/providers/", {"organisation": "DISTRICT", "name": ""}, "name", "casemgmt.Provider"),
    (
        Role.ADMIN,
        "/api/v1/fields-of-action/",
        {"organisation": "DISTRICT", "code": "Not A Code", "name": "x"},
        "code",
        "casemgmt.FieldOfAction",
    ),
    (
        Role.DPO,
        "/api/v1/privacy/families/FAMILY/legal-hold/",
        {"until": "2000-01-01", "reason": "Klage"},
        "until",
        None,
    ),
    (Role.DPO, "/api/v1/privacy/families/FAMILY/legal-hold/", {"until": "2030-01-01"}, "reason", None),
]


@pytest.mark.parametrize(("role", "url", "body", "field", "model"), CASES)
def test_rejected(district, case_manager, role, url, body, field, model) -> None:  # type: ignore[no-untyped-def]
    user = case_manager if role == Role.CASE_MANAGER else make_user(district, role)
    family = make_family(case_manager)
    names = {"DISTRICT": str(district.pk), "CM": str(case_manager.pk), "FAMILY": str(family.pk)}
    data = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    counted = apps.get_model(model) if model else None
    before = counted.objects.count() if counted else None
    response = client_for(user).post(url.replace("FAMILY", str(family.pk)), data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    if counted:
        assert counted.objects.count() == before
    else:
        family.refresh_from_db()
        assert family.legal_hold_until is None
