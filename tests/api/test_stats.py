"""Outcome statistics over the API: SQL aggregates, suppression, scope, formats, bad input."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casemgmt.models import FieldOfAction, Goal, Role
from casemgmt.services.goals import goal_create, goal_review_add
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

URL = "/api/v1/stats/outcomes/"
Q1 = datetime.date(2025, 2, 10)
Q2 = datetime.date(2025, 5, 10)


@pytest.fixture
def supervisor(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.SUPERVISOR, username="sup")


def add_goals(
    case_manager,
    n: int,
    *,
    field: str,
    agreed_on: datetime.date,
    achieved: int = 0,
    sex: str = "female",
    birth_year: int = 1985,
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, opened_on=agreed_on)
    person = make_person(family, case_manager, sex=sex, date_of_birth=datetime.date(birth_year, 1, 1))
    fa = FieldOfAction.objects.get(code=field, organisation=None)
    for i in range(n):
        goal = goal_create(
            family=family,
            person=person,
            field_of_action=fa,
            description=f"g{i}",
            agreed_on=agreed_on,
            acting_user=case_manager,
        )
        if i < achieved:
            goal_review_add(
                goal=goal,
                status="achieved",
                acting_user=case_manager,
                reviewed_on=agreed_on + datetime.timedelta(days=10 + i),
            )


def cell(body: dict, section: str, metric: str, **group: str):  # type: ignore[no-untyped-def]
    for row in body[section]["rows"]:
        if row["group"] == group:
            return row[metric]
    raise AssertionError(f"no row {group} in {section}")


def test_aggregates_and_suppression(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 8, field="language", agreed_on=Q1, achieved=6)
    add_goals(case_manager, 6, field="work", agreed_on=Q1, achieved=5)
    add_goals(case_manager, 2, field="health", agreed_on=Q1, achieved=0)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"})
        .json()
    )
    assert body["threshold"] == 5 and body["period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    assert cell(body, "goals", "agreed", field_of_action="language") == {"value": 8, "suppressed": False}
    assert cell(body, "goals", "achieved", field_of_action="language")["value"] == 6
    assert cell(body, "goals", "agreed", field_of_action="health") == {"value": None, "suppressed": True}
    # complementary: with "health" withheld, one more row is withheld so the total does not give it away
    agreed = [cell(body, "goals", "agreed", field_of_action=f) for f in ("language", "work")]
    total = cell(body, "goals", "agreed", field_of_action="total")
    assert any(c["suppressed"] for c in agreed) or total["suppressed"]
    median = cell(body, "goals", "median_days_to_achievement", field_of_action="language")
    assert median == {"value": 12.5, "suppressed": False}  # achieved after 10..15 days
    # 6 achieved of 6 finished: both counts published, so the rate is too
    assert cell(body, "goals", "achievement_rate", field_of_action="language")["value"] == 1.0


def test_recovering_a_suppressed_cell_from_totals_fails(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 9, field="language", agreed_on=Q1)
    add_goals(case_manager, 7, field="work", agreed_on=Q1)
    add_goals(case_manager, 3, field="health", agreed_on=Q1)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"})
        .json()
    )
    values = {r["group"]["field_of_action"]: r["agreed"]["value"] for r in body["goals"]["rows"]}
    assert values["health"] is None
    known = [v for k, v in values.items() if k not in ("health", "total")]
    recoverable = values["total"] is not None and all(v is not None for v in known)
    assert not recoverable, values


def test_overlapping_periods_do_not_reveal_a_quarter(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 6, field="language", agreed_on=Q1)
    add_goals(case_manager, 2, field="language", agreed_on=Q2)
    client = client_for(supervisor)
    q1 = client.get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"}).json()
    half = client.get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "field_of_action"}).json()
    assert cell(q1, "goals", "agreed", field_of_action="language")["value"] == 6
    # Q1+Q2 would be 8, and 8 - 6 = 2 for Q2: so the half-year figure is withheld
    assert cell(half, "goals", "agreed", field_of_action="language")["suppressed"] is True
    by_quarter = client.get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "quarter"}).json()
    assert cell(by_quarter, "goals", "agreed", quarter="2025-Q2")["suppressed"] is True
    assert cell(by_quarter, "goals", "agreed", quarter="total")["suppressed"] is True


def test_periods_widen_to_whole_quarters(supervisor) -> None:  # type: ignore[no-untyped-def]
    body = client_for(supervisor).get(URL, {"from": "2025-02-14", "to": "2025-05-02"}).json()
    assert body["period"] == {"from": "2025-01-01", "to": "2025-06-30"}


def test_grouping_by_age_band_and_sex(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 6, field="language", agreed_on=Q1, sex="female", birth_year=1990)
    add_goals(case_manager, 5, field="language", agreed_on=Q1, sex="male", birth_year=2012)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "age_band,sex"})
        .json()
    )
    assert cell(body, "goals", "agreed", age_band="27-44", sex="female")["value"] == 6
    assert cell(body, "goals", "agreed", age_band="6-17", sex="male")["value"] == 5
    assert body["families_opened"] == {"not_applicable": "cannot be grouped by age_band, sex"}


def test_computed_in_sql_without_decryption(case_manager, supervisor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from privacy import crypto

    add_goals(case_manager, 5, field="language", agreed_on=Q1, achieved=5)
    client = client_for(supervisor)
    params = {"from": "2025-01-01", "to": "2025-12-31", "group_by": "field_of_action,quarter"}
    with CaptureQueriesContext(connection) as small:
        client.get(URL, params)
    add_goals(case_manager, 30, field="work", agreed_on=Q2, achieved=12)

    def no_decrypt(*args: object, **kwargs: object) -> str:
        raise AssertionError("statistics decrypted a value")

    monkeypatch.setattr(crypto, "decrypt", no_decrypt)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, params)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)  # no per-row queries


def test_scope_supervisor_district_includes_towns_case_manager_only_caseload(
    district, town, case_manager
) -> None:  # type: ignore[no-untyped-def]
    town_cm = make_user(town, Role.CASE_MANAGER)
    add_goals(town_cm, 6, field="language", agreed_on=Q1)
    add_goals(case_manager, 7, field="language", agreed_on=Q1)
    params = {"from": "2025-01-01", "to": "2025-03-31", "group_by": "organisation"}
    district_sup = client_for(make_user(district, Role.SUPERVISOR))
    rows = {
        r["group"]["organisation"]: r["agreed"]["value"]
        for r in district_sup.get(URL, params).json()["goals"]["rows"]
    }
    assert rows[town.name] == 6 and rows[district.name] == 7 and rows["total"] == 13
    town_sup = client_for(make_user(town, Role.SUPERVISOR))
    rows = {r["group"]["organisation"] for r in town_sup.get(URL, params).json()["goals"]["rows"]}
    assert district.name not in rows
    own = client_for(case_manager).get(URL, {"from": "2025-01-01", "to": "2025-03-31"}).json()
    assert own["goals"]["rows"][0]["agreed"]["value"] == 7  # only the own caseload


@pytest.mark.parametrize("role", [Role.DPO, Role.ADMIN])
def test_no_statistics_for_dpo_and_admin(district, role) -> None:  # type: ignore[no-untyped-def]
    assert client_for(make_user(district, role)).get(URL).status_code == 403


def test_statistics_reads_are_audited_as_non_personal(supervisor) -> None:  # type: ignore[no-untyped-def]
    client_for(supervisor).get(URL)
    entry = AuditEntry.objects.get(activity="outcome_statistics")
    assert entry.additional_data["personal_data"] is False and entry.object_ids == []


def test_csv_and_chart(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 6, field="language", agreed_on=Q1, achieved=6)
    client = client_for(supervisor)
    response = client.get(
        URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action", "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    agreed = next(
        r for r in rows if r["section"] == "goals" and r["value_1"] == "language" and r["metric"] == "agreed"
    )
    assert agreed["value"] == "6" and agreed["suppressed"] == "False"
    chart = client.get(f"{URL}chart.svg", {"from": "2025-01-01", "to": "2025-03-31"})
    assert chart.status_code == 200 and chart["Content-Type"].startswith("image/svg+xml")
    svg = chart.content.decode()
    assert svg.startswith("<svg") and "language" in svg and "100 %" in svg


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "nationality"},
        {"group_by": "sex,quarter,age_band"},
        {"group_by": "sex,sex"},
        {"from": "2025-06-01", "to": "2025-01-01"},
        {"from": "2010-01-01", "to": "2025-01-01"},
        {"from": "soon"},
        {"format": "xlsx"},
        {"organisation": "x"},
    ],
)
def test_bad_input(supervisor, params) -> None:  # type: ignore[no-untyped-def]
    response = client_for(supervisor).get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and response.json()["errors"]


def test_goal_counts_match_database(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 12, field="work", agreed_on=Q1, achieved=7)
    body = client_for(supervisor).get(URL, {"from": "2025-01-01", "to": "2025-03-31"}).json()
    row = body["goals"]["rows"][0]
    assert row["agreed"]["value"] == Goal.objects.count() == 12
    assert row["achieved"]["value"] == 7 and row["achievement_rate"]["value"] == 1.0
