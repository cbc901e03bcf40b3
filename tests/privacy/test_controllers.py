"""Controllers as data: each organisation's record names its controller, arrangement and measures."""

from __future__ import annotations

import pytest

from casemgmt.models import Role
from privacy.classification import CATEGORY_LABELS_DE, DataCategory, category_label, unclassified_fields
from privacy.controllers import controller_profile_set
from privacy.models import AuditEntry, ControllerProfile
from privacy.registry import ACTIVITIES, ORGANISATIONAL_MEASURES, activities_by_code, record
from tests.conftest import client_for
from tests.factories import make_user

REGISTRY = "/api/v1/privacy/registry/"


def controllers(org_id: object) -> str:
    return f"/api/v1/privacy/controllers/{org_id}/"


PROFILE = {
    "name": "Landkreis Musterland",
    "address": "Kreishaus, Hauptstraße 1, 12345 Musterstadt",
    "representative": "Landrätin Dr. Beispiel",
    "dpo_contact": "Datenschutzbeauftragte, datenschutz@kreis.example",
}


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo")


@pytest.fixture
def town_dpo(town):  # type: ignore[no-untyped-def]
    return make_user(town, Role.DPO, username="town-dpo")


def test_record_without_profile_names_what_is_missing(dpo, district) -> None:  # type: ignore[no-untyped-def]
    body = client_for(dpo).get(REGISTRY, {"lang": "de"}).json()
    assert body["controller"]["name"] == district.name
    assert set(body["controller"]["missing"]) == {"address", "representative", "dpo_contact"}
    # German defaults for every organisational measure
    measures = {m["code"]: m for m in body["organisational_measures"]}
    assert set(measures) == set(ORGANISATIONAL_MEASURES)
    assert all(m["default"] for m in measures.values())
    assert "Sozialgeheimnis" in measures["confidentiality"]["text"]


def test_dpo_records_controller_and_the_record_shows_it(dpo, district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    response = client.put(
        controllers(district.pk),
        {
            **PROFILE,
            "processors": "Kommunales Rechenzentrum – Betrieb",
            "organisational_measures": {"training": "Schulung jedes Quartal."},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["representative"] == PROFILE["representative"]
    entry = AuditEntry.objects.filter(content_type__model="controllerprofile").latest("id")
    assert entry.actor_id == dpo.pk and entry.activity == "account_management"
    body = client.get(REGISTRY, {"lang": "de"}).json()
    assert body["controller"]["address"] == PROFILE["address"] and body["controller"]["missing"] == []
    assert body["controller"]["arrangement_text"] == "Alleinverantwortlicher"
    measures = {m["code"]: m for m in body["organisational_measures"]}
    assert measures["training"]["text"] == "Schulung jedes Quartal." and not measures["training"]["default"]
    audit = next(a for a in body["activities"] if a["code"] == "audit_logging")
    assert audit["processors"] == ["Kommunales Rechenzentrum – Betrieb"]
    assert client.get(controllers(district.pk)).json()["name"] == PROFILE["name"]


def test_town_record_states_its_arrangement_with_the_district(town_dpo, town, district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(town_dpo)
    response = client.put(
        controllers(town.pk),
        {
            **PROFILE,
            "name": town.name,
            "arrangement": "processor",
            "arrangement_partner": str(district.pk),
            "arrangement_reference": "AV-Vertrag vom 1.3.2026",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    for lang, text in (
        ("de", "Verarbeitung im Auftrag von Landkreis Musterland nach Art. 28 DSGVO"),
        ("en", "Processing on behalf of Landkreis Musterland under Art. 28 GDPR"),
    ):
        body = client.get(REGISTRY, {"lang": lang, "organisation": str(town.pk)}).json()
        assert body["controller"]["arrangement_text"] == text
        assert body["controller"]["name"] == town.name
    html = client.get(REGISTRY, {"lang": "de", "format": "html"}).content.decode()
    assert "Verarbeitung im Auftrag von Landkreis Musterland" in html and "AV-Vertrag" in html


def test_record_is_per_controller(dpo, district, town, town_dpo) -> None:  # type: ignore[no-untyped-def]
    controller_profile_set(organisation=district, acting_user=dpo, **PROFILE)
    body = client_for(town_dpo).get(REGISTRY).json()
    assert body["controller"]["organisation"] == str(town.pk)
    assert body["controller"]["name"] == town.name  # not the district's profile


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"organisational_measures": {"astrology": "x"}}, "organisational_measures"),
        ({"arrangement": "joint"}, "arrangement_partner"),
        ({"arrangement": "joint", "arrangement_partner": "not-a-uuid"}, "arrangement_partner"),
        ({"arrangement": "shared"}, "arrangement"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"colour": "red"}, "colour"),
        ({"organisational_measures": ["training"]}, "organisational_measures"),
    ],
)
def test_controller_bad_input(dpo, district, change, field) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).put(controllers(district.pk), {**PROFILE, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"] or field in str(response.json())
    assert not ControllerProfile.objects.exists()


def test_partner_of_another_tenant_is_refused_like_a_missing_one(dpo, district, other_district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    answers = [
        client.put(
            controllers(district.pk),
            {**PROFILE, "arrangement": "joint", "arrangement_partner": partner},
            format="json",
        ).json()
        for partner in (str(other_district.pk), "00000000-0000-0000-0000-000000000001")
    ]
    assert answers[0] == answers[1] and answers[0]["code"] == "invalid"


def test_other_tenants_controller_is_404(dpo, other_district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    assert client.get(controllers(other_district.pk)).status_code == 404
    assert client.put(controllers(other_district.pk), PROFILE, format="json").status_code == 404
    assert client.get(controllers("nonsense")).status_code == 404
    assert client.get(REGISTRY, {"organisation": str(other_district.pk)}).status_code == 404
    assert client.get(REGISTRY, {"organisation": "nonsense"}).status_code == 404


# --- Art. 30(1)(a)-(g) completeness, German labels, categories from declared field use


def test_every_activity_has_every_art30_item_in_both_languages() -> None:
    for lang in ("de", "en"):
        data = record(lang)
        assert data["technical_measures"] and data["organisational_measures"]  # (g)
        for a in data["activities"]:
            assert a["name"] and a["purpose"] and a["legal_basis"], a["code"]  # (b)
            assert a["data_subjects"] and a["data_categories"], a["code"]  # (c)
            assert a["recipients"], a["code"]  # (d)
            assert a["third_country_transfers"], a["code"]  # (e)
            assert a["retention"], a["code"]  # (f)
            for c in a["data_categories"]:
                assert c["label"] != c["code"]


def test_every_data_category_has_a_german_label() -> None:
    assert set(CATEGORY_LABELS_DE) == set(DataCategory)
    assert category_label(DataCategory.RESIDENCE, "de").startswith("Aufenthaltsstatus")
    german = " ".join(c["label"] for a in record("de")["activities"] for c in a["data_categories"])
    assert "Identification" not in german and "Case notes" not in german


def test_further_activities_name_the_fields_they_use() -> None:
    from casemgmt.models.base import declaring_models

    for model in declaring_models():
        uses = getattr(model, "FIELD_USE", {})
        for code in getattr(model, "ALSO_PROCESSED_FOR", ()):
            assert code in uses, f"{model._meta.label} is processed for {code} but names no FIELD_USE"
            assert code in activities_by_code()
        for code, fields in uses.items():
            assert code in getattr(model, "ALSO_PROCESSED_FOR", ()), (model, code)
            known = {f.name for f in model._meta.concrete_fields}
            assert set(fields) <= known, (model, set(fields) - known)
        assert unclassified_fields(model) == []


def test_categories_come_from_declared_field_use() -> None:
    by_code = {a.code: set(a.data_categories()) for a in ACTIVITIES}
    # Statistics count statuses and dates; they do not process notes or names.
    assert DataCategory.CASE_NOTES not in by_code["outcome_statistics"]
    assert DataCategory.IDENTIFICATION not in by_code["outcome_statistics"]
    assert DataCategory.SOCIAL_BENEFITS in by_code["outcome_statistics"]
    # What a conference discusses with agencies includes residence status and benefits.
    assert {DataCategory.RESIDENCE, DataCategory.SOCIAL_BENEFITS} <= by_code["case_conferences"]


# --- versions with diffs, responsible unit and DPIA reference per activity

VERSIONS = "/api/v1/privacy/registry/versions/"


def test_record_versions_with_diff_responsible_unit_and_dpia(dpo, district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    first = client.post(VERSIONS, {}, format="json")
    assert first.status_code == 201 and first.json()["number"] == 1
    assert all(change["change"] == "added" for change in first.json()["diff"])
    assert client.post(VERSIONS, {}, format="json").status_code == 200  # nothing changed: no new version
    controller_profile_set(
        organisation=district,
        acting_user=dpo,
        processors="Kommunales Rechenzentrum",
        activity_details={
            "case_management": {"responsible_unit": "Amt 50", "dpia_reference": "DSFA-2026-01"}
        },
        **PROFILE,
    )
    second = client.post(VERSIONS, {"organisation": str(district.pk)}, format="json")
    assert second.status_code == 201 and second.json()["number"] == 2
    paths = {(c["change"], c["path"]) for c in second.json()["diff"]}
    assert ("changed", "activities[case_management].responsible_unit") in paths
    assert ("added", "controller.processors[Kommunales Rechenzentrum]") in paths
    assert [v["number"] for v in client.get(VERSIONS).json()] == [2, 1]
    body = client.get(REGISTRY, {"lang": "de"}).json()
    assert body["version"]["number"] == 2 and body["version"]["last_changed"]
    management = next(a for a in body["activities"] if a["code"] == "case_management")
    assert management["responsible_unit"] == "Amt 50" and management["dpia_reference"] == "DSFA-2026-01"
    html = client.get(REGISTRY, {"lang": "de", "format": "html"}).content.decode()
    assert "Fassung 2" in html and "Zuständige Stelle" in html and "DSFA-2026-01" in html


@pytest.mark.parametrize(
    "details",
    [
        {"astrology": {"responsible_unit": "x"}},
        {"case_management": {"owner": "x"}},
        {"case_management": "Amt 50"},
    ],
)
def test_activity_details_bad_input(dpo, district, details) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).put(
        controllers(district.pk), {**PROFILE, "activity_details": details}, format="json"
    )
    assert response.status_code == 400, response.content


def test_the_nightly_run_stores_a_version_when_the_record_changed_unedited(
    dpo, district, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A deployment that adds a recipient changes the record with nobody saving it: the nightly
    run stores that version (by the system), and stores nothing when nothing changed."""
    from privacy import controllers as controllers_module
    from privacy.jobs import run_retention
    from privacy.models import RecordVersion

    assert run_retention.call()["record_versions"] >= 1
    first = RecordVersion.objects.get(organisation=district)
    assert first.number == 1 and first.created_by_id is None
    assert run_retention.call()["record_versions"] == 0
    original = controllers_module.record_content

    def with_new_recipient(organisation):  # type: ignore[no-untyped-def]
        content = original(organisation)
        content["controller"]["processors"] = [
            *content["controller"].get("processors", []),
            "Neuer Dienstleister",
        ]
        return content

    monkeypatch.setattr(controllers_module, "record_content", with_new_recipient)
    assert run_retention.call()["record_versions"] >= 1
    latest = RecordVersion.objects.filter(organisation=district).order_by("-number").first()
    assert latest is not None and latest.number == 2
    assert ("added", "controller.processors[Neuer Dienstleister]") in {
        (c["change"], c["path"]) for c in latest.diff
    }
    versions = client_for(dpo).get(VERSIONS).json()
    assert [v["number"] for v in versions] == [2, 1] and versions[0]["created_by"] is None


def test_versions_of_another_tenant_are_404(dpo, other_district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    assert client.get(VERSIONS, {"organisation": str(other_district.pk)}).status_code == 404
    assert client.post(VERSIONS, {"organisation": str(other_district.pk)}, format="json").status_code == 404
    assert client.post(VERSIONS, {"organisation": "x"}, format="json").status_code == 400
