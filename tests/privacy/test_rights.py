"""Data subject rights: access export, restriction, erasure with dry run, retention."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from casemgmt.models import Family, Goal, Person, PersonSearchTerm, Referral, Role
from casemgmt.services.families import family_close
from casemgmt.services.goals import goal_create, goal_review_add
from privacy.models import AuditEntry, ErasureRequest, Restriction
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

TODAY = timezone.localdate()


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo")


@pytest.fixture
def household(case_manager, language):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Kovalenko", address="Lindenweg 3", notes="Haushalt")
    mother = make_person(family, case_manager, given_name="Olena", family_name="Kovalenko")
    son = make_person(
        family,
        case_manager,
        given_name="Dmytro",
        family_name="Kovalenko",
        role="child",
        date_of_birth=datetime.date(2012, 5, 1),
    )
    goal = goal_create(
        family=family,
        person=mother,
        field_of_action=language,
        description="B1 schaffen",
        acting_user=case_manager,
        agreed_on=TODAY - datetime.timedelta(days=100),
    )
    goal_review_add(goal=goal, status="achieved", note="bestanden", acting_user=case_manager)
    goal_create(
        family=family,
        person=son,
        field_of_action=language,
        description="Lesen üben",
        acting_user=case_manager,
    )
    return family, mother, son


@pytest.fixture
def language(db):  # type: ignore[no-untyped-def]
    from casemgmt.models import FieldOfAction

    return FieldOfAction.objects.get(code="language", organisation=None)


def export_url(person: Person) -> str:
    return f"/api/v1/privacy/subjects/{person.pk}/export/"


def raw_column(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return " ".join(str(r[0]) for r in cursor.fetchall())


# --- Art. 15


def test_subject_export(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, mother, _son = household
    client_for(case_manager).get(f"/api/v1/persons/{mother.pk}/")
    response = client_for(dpo).get(export_url(mother))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"]["given_name"] == "Olena" and body["family"]["reference"] == family.reference
    assert [g["description"] for g in body["goals"]] == ["B1 schaffen"]  # not the son's goal
    assert body["goals"][0]["reviews"][0]["note"] == "bestanden"
    assert body["family"]["household_notes"] == {"household_level": True, "text": "Haushalt"}
    assert {p["code"] for p in body["processing"]} >= {"case_management", "audit_logging"}
    reads = [a for a in body["access_log"] if a["action"] == "access"]
    assert reads and reads[0]["by_role"] == "case_manager" and "cm1" not in str(body["access_log"])
    export_entry = AuditEntry.objects.filter(
        activity="data_subject_rights", action=AuditEntry.Action.ACCESS
    ).get()
    assert export_entry.actor == dpo and export_entry.object_ids == [str(mother.pk)]


@pytest.mark.parametrize(("lang", "title"), [("de", "Auskunft über Ihre"), ("en", "Information on your")])
def test_subject_export_html(dpo, household, lang, title) -> None:  # type: ignore[no-untyped-def]
    response = client_for(dpo).get(export_url(household[1]), {"format": "html", "lang": lang})
    assert response.status_code == 200 and title in response.content.decode()
    assert "Olena" in response.content.decode()


def test_subject_export_access_rules(dpo, district, household, other_district, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    foreign = make_person(make_family(other_case_manager), other_case_manager)
    assert client_for(dpo).get(export_url(foreign)).status_code == 404
    assert client_for(dpo).get("/api/v1/privacy/subjects/not-a-uuid/export/").status_code == 404
    for role in (Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN):
        assert client_for(make_user(district, role)).get(export_url(household[1])).status_code == 403
    assert client_for(dpo).get(export_url(household[1]), {"format": "pdf"}).status_code == 400
    assert client_for(dpo).get(export_url(household[1]), {"lang": "tr"}).status_code == 400


# --- Art. 18


def test_restriction_blocks_case_managers(dpo, case_manager, household, language) -> None:  # type: ignore[no-untyped-def]
    family, mother, _son = household
    url = f"/api/v1/privacy/subjects/{mother.pk}/restriction/"
    client = client_for(dpo)
    assert client.post(url, {"reason": "Richtigkeit bestritten"}, format="json").status_code == 201
    assert client.post(url, {"reason": "nochmal"}, format="json").status_code == 409
    cm = client_for(case_manager)
    assert cm.get(f"/api/v1/persons/{mother.pk}/").status_code == 404
    assert str(mother.pk) not in str(cm.get("/api/v1/persons/").json())
    assert cm.patch(f"/api/v1/persons/{mother.pk}/", {"given_name": "X"}, format="json").status_code == 404
    referral = cm.post("/api/v1/referrals/", {"person": str(mother.pk), "provider": None}, format="json")
    assert referral.status_code == 400
    conference = cm.post(
        "/api/v1/conferences/",
        {
            "family": str(family.pk),
            "scheduled_at": (timezone.now() + datetime.timedelta(days=2)).isoformat(),
            "participants": [{"kind": "family", "person": str(mother.pk)}],
        },
        format="json",
    )
    assert conference.status_code in (400, 409)
    goal = cm.post(
        "/api/v1/goals/",
        {
            "family": str(family.pk),
            "person": str(mother.pk),
            "field_of_action": str(language.pk),
            "description": "x",
        },
        format="json",
    )
    assert goal.status_code == 400
    assert client.get(export_url(mother)).status_code == 200  # the DPO still reads it
    assert "Richtigkeit" not in raw_column("privacy_restriction", "reason")
    assert client.delete(url).status_code == 200
    assert client.delete(url).status_code == 409
    assert cm.get(f"/api/v1/persons/{mother.pk}/").status_code == 200


def test_restriction_bad_input(dpo, household) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/privacy/subjects/{household[1].pk}/restriction/"
    assert client_for(dpo).post(url, {}, format="json").status_code == 400
    assert client_for(dpo).post(url, {"reason": "x", "extra": 1}, format="json").status_code == 400
    assert Restriction.objects.count() == 0


# --- Art. 17


def close(family: Family, user: object) -> None:
    family_close(family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=user)  # type: ignore[arg-type]


def erase(client, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/privacy/erasure-requests/", body, format="json")


def stats_snapshot() -> tuple[object, ...]:
    return (
        tuple(Goal.objects.order_by("status").values_list("status").distinct()),
        Goal.objects.filter(status="achieved").count(),
        Goal.objects.count(),
        Referral.objects.count(),
        tuple(Family.objects.values_list("status", "closure_outcome", "opened_on", "closed_on")),
        tuple(Person.objects.order_by("birth_year").values_list("birth_year", "sex")),
    )


def test_erasure_refused_while_case_open(dpo, household) -> None:  # type: ignore[no-untyped-def]
    family = household[0]
    response = erase(client_for(dpo), family=str(family.pk), dry_run=False)
    assert response.status_code == 409 and response.json()["code"] == "open_case"
    assert ErasureRequest.objects.get().outcome == "refused"
    assert Family.objects.get(pk=family.pk).family_name == "Kovalenko"


def test_family_erasure_dry_run_then_execute(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, mother, _son = household
    close(family, case_manager)
    client = client_for(dpo)
    before = stats_snapshot()
    preview = erase(client, family=str(family.pk))  # dry run by default
    assert preview.status_code == 200 and preview.json()["outcome"] == "previewed"
    affected = {a["model"]: a for a in preview.json()["summary"]["affected"]}
    assert (
        affected["casemgmt.Person"]["rows"] == 2
        and "date_of_birth" in affected["casemgmt.Person"]["fields_cleared"]
    )
    assert Person.objects.get(pk=mother.pk).given_name == "Olena"  # nothing changed yet

    done = erase(client, family=str(family.pk), dry_run=False)
    assert done.status_code == 201 and done.json()["outcome"] == "executed"
    mother = Person.objects.get(pk=mother.pk)
    assert (
        mother.given_name == "[anonymised]" and mother.date_of_birth is None and mother.birth_year is not None
    )
    assert Family.objects.get(pk=family.pk).address == "" and Family.objects.get(pk=family.pk).anonymised_at
    assert stats_snapshot() == before  # anonymous facts remain: statistics agree
    for secret in ("Olena", "Dmytro", "Kovalenko", "Lindenweg", "B1 schaffen", "bestanden"):
        assert secret not in str(
            [(p.given_name, p.family_name) for p in Person.objects.filter(family=family)]
        )
    assert PersonSearchTerm.objects.filter(person__family=family).count() == 0
    tombstones = AuditEntry.objects.filter(activity="data_subject_rights", action=AuditEntry.Action.UPDATE)
    assert tombstones.count() >= 3 and all("Olena" not in str(t.changes) for t in tombstones)
    again = erase(client, family=str(family.pk), dry_run=False)
    assert again.status_code == 409 and again.json()["code"] == "already_anonymised"
    assert client_for(case_manager).get("/api/v1/persons/", {"name": "Olena"}).json()["count"] == 0


def test_person_erasure_touches_only_that_person(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, mother, son = household
    close(family, case_manager)
    assert erase(client_for(dpo), person=str(son.pk), dry_run=False).status_code == 201
    assert Person.objects.get(pk=son.pk).given_name == "[anonymised]"
    assert Person.objects.get(pk=mother.pk).given_name == "Olena"
    assert Goal.objects.get(person=mother).description == "B1 schaffen"
    assert Goal.objects.get(person_id=son.pk).description == ""


def test_erasure_refused_under_legal_hold_and_restriction(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, mother, _son = household
    close(family, case_manager)
    client = client_for(dpo)
    hold = client.post(
        f"/api/v1/privacy/families/{family.pk}/legal-hold/",
        {"until": (TODAY + datetime.timedelta(days=30)).isoformat(), "reason": "Klageverfahren"},
        format="json",
    )
    assert hold.status_code == 200
    refused = erase(client, family=str(family.pk), dry_run=False)
    assert refused.status_code == 409 and refused.json()["code"] == "legal_hold"
    assert client.delete(f"/api/v1/privacy/families/{family.pk}/legal-hold/").status_code == 200
    client.post(
        f"/api/v1/privacy/subjects/{mother.pk}/restriction/", {"reason": "Widerspruch"}, format="json"
    )
    refused = erase(client, person=str(mother.pk), dry_run=False)
    assert refused.status_code == 409 and refused.json()["code"] == "restricted"
    assert Person.objects.get(pk=mother.pk).given_name == "Olena"


@pytest.mark.parametrize(
    "body", [{}, {"person": "P", "family": "F"}, {"person": "nope"}, {"family": "F", "x": 1}]
)
def test_erasure_bad_input(dpo, household, body) -> None:  # type: ignore[no-untyped-def]
    family, mother, _ = household
    data = {k: (str(mother.pk) if v == "P" else str(family.pk) if v == "F" else v) for k, v in body.items()}
    assert erase(client_for(dpo), **data).status_code == 400
    assert ErasureRequest.objects.count() == 0


def test_erasure_of_other_organisation_is_404(dpo, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    foreign = make_family(other_case_manager)
    assert erase(client_for(dpo), family=str(foreign.pk), dry_run=False).status_code == 404


def test_erasure_is_atomic(dpo, case_manager, household, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from privacy import erasure

    family, mother, _ = household
    close(family, case_manager)
    calls = {"n": 0}
    real = erasure.log_bulk

    def failing_log_bulk(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(erasure, "log_bulk", failing_log_bulk)
    with pytest.raises(RuntimeError):
        erase(client_for(dpo), family=str(family.pk), dry_run=False)
    assert Person.objects.get(pk=mother.pk).given_name == "Olena"
    assert Family.objects.get(pk=family.pk).anonymised_at is None


# --- retention


def test_retention_dry_run_then_apply_idempotent(case_manager, household, capsys) -> None:  # type: ignore[no-untyped-def]
    family, mother, _ = household
    close(family, case_manager)
    Family.objects.filter(pk=family.pk).update(
        closed_on=TODAY - datetime.timedelta(days=4 * 365), opened_on=TODAY - datetime.timedelta(days=5 * 365)
    )
    recent = make_family(case_manager, family_name="Neu")
    close(recent, case_manager)
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert family.reference in out and recent.reference not in out and "1 families would anonymise" in out
    assert Person.objects.get(pk=mother.pk).given_name == "Olena"
    call_command("apply_retention")
    assert Person.objects.get(pk=mother.pk).given_name == "[anonymised]"
    assert Family.objects.get(pk=recent.pk).family_name == "Neu"
    call_command("apply_retention")
    assert "0 families anonymised" in capsys.readouterr().out.splitlines()[-1]


def test_retention_respects_legal_hold(case_manager, household) -> None:  # type: ignore[no-untyped-def]
    from privacy.retention import apply_retention

    family = household[0]
    close(family, case_manager)
    Family.objects.filter(pk=family.pk).update(
        closed_on=TODAY - datetime.timedelta(days=4 * 365),
        opened_on=TODAY - datetime.timedelta(days=5 * 365),
        legal_hold_until=TODAY + datetime.timedelta(days=1),
    )
    report = apply_retention(dry_run=False)
    assert report.total("closed_cases") == 0 and report.total("closed_cases", "kept") == 1
    assert Family.objects.get(pk=family.pk).anonymised_at is None
