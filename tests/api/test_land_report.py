"""The report to the Land (KIM): perturbed figures by Rechtskreis and residence category, targets."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from casemgmt.models import Person, ReportIndicator, Role
from casemgmt.services.families import family_close
from casemgmt.services.goals import goal_create
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

URL = "/api/v1/reports/land/"
INDICATORS = "/api/v1/report-indicators/"
TODAY = timezone.localdate()


@pytest.fixture
def supervisor(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.SUPERVISOR, username="sup")


@pytest.fixture
def caseload(district, town, case_manager, language):  # type: ignore[no-untyped-def]
    town_cm = make_user(town, Role.CASE_MANAGER, username="town_cm")
    for i in range(12):
        cm, org = (case_manager, district) if i % 2 else (town_cm, town)
        family = make_family(
            cm, org, family_name=f"F{i}", benefit_status_at_intake="sgb_ii" if i < 8 else "asylblg"
        )
        person = make_person(family, cm, residence_status="tolerated" if i < 6 else "settlement_permit")
        goal_create(family=family, person=person, field_of_action=language, description="B1", acting_user=cm)
        if i < 4:
            family_close(
                family=family, outcome="self_sufficient", benefit_status_at_closure="none", acting_user=cm
            )


def test_persons_recorded_before_the_category_existed_are_backfilled(caseload) -> None:  # type: ignore[no-untyped-def]
    """Migration 0017 derives the category of old rows from their encrypted status."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("casemgmt.migrations.0017_backfill_residence_category")
    expected = dict(Person.objects.values_list("pk", "residence_category"))
    with setup_writes():
        Person.objects.update(residence_category="unknown")  # as written before migration 0013
    backfill.BATCH = 1  # through the batching
    backfill.backfill(apps, None)
    assert dict(Person.objects.values_list("pk", "residence_category")) == expected


def test_residence_category_is_derived_from_the_encrypted_status(caseload) -> None:  # type: ignore[no-untyped-def]
    assert set(Person.objects.values_list("residence_category", flat=True)) == {"precarious", "secure"}


def test_report_json_csv_html(supervisor, district, caseload) -> None:  # type: ignore[no-untyped-def]
    api = client_for(supervisor)
    params = {
        "organisation": str(district.pk),
        "tree": "true",
        "from": TODAY.replace(month=1, day=1).isoformat(),
    }
    body = api.get(URL, params).json()
    assert body["includes_member_towns"] is True and len(body["organisations"]) == 2
    sections = {(t["section"], tuple(t["dimensions"])) for t in body["tables"]}
    assert ("goals", ("goal_status", "residence_category")) in sections
    assert ("cases_by_status", ("status", "rechtskreis")) in sections
    totals = {t["section"]: t for t in body["tables"]}
    new = next(r for r in totals["new_cases"]["rows"] if r["group"] == {"rechtskreis": "total"})
    assert abs(new["opened"]["value"] - 12) <= body["disclosure_control"]["max_noise"]
    # small cells are withheld, never shown
    for t in body["tables"]:
        for row in t["rows"]:
            for metric, cell in row.items():
                if metric != "group" and cell["value"] is not None:
                    assert cell["value"] >= body["threshold"]
    only_district = api.get(URL, {**params, "tree": "false"}).json()
    assert only_district["organisations"] == [district.name]
    csv = api.get(URL, {**params, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and b"rechtskreis" in csv.content
    html = api.get(URL, {**params, "format": "html"})
    assert html["Content-Type"].startswith("text/html") and "Bericht an das Land" in html.content.decode()
    for response in (csv, html):
        assert b"F1" not in response.content  # no names


def test_indicators_with_targets(supervisor, district, caseload) -> None:  # type: ignore[no-untyped-def]
    api = client_for(supervisor)
    body = {"organisation": str(district.pk), "year": TODAY.year, "code": "new_cases", "target": 10}
    assert api.post(INDICATORS, body, format="json").status_code == 201
    # setting it again replaces the target
    assert api.post(INDICATORS, {**body, "target": 5}, format="json").status_code == 201
    assert ReportIndicator.objects.get().target == 5
    report = api.get(URL, {"organisation": str(district.pk), "tree": "true"}).json()
    new = next(i for i in report["indicators"] if i["code"] == "new_cases")
    assert new["target"] == 5 and new["met"] is True
    listed = api.get(INDICATORS).json()
    assert listed["count"] == 1
    assert api.delete(f"{INDICATORS}{listed['results'][0]['id']}/").status_code == 204


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"organisation": "nope"},
        {"organisation": "{org}", "tree": "yes"},
        {"organisation": "{org}", "format": "pdf"},
        {"organisation": "{org}", "from": "2026-13-01"},
        {"organisation": "{org}", "from": "2026-05-01", "to": "2026-01-01"},
        {"organisation": "{org}", "colour": "red"},
    ],
)
def test_report_bad_input(supervisor, district, params) -> None:  # type: ignore[no-untyped-def]
    params = {k: v.replace("{org}", str(district.pk)) for k, v in params.items()}
    response = client_for(supervisor).get(URL, params)
    assert response.status_code == 400, response.content


def test_report_of_a_foreign_or_unsupervised_organisation_is_404(supervisor, other_district, town) -> None:  # type: ignore[no-untyped-def]
    api = client_for(supervisor)
    assert api.get(URL, {"organisation": str(other_district.pk)}).status_code == 404
    # a district supervisor is not the town's supervisor
    assert api.get(URL, {"organisation": str(town.pk)}).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"year": "2026"}, "year"),
        ({"year": 1800}, "year"),
        ({"target": -1}, "target"),
        ({"target": "10"}, "target"),
        ({"code": "happiness"}, "code"),
        ({"organisation": "00000000-0000-0000-0000-000000000000"}, "organisation"),
        ({"set_by": "x"}, "set_by"),
    ],
)
def test_indicator_bad_input(supervisor, district, change, field) -> None:  # type: ignore[no-untyped-def]
    body = {"organisation": str(district.pk), "year": TODAY.year, "code": "new_cases", "target": 10, **change}
    response = client_for(supervisor).post(INDICATORS, json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and field in response.content.decode(), response.content


def test_indicator_for_a_foreign_organisation(supervisor, other_district) -> None:  # type: ignore[no-untyped-def]
    body = {"organisation": str(other_district.pk), "year": TODAY.year, "code": "new_cases", "target": 10}
    assert client_for(supervisor).post(INDICATORS, body, format="json").status_code == 400
    _ = datetime
