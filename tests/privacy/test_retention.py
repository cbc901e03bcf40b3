"""Retention per rule and per organisation: coverage of every table, periods, holds, dry run, report."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from casemgmt.models import (
    Consent,
    Deputyship,
    EmergencyAccess,
    EmergencyAccessRequest,
    Family,
    Person,
    Role,
    SetPasswordToken,
)
from casemgmt.models.base import FamilyOwned, declaring_models
from casemgmt.services.access import emergency_access_end, emergency_access_open
from casemgmt.services.consents import consent_create
from casemgmt.services.contacts import contact_create
from casemgmt.services.families import family_close
from privacy.models import (
    AuditEntry,
    Breach,
    ErasureRequest,
    Objection,
    RecipientNotice,
    Rectification,
    Restriction,
    RetentionPeriod,
    RetentionReport,
)
from privacy.registry import activities_by_code
from privacy.retention import KEPT, RULES, apply_retention, covered_models, periods_for, rules_by_code
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user, setup_writes

TODAY = timezone.localdate()
NOW = timezone.now()
YEARS = 365


def ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def closed_long_ago(family: Family, user: Any, days: int) -> Family:
    family_close(family=family, outcome="self_sufficient", benefit_status_at_closure="none", acting_user=user)
    with setup_writes("case_management"):
        Family.objects.filter(pk=family.pk).update(closed_on=days_ago(days), opened_on=days_ago(days + 400))
    return Family.objects.get(pk=family.pk)


def run(**kwargs: Any) -> Any:
    with setup_writes("data_subject_rights"):
        return apply_retention(dry_run=kwargs.pop("dry_run", False), **kwargs)


# --- every table that holds personal data has a rule (or a stated reason to keep it)


def personal_data_models() -> list[type[models.Model]]:
    return [m for m in declaring_models() if getattr(m, "PERSONAL_DATA", {})]


def retention_gaps(candidates: list[type[models.Model]]) -> list[str]:
    covered = covered_models()
    return [m._meta.label for m in candidates if m._meta.label not in covered and m._meta.label not in KEPT]


def test_every_model_holding_personal_data_is_covered_by_a_rule_or_kept_with_a_reason() -> None:
    assert retention_gaps(personal_data_models()) == []
    labels = {m._meta.label for m in personal_data_models()}
    for label, reason in KEPT.items():
        assert label in labels, f"{label} is listed as kept but holds no personal data (or does not exist)"
        assert label not in covered_models(), f"{label} is both kept and covered by a rule"
        assert len(reason) > 20
    # The named tables of the issue each have a rule of their own.
    for label in (
        "casemgmt.EmergencyAccess",
        "casemgmt.EmergencyAccessRequest",
        "casemgmt.Consent",
        "privacy.Restriction",
        "privacy.Rectification",
        "privacy.Objection",
        "privacy.RecipientNotice",
        "privacy.ErasureRequest",
    ):
        assert any(rule.model == label for rule in RULES), label


def test_a_new_model_with_personal_data_and_no_rule_is_caught() -> None:
    class RetentionCertificate(models.Model):
        PROCESSING_ACTIVITY = "case_management"
        PERSONAL_DATA = {"holder": "identification"}
        holder = models.CharField(max_length=100)

        class Meta:
            app_label = "casemgmt_test_only"

        def __str__(self) -> str:
            return "certificate"

    assert retention_gaps([*personal_data_models(), RetentionCertificate]) == [
        "casemgmt_test_only.RetentionCertificate"
    ]


def test_family_records_are_covered_by_the_case_rules() -> None:
    covered = covered_models()
    for model in declaring_models():
        if issubclass(model, FamilyOwned):
            assert {"closed_cases", "dormant_intake"} <= set(covered[model._meta.label]), model._meta.label


def test_defaults_come_from_the_registry_and_lie_within_the_bounds() -> None:
    activities = activities_by_code()
    rules = rules_by_code()
    assert rules["closed_cases"].default_days == activities["case_management"].retention_days
    assert rules["consents"].default_days == activities["case_conferences"].retention_days
    assert rules["rectifications"].default_days == activities["data_subject_rights"].retention_days
    for rule in RULES:
        assert rule.min_days <= rule.default_days <= rule.max_days, rule.code
        assert rule.label["de"] and rule.label["en"] and rule.reference["de"] and rule.reference["en"]


# --- closed cases, per organisation


def test_an_organisations_shorter_period_applies_to_its_cases_only(
    district, other_district, case_manager
) -> None:  # type: ignore[no-untyped-def]
    other_cm = make_user(other_district, Role.CASE_MANAGER)
    mine = closed_long_ago(make_family(case_manager, family_name="Kurz"), case_manager, 2 * YEARS)
    theirs = closed_long_ago(make_family(other_cm, other_district, family_name="Lang"), other_cm, 2 * YEARS)
    with setup_writes("data_subject_rights"):
        RetentionPeriod.objects.create(organisation=district, rule="closed_cases", days=YEARS)
    report = run()
    assert Family.objects.get(pk=mine.pk).family_name == "[anonymised]"
    assert Family.objects.get(pk=theirs.pk).family_name == "Lang"  # default: 3 years
    assert report.line(district.pk, "closed_cases").applied == 1
    assert report.line(district.pk, "closed_cases").period_days == YEARS
    assert report.line(other_district.pk, "closed_cases").period_days == 3 * YEARS
    assert report.line(other_district.pk, "closed_cases").due == 0


def test_legal_hold_keeps_a_closed_case_and_the_report_counts_it(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = closed_long_ago(make_family(case_manager, family_name="Halt"), case_manager, 4 * YEARS)
    with setup_writes("case_management"):
        Family.objects.filter(pk=family.pk).update(legal_hold_until=TODAY + datetime.timedelta(days=1))
    report = run()
    line = report.line(district.pk, "closed_cases")
    assert (line.due, line.kept, line.applied) == (1, 1, 0)
    assert Family.objects.get(pk=family.pk).family_name == "Halt"


# --- intake cases that never started


def test_a_dormant_intake_case_is_closed_and_anonymised(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    dormant = make_family(case_manager, family_name="Still", opened_on=days_ago(500))
    person = make_person(dormant, case_manager, given_name="Amal")
    busy = make_family(case_manager, family_name="Aktiv", opened_on=days_ago(500))
    make_person(busy, case_manager)
    with setup_writes("case_management"):
        Family.objects.filter(pk__in=[dormant.pk, busy.pk]).update(updated_at=ago(400))
        Person.objects.filter(family__in=[dormant, busy]).update(updated_at=ago(400))
    contact_create(
        family=busy, occurred_on=TODAY, kind="phone", initiated_by="family", acting_user=case_manager
    )
    report = run()
    line = report.line(district.pk, "dormant_intake")
    assert (line.due, line.applied) == (1, 1)
    family = Family.objects.get(pk=dormant.pk)
    assert (family.status, family.closure_outcome, family.closed_on) == ("closed", "no_contact", TODAY)
    assert family.family_name == "[anonymised]" and family.anonymised_at is not None
    assert Person.objects.get(pk=person.pk).given_name == "[anonymised]"
    assert Family.objects.get(pk=busy.pk).status == "intake"  # a recent contact is activity
    assert Family.objects.get(pk=busy.pk).family_name == "Aktiv"
    assert run().line(district.pk, "dormant_intake").due == 0  # idempotent


def test_a_restricted_member_keeps_a_dormant_case(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    dormant = make_family(case_manager, family_name="Still", opened_on=days_ago(500))
    person = make_person(dormant, case_manager)
    with setup_writes("data_subject_rights"):
        Restriction.objects.create(person=person, reason="bestritten", restricted_at=ago(450))
    with setup_writes("case_management"):
        Family.objects.filter(pk=dormant.pk).update(updated_at=ago(400))
        Person.objects.filter(pk=person.pk).update(updated_at=ago(400))
    line = run().line(district.pk, "dormant_intake")
    assert (line.due, line.kept, line.applied) == (1, 1, 0)
    assert Family.objects.get(pk=dormant.pk).status == "intake"


# --- emergency access, consents, rights requests, accounts


def test_ended_emergency_accesses_and_requests_are_deleted_after_their_period(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    colleague = make_user(district, Role.CASE_MANAGER)
    old = emergency_access_end(
        access=emergency_access_open(
            family=family, acting_user=colleague, reason="Kind in Gefahr, Fallverantwortliche im Urlaub"
        ),
        acting_user=colleague,
    )
    recent = emergency_access_open(
        family=family, acting_user=make_user(district), reason="Schule meldet Verletzungen beim Kind"
    )
    supervisor = make_user(district, Role.SUPERVISOR)
    with setup_writes("account_management"):
        EmergencyAccess.objects.filter(pk=old.pk).update(
            opened_at=ago(3 * YEARS), ended_at=ago(3 * YEARS - 1)
        )
        EmergencyAccess.objects.filter(pk=old.pk).update(expires_at=ago(3 * YEARS - 2))
        declined = EmergencyAccessRequest.objects.create(
            family=family,
            user=colleague,
            reason="nochmal",
            requested_at=ago(3 * YEARS),
            status="declined",
            decided_by=supervisor,
            decided_at=ago(3 * YEARS),
        )
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    report = run()
    assert not EmergencyAccess.objects.filter(pk=old.pk).exists()
    assert EmergencyAccess.objects.filter(pk=recent.pk).exists()
    assert not EmergencyAccessRequest.objects.filter(pk=declined.pk).exists()
    assert report.line(district.pk, "emergency_access").applied == 1
    assert report.line(district.pk, "emergency_access_requests").applied == 1
    tombstones = list(AuditEntry.objects.filter(pk__gt=before, action=AuditEntry.Action.DELETE))
    assert {(t.additional_data["note"].split(":")[0], t.activity, t.actor_id) for t in tombstones} == {
        ("retention emergency_access", "data_subject_rights", None),
        ("retention emergency_access_requests", "data_subject_rights", None),
    }
    assert {t.additional_data["system"] for t in tombstones} == {"test setup"}
    assert {str(t.organisation_id) for t in tombstones} == {str(district.pk)}
    assert [str(old.pk)] in [t.object_ids for t in tombstones]


def test_an_ended_consent_is_anonymised_once_its_proof_period_has_passed(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)  # an open case: the consent goes on its own
    person = make_person(family, case_manager)

    def consent(purpose: str) -> Consent:
        return consent_create(
            family=family,
            person=person,
            recipient="jobcenter",
            recipient_name="Jobcenter Musterland",
            purpose=purpose,
            given_on=days_ago(5 * YEARS),
            acting_user=case_manager,
        )

    withdrawn, expired, running, recently_withdrawn = (
        consent(p) for p in ("alt", "abgelaufen", "gilt", "neu")
    )
    with setup_writes("case_conferences"):
        Consent.objects.filter(pk=withdrawn.pk).update(withdrawn_on=days_ago(4 * YEARS))
        Consent.objects.filter(pk=expired.pk).update(valid_until=days_ago(4 * YEARS))
        Consent.objects.filter(pk=recently_withdrawn.pk).update(withdrawn_on=days_ago(30))
    report = run()
    assert report.line(district.pk, "consents").applied == 2
    for pk in (withdrawn.pk, expired.pk):
        row = Consent.objects.get(pk=pk)
        assert (row.purpose, row.recipient_name, row.recipient) == ("", "", "jobcenter")
        assert row.anonymised_at is not None and row.given_on == days_ago(5 * YEARS)
    assert Consent.objects.get(pk=running.pk).purpose == "gilt"
    assert Consent.objects.get(pk=recently_withdrawn.pk).purpose == "neu"
    assert run().line(district.pk, "consents").due == 0  # idempotent


def test_completed_rights_requests_go_and_open_ones_stay(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    person, other = make_person(family, case_manager), make_person(family, case_manager)
    dpo = make_user(district, Role.DPO)
    old = ago(4 * YEARS)
    with setup_writes("data_subject_rights"):
        lifted = Restriction.objects.create(person=other, reason="x", restricted_at=old, lifted_at=old)
        rectification = Rectification.objects.create(
            person=person, field="given_name", previous_value="Alt", reason="Pass", rectified_at=old
        )
        decided = Objection.objects.create(
            person=person, reason="w", received_at=old, decision="rejected", decided_at=old, decided_by=dpo
        )
        pending = Objection.objects.create(person=person, reason="w", received_at=old)
        informed = RecipientNotice.objects.create(
            person=person,
            cause="rectification",
            cause_id=rectification.pk,
            recipient_kind="jobcenter",
            received_via="case_conference",
            created_at=old,
            informed_at=old,
        )
        uninformed = RecipientNotice.objects.create(
            person=person,
            cause="rectification",
            cause_id=rectification.pk,
            recipient_kind="school",
            received_via="case_conference",
            created_at=old,
        )
        erasure = ErasureRequest.objects.create(
            subject_type="family",
            subject_id=family.pk,
            organisation_id=district.pk,
            requested_at=old,
            outcome="previewed",
        )
    report = run()
    for model, pk in (
        (Restriction, lifted.pk),
        (Rectification, rectification.pk),
        (Objection, decided.pk),
        (RecipientNotice, informed.pk),
        (ErasureRequest, erasure.pk),
    ):
        assert not model.objects.filter(pk=pk).exists(), model.__name__
    assert Objection.objects.filter(pk=pending.pk).exists()  # undecided: still being handled
    assert RecipientNotice.objects.filter(pk=uninformed.pk).exists()  # the duty to inform is open
    for code in ("restrictions", "rectifications", "objections", "recipient_notices", "erasure_requests"):
        assert report.line(district.pk, code).applied == 1, code


def test_legal_hold_keeps_rights_records_of_the_family(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    person = make_person(family, case_manager)
    with setup_writes("data_subject_rights"):
        rectification = Rectification.objects.create(
            person=person,
            field="given_name",
            previous_value="Alt",
            reason="Pass",
            rectified_at=ago(4 * YEARS),
        )
        Family.objects.filter(pk=family.pk).update(legal_hold_until=TODAY)
    line = run().line(district.pk, "rectifications")
    assert (line.due, line.kept, line.applied) == (1, 1, 0)
    assert Rectification.objects.filter(pk=rectification.pk).exists()


def test_accounts_breaches_and_tokens(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    deputy = make_user(district, Role.CASE_MANAGER)
    with setup_writes("account_management"):
        ended = Deputyship.objects.create(
            organisation=district, principal=case_manager, deputy=deputy, ends_at=ago(2 * YEARS)
        )
        token = SetPasswordToken.objects.create(
            user=deputy, organisation=district, digest="a" * 64, expires_at=ago(60)
        )
        fresh = SetPasswordToken.objects.create(
            user=deputy, organisation=district, digest="b" * 64, expires_at=ago(1)
        )
    with setup_writes("audit_logging"):
        breach = Breach.objects.create(
            organisation=district,
            description="Fehlversand",
            occurred_from=ago(6 * YEARS),
            occurred_to=ago(6 * YEARS),
            discovered_at=ago(6 * YEARS),
            recorded_at=ago(6 * YEARS),
        )
    report = run()
    assert not Deputyship.objects.filter(pk=ended.pk).exists()
    assert not SetPasswordToken.objects.filter(pk=token.pk).exists()
    assert SetPasswordToken.objects.filter(pk=fresh.pk).exists()
    assert not Breach.objects.filter(pk=breach.pk).exists()
    assert report.line(None, "set_password_tokens").applied == 1  # one period for all organisations
    assert report.line(district.pk, "breaches").applied == 1


# --- dry run, command, nightly job and the stored report


def test_dry_run_prints_the_report_and_changes_nothing(district, case_manager, capsys) -> None:  # type: ignore[no-untyped-def]
    family = closed_long_ago(make_family(case_manager, family_name="Alt"), case_manager, 4 * YEARS)
    audit_before = AuditEntry.objects.count()
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "(dry run)" in out and f"[{district.name}]" in out
    assert any(line.split()[:1] == ["closed_cases"] and line.split()[-1] == "1" for line in out.splitlines())
    assert "1 families would anonymise" in out
    assert Family.objects.get(pk=family.pk).family_name == "Alt"
    assert not RetentionReport.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    call_command("apply_retention")
    assert Family.objects.get(pk=family.pk).family_name == "[anonymised]"
    stored = RetentionReport.objects.get(organisation=district)
    assert stored.trigger == "command" and not stored.dry_run
    assert {
        "rule": "closed_cases",
        "period_days": 3 * YEARS,
        "due": 1,
        "kept": 0,
        "applied": 1,
    } in stored.lines


def test_the_nightly_job_applies_every_rule_and_stores_a_report_without_personal_data(
    district, case_manager
) -> None:  # type: ignore[no-untyped-def]
    from privacy.jobs import run_retention

    family = closed_long_ago(make_family(case_manager, family_name="Nacht"), case_manager, 4 * YEARS)
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    result = run_retention.call()
    assert result["closed_cases"] == 1 and result["families"] == 1
    assert Family.objects.get(pk=family.pk).family_name == "[anonymised]"
    reports = RetentionReport.objects.filter(trigger="nightly")
    assert {r.organisation_id for r in reports} == {district.pk, None}
    assert {line["rule"] for line in reports.get(organisation=district).lines} == {
        r.code for r in RULES if r.per_organisation
    }
    text = json.dumps([r.lines for r in reports])
    assert str(family.pk) not in text and family.reference not in text and "Nacht" not in text
    entries = AuditEntry.objects.filter(pk__gt=before)
    assert entries.exists()
    assert {e.additional_data.get("system") for e in entries} == {"run_retention"}
    assert {e.actor_id for e in entries} == {None}


# --- the DPO's API


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO)


def url(organisation: Any, suffix: str = "") -> str:
    return f"/api/v1/privacy/retention/{organisation.pk}/{suffix}"


def test_dpo_reads_the_rules_with_the_periods_that_apply(dpo, district) -> None:  # type: ignore[no-untyped-def]
    body = client_for(dpo).get(url(district)).json()
    assert body["organisation"] == str(district.pk)
    rules = {r["code"]: r for r in body["rules"]}
    assert set(rules) == {r.code for r in RULES}
    assert rules["closed_cases"]["period_days"] == 3 * YEARS and not rules["closed_cases"]["own_period"]
    assert rules["consents"]["label"]["de"] == "Beendete Einwilligungen"
    assert rules["audit_log"]["per_organisation"] is False


def test_dpo_sets_periods_audited_and_replacing(dpo, district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    response = client.put(
        url(district), {"periods": {"consents": 2 * YEARS, "closed_cases": 5 * YEARS}}, format="json"
    )
    assert response.status_code == 200, response.content
    rules = {r["code"]: r for r in response.json()["rules"]}
    assert rules["consents"]["period_days"] == 2 * YEARS and rules["consents"]["own_period"]
    assert periods_for(district.pk)["closed_cases"] == 5 * YEARS
    entry = AuditEntry.objects.filter(content_type__model="retentionperiod").order_by("-pk").first()
    assert entry is not None and entry.actor_id == dpo.pk and entry.activity == "data_subject_rights"
    assert str(entry.organisation_id) == str(district.pk)
    # PUT replaces: what is left out returns to the default
    client.put(url(district), {"periods": {"consents": 2 * YEARS}}, format="json")
    assert periods_for(district.pk)["closed_cases"] == 3 * YEARS
    assert RetentionPeriod.objects.filter(organisation=district).count() == 1


@pytest.mark.parametrize(
    ("periods", "code"),
    [
        ({"consents": 10}, "out_of_bounds"),
        ({"closed_cases": 100 * YEARS}, "out_of_bounds"),
        ({"nonsense": 400}, "unknown_rule"),
        ({"audit_log": 800}, "not_configurable"),
        ({"consents": "viele"}, None),
    ],
)
def test_bad_periods_are_400_and_change_nothing(dpo, district, periods, code) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).put(url(district), {"periods": periods}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "code" in body and "detail" in body
    if code:
        assert code in json.dumps(body)
    assert not RetentionPeriod.objects.exists()


def test_another_tenants_settings_and_reports_are_404(dpo, other_district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(dpo)
    for suffix in ("", "reports/", "preview/"):
        assert client.get(url(other_district, suffix)).status_code == 404
    assert client.put(url(other_district), {"periods": {}}, format="json").status_code == 404
    assert client.get("/api/v1/privacy/retention/not-a-uuid/").status_code == 404


def test_reports_and_preview_show_only_the_dpos_organisation(
    dpo, district, other_district, case_manager
) -> None:  # type: ignore[no-untyped-def]
    family = closed_long_ago(make_family(case_manager, family_name="Vorschau"), case_manager, 4 * YEARS)
    client = client_for(dpo)
    preview = client.get(url(district, "preview/")).json()
    assert preview["dry_run"] is True
    line = next(item for item in preview["lines"] if item["rule"] == "closed_cases")
    assert (line["due"], line["applied"]) == (1, 0)
    assert Family.objects.get(pk=family.pk).family_name == "Vorschau"
    assert not RetentionReport.objects.exists()
    run().save(trigger="nightly")
    reports = client.get(url(district, "reports/")).json()
    assert len(reports) == 1 and reports[0]["trigger"] == "nightly"
    assert next(item for item in reports[0]["lines"] if item["rule"] == "closed_cases")["applied"] == 1
    town = OrganisationFactory(name="Stadt X", kind="town", parent=district)
    assert client.get(url(town, "reports/")).status_code == 404  # a DPO of the district is not the town's


def test_registry_shows_the_organisations_periods(dpo, district) -> None:  # type: ignore[no-untyped-def]
    from privacy.registry import record

    with setup_writes("data_subject_rights"):
        RetentionPeriod.objects.create(organisation=district, rule="consents", days=2 * YEARS)
    activities = {a["code"]: a for a in record("de", organisation=district)["activities"]}
    periods = {p["rule"]: p for p in activities["case_conferences"]["retention_periods"]}
    assert periods["consents"]["period_days"] == 2 * YEARS
    assert periods["consents"]["label"] == "Beendete Einwilligungen"
    assert periods["consents"]["default_days"] == 3 * YEARS


def test_reports_list_costs_the_same_for_one_and_many_reports(dpo, district) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(dpo)
    counts = []
    for _ in range(2):
        run().save(trigger="nightly")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(district, "reports/")).status_code == 200
        counts.append(len(ctx.captured_queries))
    for _ in range(4):
        run().save(trigger="nightly")
    with CaptureQueriesContext(connection) as ctx:
        assert len(client.get(url(district, "reports/")).json()) == 6
    assert len(ctx.captured_queries) == counts[-1]
