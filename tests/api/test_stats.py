"""Outcome statistics over the API: SQL aggregates, cell key perturbation, scope, formats, bad input."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casemgmt.models import FieldOfAction, Goal, Role
from casemgmt.services.goals import goal_create, goal_review_add
from privacy import perturbation
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

#: The configured bound of the noise (STATS_MAX_NOISE).
D = settings.STATS_MAX_NOISE
URL = "/api/v1/stats/outcomes/"
#: Statistics requests: token with the roles (1: no scan of the user's other tokens), organisations,
#: fields of action, goals (with the medians' histogram), assessment changes, referrals,
#: families opened, closed, contacts (+ one UNION ALL for the distinct families' margins),
#: conferences, the access audit entry (one INSERT).
QUERIES = 13
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


def near(published: dict, true: int) -> bool:
    """A published count is its true count plus at most the maximum noise."""
    return published["value"] is not None and abs(published["value"] - true) <= D


def test_counts_are_perturbed_within_bounds_and_small_counts_withheld(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 8, field="language", agreed_on=Q1, achieved=6)
    add_goals(case_manager, 6, field="work", agreed_on=Q1, achieved=5)
    add_goals(case_manager, 2, field="health", agreed_on=Q1, achieved=0)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"})
        .json()
    )
    assert body["threshold"] == 5 and body["period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    control = body["disclosure_control"]
    assert control["perturbed"] is True and control["max_noise"] == D and f"±{D}" in control["note"]
    assert near(cell(body, "goals", "agreed", field_of_action="language"), 8)
    assert near(cell(body, "goals", "agreed", field_of_action="total"), 16)
    assert cell(body, "goals", "agreed", field_of_action="health") == {"value": None, "suppressed": True}
    # A true zero looks like any small count: withheld, never published as 0.
    assert cell(body, "goals", "achieved", field_of_action="health") == {"value": None, "suppressed": True}
    assert cell(body, "goals", "agreed", field_of_action="housing") == {"value": None, "suppressed": True}
    # Medians only for cells of 20 or more: these are smaller.
    median = cell(body, "goals", "median_days_to_achievement", field_of_action="language")
    assert median == {"value": None, "suppressed": True}


def _key_sum(goals) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Count and record-key sum read straight from the table (the attacker's view of a dump)."""
    return goals.count(), sum(goals.values_list("record_key", flat=True))


def test_published_value_is_the_table_lookup_of_count_and_cell_key(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 9, field="language", agreed_on=Q1, achieved=7)
    add_goals(case_manager, 11, field="work", agreed_on=Q2, achieved=3)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "quarter"})
        .json()
    )
    table = perturbation.table()
    for quarter, goals in (
        ("2025-Q1", Goal.objects.filter(agreed_on=Q1)),
        ("2025-Q2", Goal.objects.filter(agreed_on=Q2)),
        ("total", Goal.objects.all()),
    ):
        n, key = _key_sum(goals)
        assert cell(body, "goals", "agreed", quarter=quarter)["value"] == table.publish(n, key)
        n, key = _key_sum(goals.filter(status="achieved"))
        assert cell(body, "goals", "achieved", quarter=quarter)["value"] == table.publish(n, key)
    # Attack the promise: another record key changes the cell key, and so (for some key) the value.
    goal = Goal.objects.filter(agreed_on=Q1).first()
    n, key = _key_sum(Goal.objects.filter(agreed_on=Q1))
    shifted = next(
        k
        for k in range(0, perturbation.RECORD_KEY_MODULUS, 2**21)
        if table.noise(n, key - goal.record_key + k) != table.noise(n, key)
    )
    Goal.objects.filter(pk=goal.pk).update(record_key=shifted)
    again = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "quarter"})
        .json()
    )
    assert cell(again, "goals", "agreed", quarter="2025-Q1") != cell(
        body, "goals", "agreed", quarter="2025-Q1"
    )


def test_same_records_same_value_in_every_table_period_and_repeat(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 13, field="language", agreed_on=Q1, achieved=6)
    client = client_for(supervisor)
    seen = set()
    for params in (
        {"from": "2025-01-01", "to": "2025-03-31"},
        {"from": "2025-01-01", "to": "2025-06-30"},  # Q2 is empty: the same 13 goals
        {"from": "2024-10-01", "to": "2025-03-31"},
        {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"},
        {"from": "2025-01-01", "to": "2025-12-31", "group_by": "sex,quarter"},
        {"from": "2025-01-01", "to": "2025-03-31", "group_by": "age_band"},
    ):
        for _repeat in range(2):
            rows = client.get(URL, params).json()["goals"]["rows"]
            # every cell, margin or total that holds exactly these 13 goals
            seen |= {r["agreed"]["value"] for r in rows if r["agreed"]["value"] is not None}
    assert len(seen) == 1 and abs(seen.pop() - 13) <= D


def test_record_keys_are_random_and_fixed_at_creation(case_manager) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 20, field="language", agreed_on=Q1)
    keys = list(Goal.objects.values_list("record_key", flat=True))
    assert len(set(keys)) == 20 and all(0 <= k < perturbation.RECORD_KEY_MODULUS for k in keys)
    goal = Goal.objects.first()
    before = goal.record_key
    goal_review_add(goal=goal, status="achieved", acting_user=case_manager, reviewed_on=Q1)
    goal.refresh_from_db()
    assert goal.record_key == before  # updates never redraw it


def test_zeros_are_listed_and_withheld_like_small_counts(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 12, field="language", agreed_on=Q1, sex="female")
    body = (
        client_for(supervisor).get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "sex"}).json()
    )
    sexes = {r["group"]["sex"]: r["agreed"] for r in body["goals"]["rows"]}
    # every category is listed, so an absent row never says "nobody": men, empty, are withheld
    assert set(sexes) >= {"female", "male", "diverse", "unspecified", "unknown", "total"}
    assert sexes["male"] == {"value": None, "suppressed": True}
    assert near(sexes["female"], 12)
    quarters = client_for(supervisor).get(
        URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "quarter"}
    )
    assert cell(quarters.json(), "goals", "agreed", quarter="2025-Q2") == {"value": None, "suppressed": True}


def test_medians_only_for_large_cells(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 30, field="language", agreed_on=Q1, achieved=30)
    add_goals(case_manager, 8, field="work", agreed_on=Q1, achieved=8)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action"})
        .json()
    )
    median = cell(body, "goals", "median_days_to_achievement", field_of_action="language")
    assert median == {"value": 24.5, "suppressed": False}  # achieved after 10..39 days
    assert cell(body, "goals", "median_days_to_achievement", field_of_action="work")["suppressed"] is True
    rate = cell(body, "goals", "achievement_rate", field_of_action="language")
    achieved = cell(body, "goals", "achieved", field_of_action="language")["value"]
    finished = cell(body, "goals", "finished", field_of_action="language")["value"]
    assert rate["value"] == round(min(achieved / finished, 1.0), 3)  # from the perturbed counts


def test_overlapping_periods_publish_each_period_perturbed(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 6, field="language", agreed_on=Q1)
    add_goals(case_manager, 2, field="language", agreed_on=Q2)
    client = client_for(supervisor)
    by_quarter = client.get(URL, {"from": "2025-01-01", "to": "2025-06-30", "group_by": "quarter"}).json()
    assert cell(by_quarter, "goals", "agreed", quarter="2025-Q2")["suppressed"] is True
    # Q1 and the half year are different sets of goals: each is perturbed on its own, so
    # their difference is 2 plus up to ±4 of noise, not the withheld count.
    q1 = cell(by_quarter, "goals", "agreed", quarter="2025-Q1")
    half = cell(by_quarter, "goals", "agreed", quarter="total")
    assert q1["value"] is None or near(q1, 6)
    assert half["value"] is None or near(half, 8)


def test_periods_widen_to_whole_quarters(supervisor) -> None:  # type: ignore[no-untyped-def]
    body = client_for(supervisor).get(URL, {"from": "2025-02-14", "to": "2025-05-02"}).json()
    assert body["period"] == {"from": "2025-01-01", "to": "2025-06-30"}


def test_grouping_by_age_band_and_sex(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 9, field="language", agreed_on=Q1, sex="female", birth_year=1990)
    add_goals(case_manager, 8, field="language", agreed_on=Q1, sex="male", birth_year=2012)
    body = (
        client_for(supervisor)
        .get(URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "age_band,sex"})
        .json()
    )
    assert near(cell(body, "goals", "agreed", age_band="27-44", sex="female"), 9)
    assert near(cell(body, "goals", "agreed", age_band="6-17", sex="male"), 8)
    assert body["families_opened"] == {"not_applicable": "cannot be grouped by age_band, sex"}


def test_computed_in_sql_without_decryption(case_manager, supervisor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from privacy.cipher import crypto

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
    add_goals(town_cm, 9, field="language", agreed_on=Q1)
    add_goals(case_manager, 10, field="language", agreed_on=Q1)
    params = {"from": "2025-01-01", "to": "2025-03-31", "group_by": "organisation"}
    district_sup = client_for(make_user(district, Role.SUPERVISOR))
    rows = {
        r["group"]["organisation"]: r["agreed"]["value"]
        for r in district_sup.get(URL, params).json()["goals"]["rows"]
    }
    assert (
        abs(rows[town.name] - 9) <= D and abs(rows[district.name] - 10) <= D and abs(rows["total"] - 19) <= D
    )
    town_sup = client_for(make_user(town, Role.SUPERVISOR))
    rows = {r["group"]["organisation"] for r in town_sup.get(URL, params).json()["goals"]["rows"]}
    assert district.name not in rows
    own = client_for(case_manager).get(URL, {"from": "2025-01-01", "to": "2025-03-31"}).json()
    assert abs(own["goals"]["rows"][0]["agreed"]["value"] - 10) <= D  # only the own caseload


@pytest.mark.parametrize("role", [Role.DPO, Role.ADMIN])
def test_no_statistics_for_dpo_and_admin(district, role) -> None:  # type: ignore[no-untyped-def]
    assert client_for(make_user(district, role)).get(URL).status_code == 403


def test_statistics_reads_are_audited_as_non_personal(supervisor) -> None:  # type: ignore[no-untyped-def]
    client_for(supervisor).get(URL)
    entry = AuditEntry.objects.get(activity="outcome_statistics")
    assert entry.additional_data["personal_data"] is False and entry.object_ids == []


def test_csv_and_chart(case_manager, supervisor) -> None:  # type: ignore[no-untyped-def]
    add_goals(case_manager, 12, field="language", agreed_on=Q1, achieved=12)
    client = client_for(supervisor)
    response = client.get(
        URL, {"from": "2025-01-01", "to": "2025-03-31", "group_by": "field_of_action", "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    agreed = next(
        r for r in rows if r["section"] == "goals" and r["value_1"] == "language" and r["metric"] == "agreed"
    )
    assert abs(int(agreed["value"]) - 12) <= D and agreed["suppressed"] == "False"
    footnote = list(csv.reader(io.StringIO(response.content.decode())))[-1]
    assert footnote[0].startswith(f"# Counts are perturbed by at most ±{D}")
    chart = client.get(f"{URL}chart.svg", {"from": "2025-01-01", "to": "2025-03-31"})
    assert chart.status_code == 200 and chart["Content-Type"].startswith("image/svg+xml")
    svg = chart.content.decode()
    assert svg.startswith("<svg") and "language" in svg and "100 %" in svg
    assert f"perturbed by at most ±{D}" in svg


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
    assert Goal.objects.count() == 12 and near(row["agreed"], 12) and near(row["achieved"], 7)
    assert row["achievement_rate"]["value"] == round(
        min(row["achieved"]["value"] / row["finished"]["value"], 1), 3
    )


def test_statistics_query_count_does_not_grow_with_data(
    case_manager, supervisor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    """One statement per table (two for contacts' distinct families), plus scope and catalogue."""
    client = client_for(supervisor)
    params = {"from": "2025-01-01", "to": "2025-12-31", "group_by": "organisation,quarter"}
    client.get(URL, params)
    add_goals(case_manager, 25, field="work", agreed_on=Q2, achieved=21)
    with django_assert_num_queries(QUERIES):
        assert client.get(URL, params).status_code == 200
