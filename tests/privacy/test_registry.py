"""The record of processing activities: complete, derived from the system, exported for the DPO."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.apps import apps
from django.utils import timezone

from casemgmt.models import Role
from privacy.classification import DataCategory
from privacy.models import AuditEntry
from privacy.registry import ACTIVITIES, Activity, record
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

REGISTRY = "/api/v1/privacy/registry/"
EVENTS = "/api/v1/audit/events/"


def personal_data_models() -> list[type]:
    return [
        m
        for app in ("casemgmt", "privacy")
        for m in apps.get_app_config(app).get_models()
        if getattr(m, "PERSONAL_DATA", None)
    ]


@pytest.mark.parametrize("model", personal_data_models(), ids=lambda m: m._meta.label)
def test_every_model_with_personal_data_belongs_to_an_activity(model) -> None:  # type: ignore[no-untyped-def]
    owners = [a.code for a in ACTIVITIES if model._meta.label in a.models]
    # A model may also be read by an aggregate-only activity, but one activity must record it.
    recorded = [a for a in ACTIVITIES if model._meta.label in a.models and not a.aggregated_only]
    if not recorded:
        # guardian's group permission table holds no personal data; everything else must be recorded.
        pytest.fail(f"{model._meta.label} has personal data but no processing activity records it ({owners})")


def test_privacy_models_are_classified() -> None:
    from privacy.classification import unclassified_fields

    for model in apps.get_app_config("privacy").get_models():
        assert unclassified_fields(model) == [], model


def test_activities_name_real_models_and_complete_entries() -> None:
    for activity in ACTIVITIES:
        for label in activity.models:
            apps.get_model(label)
        for text in (
            activity.name,
            activity.purpose,
            activity.legal_basis,
            activity.retention,
            activity.risk,
        ):
            assert text["de"] and text["en"]
        assert activity.data_subjects and activity.recipients
        assert "6" in activity.legal_basis["en"]  # an Art. 6 basis is always named


def test_categories_are_derived_from_field_classification() -> None:
    case_management = next(a for a in ACTIVITIES if a.code == "case_management")
    categories = set(case_management.data_categories())
    assert {
        DataCategory.IDENTIFICATION,
        DataCategory.CONTACT,
        DataCategory.DATE_OF_BIRTH,
        DataCategory.RESIDENCE,
        DataCategory.ORIGIN,
        DataCategory.CASE_NOTES,
    } <= categories
    assert DataCategory.ORIGIN in case_management.special_categories()
    # every activity with special categories names an Art. 9 basis
    for activity in ACTIVITIES:
        if activity.special_categories() and not activity.aggregated_only:
            assert activity.special_categories_basis, activity.code


def test_measures_are_read_from_settings(settings) -> None:
    measures = " ".join(record("en")["technical_and_organisational_measures"])
    assert "AES-256-GCM" in measures and "2 key(s) configured, active: test1" in measures
    assert "Argon2" in measures or "MD5" in measures  # tests run with a fast hasher; production says Argon2


def test_activity_codes_are_the_registry() -> None:
    assert {a.value for a in Activity} == {a.code for a in ACTIVITIES}


def test_activities_list_the_models_that_declare_them() -> None:
    by_code = {a.code: set(a.models) for a in ACTIVITIES}
    assert {"casemgmt.Family", "casemgmt.Person", "casemgmt.Goal", "casemgmt.Contact"} <= by_code[
        "case_management"
    ]
    assert "casemgmt.Consent" in by_code["case_conferences"]
    assert {"casemgmt.Referral", "casemgmt.Provider"} <= by_code["course_referrals"]
    assert "casemgmt.Provider" not in by_code["account_management"]
    assert "casemgmt.User" in by_code["account_management"]
    assert {"casemgmt.Goal", "casemgmt.Referral"} <= by_code["outcome_statistics"]


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo")


def test_registry_json_with_observed_figures(dpo, case_manager) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.conferences import conference_create, conference_hold
    from casemgmt.services.consents import consent_create

    family = make_family(case_manager)
    person = make_person(family, case_manager)
    consent_create(
        family=family,
        person=person,
        recipient="jobcenter",
        purpose="x",
        given_on=timezone.localdate() - datetime.timedelta(days=3),
        acting_user=case_manager,
    )
    conference = conference_create(
        family=family,
        scheduled_at=timezone.now() - datetime.timedelta(days=1),
        acting_user=case_manager,
        participants=[
            {"kind": "external", "agency": "jobcenter", "reason": "r", "legal_basis": "Einwilligung"}
        ],
    )
    conference_hold(conference=conference, acting_user=case_manager, held_at=conference.scheduled_at)
    client_for(case_manager).get("/api/v1/families/")
    body = client_for(dpo).get(REGISTRY).json()
    activities = {a["code"]: a for a in body["activities"]}
    assert set(activities) == {a.code for a in ACTIVITIES}
    cm = activities["case_management"]
    assert cm["observed"]["operations"]["create"] >= 2 and cm["observed"]["operations"]["access"] == 1
    assert activities["case_conferences"]["observed"]["recipients_used"] == {"jobcenter": 1}
    assert activities["case_conferences"]["third_country_transfers"] == "No transfers to third countries"
    assert any(c["special"] for c in cm["data_categories"])


def test_registry_other_organisation_figures_not_counted(dpo, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(other_case_manager)
    body = client_for(dpo).get(REGISTRY).json()
    case_work = [a for a in body["activities"] if a["code"] != "account_management"]
    assert all(not a["observed"]["operations"] for a in case_work)


def test_registry_csv_and_html_in_both_languages(dpo, case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    client = client_for(dpo)
    response = client.get(REGISTRY, {"format": "csv", "lang": "de"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["code"] for r in rows} == {a.code for a in ACTIVITIES}
    cm = next(r for r in rows if r["code"] == "case_management")
    assert cm["name"].startswith("Fallbezogenes") and int(cm["operations_create"]) >= 1
    for lang, title in (
        ("de", "Verzeichnis von Verarbeitungstätigkeiten"),
        ("en", "Record of processing activities"),
    ):
        html = client.get(REGISTRY, {"format": "html", "lang": lang})
        assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
        page = html.content.decode()
        assert title in page and "@media print" in page and "AES-256-GCM" in page


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xml"},
        {"lang": "fr"},
        {"from": "2026-05-01", "to": "2026-01-01"},
        {"from": "yesterday"},
        {"from": "2000-01-01", "to": "2026-01-01"},
        {"colour": "red"},
    ],
)
def test_registry_bad_input(dpo, params) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).get(REGISTRY, params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN])
def test_non_dpo_gets_403_for_registry_and_404_for_audit(district, role) -> None:  # type: ignore[no-untyped-def]
    client = client_for(make_user(district, role))
    assert client.get(REGISTRY).status_code == 403
    assert client.get(EVENTS).status_code == 404


def test_audit_events_filters(dpo, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    make_person(family, case_manager)
    client_for(case_manager).get(f"/api/v1/families/{family.pk}/")
    client = client_for(dpo)
    everything = client.get(EVENTS).json()
    assert set(everything) == {"count", "next", "previous", "results"} and everything["count"] > 3
    by_object = client.get(EVENTS, {"object": str(family.pk)}).json()["results"]
    assert {e["action"] for e in by_object} >= {"create", "access"}
    reads = client.get(EVENTS, {"action": "access", "actor": str(case_manager.pk)}).json()["results"]
    assert len(reads) == 1 and reads[0]["object_ids"] == [str(family.pk)]
    persons = client.get(EVENTS, {"model": "casemgmt.person"}).json()["results"]
    assert persons and all(e["model"] == "casemgmt.person" for e in persons)
    assert client.get(EVENTS, {"activity": "course_referrals"}).json()["count"] == 0
    today = timezone.localdate()
    assert client.get(EVENTS, {"from": (today + datetime.timedelta(days=1)).isoformat()}).json()["count"] == 0
    assert client.get(EVENTS, {"to": today.isoformat()}).json()["count"] == everything["count"]


@pytest.mark.parametrize(
    "params",
    [{"action": "explode"}, {"activity": "spying"}, {"from": "soon"}, {"actor": "me"}, {"model": "family"}],
)
def test_audit_events_bad_filters(dpo, params) -> None:  # type: ignore[no-untyped-def]
    assert client_for(dpo).get(EVENTS, params).status_code == 400


def test_dpo_sees_only_own_tenant(dpo, other_district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(other_case_manager)
    other_dpo = make_user(other_district, Role.DPO)
    mine = client_for(dpo).get(EVENTS).json()["results"]
    assert all(e["organisation_id"] != str(other_district.pk) for e in mine)
    assert any(
        e["organisation_id"] == str(other_district.pk)
        for e in client_for(other_dpo).get(EVENTS).json()["results"]
    )
    foreign = AuditEntry.objects.filter(organisation_id=other_district.pk).first()
    assert client_for(dpo).get(f"{EVENTS}{foreign.pk}/").status_code == 404
