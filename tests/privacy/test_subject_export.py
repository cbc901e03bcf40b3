"""Art. 15 complete: (a)-(h) and 15(2), recipients by name, Art. 18/21 status, 15(4) copy, readable HTML."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
from django.utils import timezone

from casemgmt.models import Role
from casemgmt.services import catalogue
from casemgmt.services.referrals import referral_create, referral_transition
from privacy.rights import restriction_add
from tests.conftest import client_for
from tests.factories import make_user
from tests.privacy.test_rights import export_url

TODAY = timezone.localdate()


@pytest.fixture
def referred(household, case_manager, district):  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN, username="admin")
    provider = catalogue.provider_create(
        organisation=district, name="Volkshochschule Musterstadt", acting_user=admin
    )
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


def test_export_has_every_art15_item(dpo, referred) -> None:  # type: ignore[no-untyped-def]
    body = client_for(dpo).get(export_url(referred[1]), {"lang": "de"}).json()
    assert body["processing"] and all(p["purpose"] and p["legal_basis"] for p in body["processing"])  # (a)
    labels = {c["label"] for c in body["categories"]}  # (b), in German
    assert "Identifikationsdaten (Namen)" in labels and "Identification data (names)" not in labels
    assert {"name": "Volkshochschule Musterstadt", "via": "referral"}.items() <= body["recipients"][
        0
    ].items()  # (c)
    assert all(p["retention"] for p in body["processing"])  # (d)
    assert any("Art. 16" in r for r in body["rights"]) and any("Art. 21" in r for r in body["rights"])  # (e)
    assert "Art. 77" in body["complaint"]  # (f)
    assert body["source"]  # (g)
    assert "Art. 22" in body["automated_decisions"]  # (h)
    assert "Art. 15 Abs. 2" in body["third_country_transfers"]  # 15(2)
    assert body["status"] == {"restricted": False, "objections": []}
    assert body["controller"]["name"]


def test_export_shows_restriction_status(dpo, household) -> None:  # type: ignore[no-untyped-def]
    restriction_add(person=household[1], reason="Richtigkeit bestritten", acting_user=dpo)
    body = client_for(dpo).get(export_url(household[1])).json()
    assert body["status"]["restricted"] is True
    html = client_for(dpo).get(export_url(household[1]), {"format": "html", "lang": "de"}).content.decode()
    assert "Die Verarbeitung Ihrer Daten ist eingeschränkt." in html


def test_copy_for_the_subject_blacks_out_household_text(dpo, household) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    full = client.get(export_url(household[1])).json()
    copy = client.get(export_url(household[1]), {"redact": "true", "lang": "de"}).json()
    assert full["family"]["household_notes"]["text"] == "Haushalt"
    assert copy["redacted"] is True and "geschwärzt" in copy["family"]["household_notes"]["text"]
    assert copy["goals"][0]["description"] == "B1 schaffen"  # the person's own goal stays
    assert client.get(export_url(household[1]), {"redact": "yes"}).status_code == 400


def test_every_declared_record_of_the_person_is_in_the_export(dpo, referred, case_manager, language) -> None:  # type: ignore[no-untyped-def]
    """Iterates the declarations: each person-linked record held on the person is in the export.

    A record type that declared nothing (or whose rows the export did not find) fails here.
    Assessments and plans were missing from the hand-built export.
    """
    from casemgmt.models import Assessment, IntegrationPlan, PlanVersion
    from casemgmt.models.base import family_owned_models, person_link, restriction_paths
    from privacy.exports import export_declarations
    from tests.factories import setup_writes

    family, mother, _son = referred
    with setup_writes("case_management"):
        Assessment.objects.create(
            family=family,
            person=mother,
            field_of_action=language,
            kind="baseline",
            assessed_on=TODAY,
            score=2,
            notes="braucht Kurs",
        )
        plan = IntegrationPlan.objects.create(family=family, review_on=TODAY)
        PlanVersion.objects.create(plan=plan, number=1, summary="Plan für alle")
    body = client_for(dpo).get(export_url(mother), {"lang": "de", "redact": "true"}).json()
    declared = dict(export_declarations())
    by_section = {spec.section: spec for spec in declared.values()}

    def section(key: str) -> Any:
        value: Any = body
        for part in key.split("."):
            value = value[part]
        return value

    for model in family_owned_models():
        if not person_link(model):
            continue
        spec = declared[model]  # KeyError: a record of a person that the export does not know
        held = model._default_manager.filter(**{restriction_paths(model)[0]: mother.pk}, **spec.where)
        if spec.within:
            parent = by_section[spec.within]
            shown = [c for row in section(parent.section) for c in row[spec.section]]
        else:
            rows = section(spec.section)
            shown = [rows] if spec.single else rows
        assert len(shown) >= held.count(), (model._meta.label, shown)
    [assessment] = body["assessments"]
    assert assessment["score"] == 2 and assessment["notes"] == "braucht Kurs"  # her own: not blacked out
    assert assessment["field_of_action"] == "language" and assessment["household_level"] is False
    [shown_plan] = body["plans"]
    assert shown_plan["household_level"] is True and "geschwärzt" in shown_plan["versions"][0]["summary"]
    assert {"kind": "name"} in body["search_terms"]
    html = client_for(dpo).get(export_url(mother), {"format": "html", "lang": "de"}).content.decode()
    assert "Einschätzungen (1 = akuter Bedarf, 5 = selbstständig)" in html and "braucht Kurs" in html
    assert "Integrationsplan" in html and "Plan für alle" in html


#: Codes that must never reach a reader of the HTML (raw keys, choice values, activity codes).
RAW = re.compile(
    r"\b(given_name|family_name|date_of_birth|residence_status|household_notes|case_manager|"
    r"case_management|data_subject_rights|audit_logging|in_progress|course_referrals|"
    r"benefit_status_at_intake|identification|None)\b"
)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_html_shows_labels_and_local_time_not_codes(dpo, referred, case_manager, lang) -> None:  # type: ignore[no-untyped-def]
    client_for(case_manager).get(f"/api/v1/persons/{referred[1].pk}/")
    html = client_for(dpo).get(export_url(referred[1]), {"format": "html", "lang": lang}).content.decode()
    text = re.sub(r"<[^>]+>", " ", html)
    assert not RAW.findall(text), RAW.findall(text)
    assert "+00:00" not in text and "T" not in re.findall(r"\d{4}-\d{2}-\d{2}T", text)
    if lang == "de":
        assert "Volkshochschule Musterstadt" in text and "Vermittlung" in text
        assert re.search(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} Uhr", text)
        assert "Fallverantwortliche/r" in text and "Elternteil" in text and "Gelesen" in text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("REQUIRE_BROWSER"):  # make docs-check: no silent skip
    raise RuntimeError("make docs-check needs chromium: apt-get install -y chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("document", ["export", "registry"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_documents_render_in_a_headless_browser(dpo, referred, tmp_path, document, lang) -> None:  # type: ignore[no-untyped-def]
    """Chromium renders the document to PDF and dumps the DOM text: no raw keys or codes appear."""
    client = client_for(dpo)
    url = export_url(referred[1]) if document == "export" else "/api/v1/privacy/registry/"
    html = client.get(url, {"format": "html", "lang": lang}).content.decode()
    page = tmp_path / "doc.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "doc.pdf"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"]
    subprocess.run(
        [CHROMIUM, *flags, f"--print-to-pdf={pdf}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    text = re.sub(r"<[^>]+>", " ", dom.split("<body>", 1)[1])
    assert not RAW.findall(text), RAW.findall(text)


def test_a_providers_recipient_date_is_when_the_referral_was_sent(dpo, referred) -> None:  # type: ignore[no-untyped-def]
    """Art. 15(1)(c): the provider received the data when the referral was sent, not when its
    draft was written."""
    from casemgmt.models import Referral
    from tests.factories import setup_writes

    referral = Referral.objects.get(person=referred[1])
    with setup_writes("course_referrals"):
        Referral.objects.filter(pk=referral.pk).update(
            created_at=referral.sent_at - datetime.timedelta(days=9)
        )
    (recipient,) = [
        r for r in client_for(dpo).get(export_url(referred[1])).json()["recipients"] if r["via"] == "referral"
    ]
    assert recipient["on"] == referral.sent_at.isoformat()


def test_a_referral_cancelled_as_a_draft_names_no_recipient(dpo, referred, case_manager) -> None:  # type: ignore[no-untyped-def]
    """Art. 15(1)(c) names who received the data: a draft cancelled before sending reached nobody."""
    from casemgmt.models import Provider, Referral
    from tests.factories import setup_writes

    organisation = referred[1].family.organisation
    with setup_writes("course_referrals"):
        other = Provider.objects.create(organisation=organisation, name="Sprachschule Nord")
        draft = Referral.objects.create(family=referred[1].family, person=referred[1], provider=other)
    referral_transition(referral=draft, to="cancelled", acting_user=case_manager)
    recipients = client_for(dpo).get(export_url(referred[1])).json()["recipients"]
    names = {r["name"] for r in recipients if r["via"] == "referral"}
    assert names == {"Volkshochschule Musterstadt"}
