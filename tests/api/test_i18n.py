"""German API texts with ``Accept-Language: de``, English otherwise; error codes never change."""

from __future__ import annotations

import pytest

from casemgmt.models import Role
from casemgmt.services.plans import plan_create
from tests.conftest import client_for
from tests.factories import make_family, make_user

DE = {"HTTP_ACCEPT_LANGUAGE": "de"}


@pytest.mark.parametrize(
    ("headers", "detail", "required"),
    [
        ({}, "Invalid input.", "This field is required."),
        (DE, "Ungültige Eingabe.", "Dieses Feld ist zwingend erforderlich."),
        ({"HTTP_ACCEPT_LANGUAGE": "fr"}, "Invalid input.", "This field is required."),
    ],
)
def test_validation_errors_translate_their_details_not_their_codes(api, headers, detail, required) -> None:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/assessments/", {"score": "3", "extra": 1}, format="json", **headers)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", detail)
    assert body["errors"]["family"] == [{"code": "required", "message": required}]
    assert body["errors"]["extra"][0]["code"] == "unknown_field"
    assert body["errors"]["score"][0]["code"] == "invalid"


def test_conflicts_and_role_refusals_in_german(api, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    plan_create(family=family, acting_user=case_manager)
    response = api.post("/api/v1/plans/", {"family": str(family.pk)}, format="json", **DE)
    assert response.status_code == 409
    assert response.json() == {
        "code": "plan_exists",
        "detail": "Diese Familie hat bereits einen Integrationsplan.",
    }
    supervisor = client_for(make_user(district, Role.SUPERVISOR))
    refused = supervisor.get("/api/v1/goals/", **DE).json()
    assert refused["detail"] == "Nur Fallmanager/innen arbeiten mit Fallinhalten."
    assert refused["code"] == "permission_denied"
    assert supervisor.get("/api/v1/goals/").json()["detail"] == "Only case managers work with case content."
    missing = api.get("/api/v1/goals/00000000-0000-0000-0000-000000000000/", **DE).json()
    assert missing["code"] == "not_found" and missing["detail"] != "Not found."


def test_choice_labels_in_german(api) -> None:  # type: ignore[no-untyped-def]
    def labels(**headers: str) -> dict[str, str]:
        body = api.options("/api/v1/assessments/", **headers).json()
        return {c["value"]: c["display_name"] for c in body["actions"]["POST"]["kind"]["choices"]}

    assert labels() == {"baseline": "Baseline at intake", "follow_up": "Follow-up"}
    assert labels(**DE) == {"baseline": "Ersteinschätzung bei Aufnahme", "follow_up": "Folgeeinschätzung"}
    goal_status = api.options("/api/v1/contacts/", **DE).json()["actions"]["POST"]["kind"]["choices"]
    assert {"value": "home_visit", "display_name": "Hausbesuch"} in goal_status
