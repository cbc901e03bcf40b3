"""The cross-role access matrix: every endpoint and verb of the API against every role.

Read a row as: "<verb> <path>: role → expected status". ``"200:x"`` means 200 *and* the
target object is in the list; ``"200:-"`` means 200 and it is not. The roles:

- ``cm``         case manager the family is assigned to
- ``cm_same``    case manager of the same organisation, not assigned
- ``cm_other``   case manager of another district
- ``sup``        supervisor of the family's organisation; ``sup_other`` of another district
- ``dpo``        data protection officer of the family's organisation
- ``admin``      administrator of the family's organisation; ``admin_other`` of another district
- ``anon``       no token

``test_matrix_covers_every_endpoint`` fails when an endpoint or verb is added to the URL
conf without a row here, so nobody can add an endpoint without deciding who may use it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import EndpointEnumerator
from pytest_django import DjangoDbBlocker

from casemgmt.models import DuplicateReview, FieldOfAction, Membership, Organisation, Role, User
from casemgmt.services.access import (
    deputy_add,
    emergency_access_end,
    emergency_access_open,
    emergency_access_request,
)
from casemgmt.services.catalogue import course_create, field_of_action_create, provider_create
from casemgmt.services.conferences import conference_create
from casemgmt.services.consents import consent_create
from casemgmt.services.contacts import contact_create
from casemgmt.services.goals import goal_create
from casemgmt.services.plans import assessment_create, plan_create, plan_version_create, plan_version_submit
from casemgmt.services.referrals import referral_create
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user, setup_writes
from tests.scenes import fresh_copy, rolled_back_scene

ROLES = ("cm", "cm_same", "cm_other", "sup", "sup_other", "dpo", "admin", "admin_other", "anon")
STRONG_PASSWORD = "a-Very-long-passphrase-2026"


@dataclass
class World:
    district: Organisation
    other: Organisation
    users: dict[str, User]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def built_world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    """The world, built once for the module's ~1,500 cases (building it took nearly all their time)."""
    yield from rolled_back_scene(build_world, django_db_blocker)


@pytest.fixture
def world(db: None, built_world: World) -> World:
    """The module's world as built: this test's writes are rolled back with its savepoint."""
    return fresh_copy(built_world)


def build_world() -> World:
    district = OrganisationFactory(name="Landkreis A", reference_prefix="A")
    other = OrganisationFactory(name="Landkreis B", reference_prefix="B")
    users = {
        "cm": make_user(district, Role.CASE_MANAGER, username="cm", password=STRONG_PASSWORD),
        "cm_same": make_user(district, Role.CASE_MANAGER, username="cm_same"),
        "cm_other": make_user(other, Role.CASE_MANAGER, username="cm_other"),
        "sup": make_user(district, Role.SUPERVISOR, username="sup"),
        "sup_other": make_user(other, Role.SUPERVISOR, username="sup_other"),
        "dpo": make_user(district, Role.DPO, username="dpo"),
        "admin": make_user(district, Role.ADMIN, username="admin"),
        "admin_other": make_user(other, Role.ADMIN, username="admin_other"),
    }
    deputy = make_user(district, Role.CASE_MANAGER, username="cm_deputy")
    emergency_user = make_user(district, Role.CASE_MANAGER, username="cm_emergency")
    family = make_family(users["cm"], district, family_name="Haddad")
    person = make_person(family, users["cm"])
    deputyship = deputy_add(principal=users["cm"], deputy=deputy, acting_user=users["cm"])
    access = emergency_access_open(
        family=family, acting_user=emergency_user, reason="Kind in Gefahr, Fallverantwortliche im Urlaub"
    )
    # a colleague who ended an emergency access and asks to reopen it (a supervisor decides)
    repeat_user = make_user(district, Role.CASE_MANAGER, username="cm_repeat")
    reason = "Schule meldet erneut Verletzungen beim Kind"
    emergency_access_end(
        access=emergency_access_open(family=family, acting_user=repeat_user, reason=reason),
        acting_user=repeat_user,
    )
    access_request = emergency_access_request(family=family, acting_user=repeat_user, reason=reason)
    today = timezone.localdate()
    field = field_of_action_create(
        organisation=district, code="mobility", name="Mobility", acting_user=users["admin"]
    )
    provider = provider_create(organisation=district, name="VHS Musterland", acting_user=users["admin"])
    course = course_create(
        provider=provider,
        title="Integrationskurs B1",
        course_type="integration_course",
        cefr_level="B1",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=180),
        capacity=20,
        acting_user=users["admin"],
    )
    goal = goal_create(
        family=family,
        person=person,
        field_of_action=FieldOfAction.objects.get(code="language"),
        description="B1-Zertifikat",
        acting_user=users["cm"],
    )
    referral = referral_create(person=person, course=course, goal=goal, acting_user=users["cm"])
    consent = consent_create(
        family=family,
        person=person,
        recipient="jobcenter",
        purpose="Fallkonferenz",
        given_on=today - datetime.timedelta(days=10),
        acting_user=users["cm"],
    )
    conference = conference_create(
        family=family,
        scheduled_at=timezone.now() + datetime.timedelta(days=7),
        acting_user=users["cm"],
        agenda_members=[person],  # the consent covers this member's data only
        participants=[
            {
                "kind": "external",
                "agency": "jobcenter",
                "name": "Frau Beispiel",
                "role": "Fallmanagerin",
                "reason": "Arbeitsvermittlung",
                "legal_basis": "Einwilligung Art. 6(1)(a), § 67b SGB X",
            }
        ],
    )
    contact = contact_create(
        family=family, occurred_on=today, kind="home_visit", initiated_by="family", acting_user=users["cm"]
    )
    plan = plan_create(family=family, review_on=today, acting_user=users["cm"])
    version = plan_version_submit(
        version=plan_version_create(plan=plan, summary="Sprachkurs", acting_user=users["cm"]),
        acting_user=users["cm"],
    )
    assessment = assessment_create(
        family=family,
        person=person,
        field_of_action=FieldOfAction.objects.get(code="language"),
        kind="baseline",
        score=2,
        acting_user=users["cm"],
    )
    from casemgmt.services.accounts import set_password_token_issue
    from privacy.models import AuditEntry
    from privacy.rights import erasure_request

    _, set_password_token = set_password_token_issue(user=users["cm_same"], acting_user=users["admin"])

    erasure, _ = erasure_request(
        subject=family, subject_type="family", dry_run=True, acting_user=users["dpo"]
    )
    same_family = make_family(users["cm_same"], district, family_name="Haddad")
    with setup_writes("case_management"):
        review = DuplicateReview.objects.create(
            organisation=district,
            person=make_person(same_family, users["cm_same"]),
            candidate=person,
            match="exact",
        )
    town = OrganisationFactory(name="Stadt A", kind="town", parent=district, reference_prefix="S")
    from privacy.models import RecipientNotice
    from privacy.rights import objection_add

    objection = objection_add(person=person, reason="Widerspruch", acting_user=users["dpo"])
    from privacy.breaches import breach_record

    breach = breach_record(
        organisation=district,
        description="Fehlversand",
        occurred_from=timezone.now() - datetime.timedelta(hours=1),
        occurred_to=timezone.now(),
        discovered_at=timezone.now(),
        acting_user=users["dpo"],
    )
    second_person = make_person(family, users["cm"])
    with setup_writes("data_subject_rights"):
        notice = RecipientNotice.objects.create(
            person=person,
            cause="restriction",
            cause_id=person.pk,
            recipient_kind="jobcenter",
            received_via="case_conference",
            created_at=timezone.now(),
        )
    # Handovers: a town case offered to the district (whose supervisor "sup" decides), and one
    # of "cm"'s cases offered to the town (the sending side).
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casemgmt.services.documents import document_create
    from casemgmt.services.handovers import handover_offer

    town_cm = make_user(town, Role.CASE_MANAGER, username="town_cm")
    incoming = handover_offer(
        family=make_family(town_cm, town, family_name="Stadtfamilie"),
        to_organisation=district,
        reason="specialised_service",
        legal_basis="statutory_task",
        acting_user=town_cm,
    )
    outgoing = handover_offer(
        family=make_family(users["cm"], district, family_name="Umzug"),
        to_organisation=town,
        reason="moved",
        legal_basis="statutory_task",
        acting_user=users["cm"],
    )
    document = document_create(
        target_kind="family",
        target_id=family.pk,
        upload=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan"),
        acting_user=users["cm"],
    )
    from privacy.transparency import seal

    seal()  # the sealer has run: the audit entry has a checkpoint to be proven against
    from casemgmt.services.reporting import report_indicator_set

    indicator = report_indicator_set(
        organisation=district, year=today.year, code="new_cases", target=10, acting_user=users["sup"]
    )
    ids = {
        "town": str(town.pk),
        "objection": str(objection.pk),
        "breach": str(breach.pk),
        "second_person": str(second_person.pk),
        "notice": str(notice.pk),
        "indicator": str(indicator.pk),
        "handover_in": str(incoming.pk),
        "handover_out": str(outgoing.pk),
        "document": str(document.pk),
        "set_password_token": set_password_token,
        "duplicate_review": str(review.pk),
        "erasure": str(erasure.pk),
        "audit": str(AuditEntry.objects.get(object_pk=str(family.pk), action=AuditEntry.Action.CREATE).pk),
        "field": str(field.pk),
        "provider": str(provider.pk),
        "course": str(course.pk),
        "goal": str(goal.pk),
        "plan": str(plan.pk),
        "plan_version": str(version.pk),
        "assessment": str(assessment.pk),
        "referral": str(referral.pk),
        "consent": str(consent.pk),
        "conference": str(conference.pk),
        "contact": str(contact.pk),
        "family": str(family.pk),
        "person": str(person.pk),
        "deputyship": str(deputyship.pk),
        "access": str(access.pk),
        "access_request": str(access_request.pk),
        "organisation": str(district.pk),
        "user": str(users["cm"].pk),
        "membership": str(Membership.objects.get(user=users["cm"]).pk),
    }
    return World(district, other, users, ids)


Body = Callable[[World], dict[str, Any]] | None


def _no_body(w: World) -> dict[str, Any]:
    return {}


CASE_ONLY_OWN = {
    "cm": 200,
    "cm_same": 404,
    "cm_other": 404,
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 403,
    "admin_other": 403,
    "anon": 401,
}
ADMIN_ONLY_OWN = {
    "cm": 403,
    "cm_same": 403,
    "cm_other": 403,
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 200,
    "admin_other": 404,
    "anon": 401,
}
ADMIN_LIST = {**ADMIN_ONLY_OWN, "admin": "200:x", "admin_other": "200:-"}
AUTHENTICATED = dict.fromkeys(ROLES, 200) | {"anon": 401}
STATS = dict.fromkeys(ROLES, 200) | {"dpo": 403, "admin": 403, "admin_other": 403, "anon": 401}
DPO_ONLY = dict.fromkeys(ROLES, 403) | {"dpo": 200, "anon": 401}
CASE_LIST = {
    "cm": "200:x",
    "cm_same": "200:-",
    "cm_other": "200:-",
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 403,
    "admin_other": 403,
    "anon": 401,
}
CASE_CREATE = {
    "cm": 201,
    "cm_same": 400,
    "cm_other": 400,
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 403,
    "admin_other": 403,
    "anon": 401,
}
CATALOGUE_LIST = {
    "cm": "200:x",
    "cm_same": "200:x",
    "cm_other": "200:-",
    "sup": "200:x",
    "sup_other": "200:-",
    "dpo": "200:x",
    "admin": "200:x",
    "admin_other": "200:-",
    "anon": 401,
}
CATALOGUE_GET = {
    "cm": 200,
    "cm_same": 200,
    "cm_other": 404,
    "sup": 200,
    "sup_other": 404,
    "dpo": 200,
    "admin": 200,
    "admin_other": 404,
    "anon": 401,
}
CATALOGUE_CREATE = {
    "cm": 403,
    "cm_same": 403,
    "cm_other": 403,
    "sup": 201,
    "sup_other": 400,
    "dpo": 403,
    "admin": 201,
    "admin_other": 400,
    "anon": 401,
}
CATALOGUE_EDIT = {
    "cm": 403,
    "cm_same": 403,
    "cm_other": 403,
    "sup": 200,
    "sup_other": 404,
    "dpo": 403,
    "admin": 200,
    "admin_other": 404,
    "anon": 401,
}

SUPERVISOR_ONLY_OWN = {
    "cm": 403,
    "cm_same": 403,
    "cm_other": 403,
    "sup": 200,
    "sup_other": 404,
    "dpo": 403,
    "admin": 403,
    "admin_other": 403,
    "anon": 401,
}
SUPERVISOR_ONLY = dict.fromkeys(ROLES, 403) | {"sup": 200, "sup_other": 404, "anon": 401}

# (verb, path, target id key, body) -> expected status per role
MATRIX: dict[tuple[str, str], tuple[str | None, Body, dict[str, int | str]]] = {
    # --- auth
    ("POST", "/api/v1/auth/token/"): (
        None,
        lambda w: {"username": "cm", "password": STRONG_PASSWORD},
        dict.fromkeys(ROLES, 200),
    ),
    ("POST", "/api/v1/auth/logout/"): (None, None, dict.fromkeys(ROLES, 204) | {"anon": 401}),
    ("POST", "/api/v1/auth/logout-all/"): (None, None, dict.fromkeys(ROLES, 204) | {"anon": 401}),
    ("GET", "/api/v1/auth/me/"): (None, None, AUTHENTICATED),
    # Password change and set: no token (a user whose change is required has none); the
    # credentials or the one-time token are the authorisation, whoever sends them.
    ("POST", "/api/v1/auth/password/"): (
        None,
        lambda w: {
            "username": "cm",
            "current_password": STRONG_PASSWORD,
            "new_password": "Neues-Passwort-2027",
        },
        dict.fromkeys(ROLES, 204),
    ),
    ("POST", "/api/v1/auth/password/set/"): (
        None,
        lambda w: {"token": w.ids["set_password_token"], "new_password": "Neues-Passwort-2027"},
        dict.fromkeys(ROLES, 204),
    ),
    # --- API description: public, holds no data
    ("GET", "/api/v1/schema/"): (None, None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/v1/docs/"): (None, None, dict.fromkeys(ROLES, 200)),
    # --- families (case content: assigned case manager only)
    ("GET", "/api/v1/families/"): (
        "family",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/families/"): (
        None,
        lambda w: {"family_name": "Neu"},
        {
            "cm": 201,
            "cm_same": 201,
            "cm_other": 201,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/families/{id}/"): ("family", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/families/{id}/"): ("family", lambda w: {"notes": "neu"}, CASE_ONLY_OWN),
    ("POST", "/api/v1/families/{id}/assign/"): (
        "family",
        lambda w: {"case_manager": str(w.users["cm_same"].pk)},
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # Closing with a referral still open is a conflict (409) for the one who may close;
    # reopening an open case likewise. Everyone else never gets that far.
    ("POST", "/api/v1/families/{id}/close/"): (
        "family",
        lambda w: {"outcome": "self_sufficient", "benefit_status_at_closure": "none"},
        {**CASE_ONLY_OWN, "cm": 409},
    ),
    ("POST", "/api/v1/families/{id}/reopen/"): ("family", None, {**CASE_ONLY_OWN, "cm": 409}),
    # --- persons (authorised through their family)
    ("GET", "/api/v1/persons/"): (
        "person",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/persons/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "role": "child",
            "given_name": "Yusuf",
            "family_name": "Haddad",
        },
        {
            "cm": 201,
            "cm_same": 400,
            "cm_other": 400,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/persons/{id}/"): ("person", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/persons/{id}/"): ("person", lambda w: {"given_name": "Amira"}, CASE_ONLY_OWN),
    # --- goals, referrals, consents, conferences, contacts: all through their family
    ("GET", "/api/v1/goals/"): ("goal", None, CASE_LIST),
    ("POST", "/api/v1/goals/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "field_of_action": w.ids["field"],
            "description": "Führerschein",
        },
        CASE_CREATE,
    ),
    ("GET", "/api/v1/goals/{id}/"): ("goal", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/goals/{id}/"): ("goal", lambda w: {"description": "B2"}, CASE_ONLY_OWN),
    ("GET", "/api/v1/goals/{id}/reviews/"): ("goal", None, CASE_ONLY_OWN),
    # --- integration plans, versions, approval, assessments (issue 19)
    ("GET", "/api/v1/plans/"): ("plan", None, CASE_LIST),
    # the family has its plan already: a conflict for the one who may write
    ("POST", "/api/v1/plans/"): (None, lambda w: {"family": w.ids["family"]}, {**CASE_CREATE, "cm": 409}),
    ("GET", "/api/v1/plans/{id}/"): ("plan", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/plans/{id}/"): ("plan", lambda w: {"review_on": None}, CASE_ONLY_OWN),
    ("GET", "/api/v1/plan-versions/"): ("plan_version", None, CASE_LIST),
    # a submitted version is undecided: no new one, no edits, no second submission (409)
    ("POST", "/api/v1/plan-versions/"): (None, lambda w: {"plan": w.ids["plan"]}, {**CASE_CREATE, "cm": 409}),
    ("GET", "/api/v1/plan-versions/{id}/"): ("plan_version", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/plan-versions/{id}/"): (
        "plan_version",
        lambda w: {"summary": "neu"},
        {**CASE_ONLY_OWN, "cm": 409},
    ),
    ("POST", "/api/v1/plan-versions/{id}/submit/"): ("plan_version", None, {**CASE_ONLY_OWN, "cm": 409}),
    ("POST", "/api/v1/plan-versions/{id}/agreement/"): (
        "plan_version",
        lambda w: {"agreed_on": timezone.localdate().isoformat(), "agreed_by_representative": "Vormund"},
        CASE_ONLY_OWN,
    ),
    ("GET", "/api/v1/plan-approvals/"): (
        "plan_version",
        None,
        {**SUPERVISOR_ONLY_OWN, "sup": "200:x", "sup_other": "200:-"},
    ),
    ("GET", "/api/v1/plan-approvals/{id}/"): ("plan_version", None, SUPERVISOR_ONLY_OWN),
    ("POST", "/api/v1/plan-approvals/{id}/approve/"): ("plan_version", None, SUPERVISOR_ONLY_OWN),
    ("POST", "/api/v1/plan-approvals/{id}/return/"): ("plan_version", None, SUPERVISOR_ONLY_OWN),
    ("GET", "/api/v1/assessments/"): ("assessment", None, CASE_LIST),
    ("POST", "/api/v1/assessments/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "field_of_action": w.ids["field"],
            "kind": "baseline",
            "score": 3,
        },
        CASE_CREATE,
    ),
    ("GET", "/api/v1/assessments/{id}/"): ("assessment", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/assessments/{id}/"): ("assessment", lambda w: {"score": 4}, CASE_ONLY_OWN),
    # --- deadlines: each case manager their own (filtered), supervisors counts only
    ("GET", "/api/v1/dashboard/"): (
        None,
        None,
        dict.fromkeys(ROLES, 403) | {"cm": 200, "cm_same": 200, "cm_other": 200, "anon": 401},
    ),
    ("GET", "/api/v1/dashboard/caseloads/"): (
        None,
        None,
        dict.fromkeys(ROLES, 403) | {"sup": 200, "sup_other": 200, "anon": 401},
    ),
    ("POST", "/api/v1/goals/{id}/reviews/"): (
        "goal",
        lambda w: {"status": "in_progress", "note": "läuft"},
        {**CASE_ONLY_OWN, "cm": 201},
    ),
    ("GET", "/api/v1/referrals/"): ("referral", None, CASE_LIST),
    ("POST", "/api/v1/referrals/"): (
        None,
        lambda w: {"person": w.ids["person"], "course": w.ids["course"]},
        CASE_CREATE,
    ),
    ("GET", "/api/v1/referrals/{id}/"): ("referral", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/referrals/{id}/"): ("referral", lambda w: {"note": "Rückruf"}, CASE_ONLY_OWN),
    ("POST", "/api/v1/referrals/{id}/transition/"): ("referral", lambda w: {"to": "sent"}, CASE_ONLY_OWN),
    ("GET", "/api/v1/consents/"): ("consent", None, CASE_LIST),
    ("POST", "/api/v1/consents/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "person": w.ids["person"],
            "recipient": "school",
            "purpose": "Schulgespräch",
            "given_on": timezone.localdate().isoformat(),
        },
        CASE_CREATE,
    ),
    ("GET", "/api/v1/consents/{id}/"): ("consent", None, CASE_ONLY_OWN),
    ("POST", "/api/v1/consents/{id}/withdraw/"): ("consent", None, CASE_ONLY_OWN),
    ("GET", "/api/v1/conferences/"): ("conference", None, CASE_LIST),
    ("POST", "/api/v1/conferences/"): (
        None,
        lambda w: {"family": w.ids["family"], "scheduled_at": "2030-01-15T10:00:00+01:00", "format": "video"},
        CASE_CREATE,
    ),
    ("GET", "/api/v1/conferences/{id}/"): ("conference", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/conferences/{id}/"): (
        "conference",
        lambda w: {"agenda": "1. Sprachkurs"},
        CASE_ONLY_OWN,
    ),
    ("POST", "/api/v1/conferences/{id}/participants/"): (
        "conference",
        lambda w: {"kind": "internal", "user": str(w.users["sup"].pk)},
        {**CASE_ONLY_OWN, "cm": 201},
    ),
    ("POST", "/api/v1/conferences/{id}/hold/"): (
        "conference",
        lambda w: {"minutes": "Ergebnis"},
        CASE_ONLY_OWN,
    ),
    ("POST", "/api/v1/conferences/{id}/cancel/"): ("conference", None, CASE_ONLY_OWN),
    ("GET", "/api/v1/contacts/"): ("contact", None, CASE_LIST),
    ("POST", "/api/v1/contacts/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "occurred_on": timezone.localdate().isoformat(),
            "kind": "phone",
            "initiated_by": "case_manager",
        },
        CASE_CREATE,
    ),
    ("GET", "/api/v1/contacts/{id}/"): ("contact", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/contacts/{id}/"): ("contact", lambda w: {"duration_minutes": 30}, CASE_ONLY_OWN),
    # --- catalogue: read by all staff of the district and its towns, edited by admins and supervisors
    ("GET", "/api/v1/fields-of-action/"): ("field", None, CATALOGUE_LIST),
    ("POST", "/api/v1/fields-of-action/"): (
        None,
        lambda w: {"organisation": str(w.district.pk), "code": "digital", "name": "Digital skills"},
        CATALOGUE_CREATE,
    ),
    ("GET", "/api/v1/fields-of-action/{id}/"): ("field", None, CATALOGUE_GET),
    ("PATCH", "/api/v1/fields-of-action/{id}/"): ("field", lambda w: {"name": "Mobilität"}, CATALOGUE_EDIT),
    ("GET", "/api/v1/providers/"): ("provider", None, CATALOGUE_LIST),
    ("POST", "/api/v1/providers/"): (
        None,
        lambda w: {"organisation": str(w.district.pk), "name": "Caritas"},
        CATALOGUE_CREATE,
    ),
    ("GET", "/api/v1/providers/{id}/"): ("provider", None, CATALOGUE_GET),
    ("PATCH", "/api/v1/providers/{id}/"): ("provider", lambda w: {"phone": "0123 456"}, CATALOGUE_EDIT),
    ("GET", "/api/v1/courses/"): ("course", None, CATALOGUE_LIST),
    ("POST", "/api/v1/courses/"): (
        None,
        lambda w: {
            "provider": w.ids["provider"],
            "title": "Elternkurs",
            "course_type": "parenting",
            "starts_on": "2030-02-01",
            "ends_on": "2030-03-01",
            "capacity": 12,
        },
        CATALOGUE_CREATE,
    ),
    ("GET", "/api/v1/courses/{id}/"): ("course", None, CATALOGUE_GET),
    ("PATCH", "/api/v1/courses/{id}/"): ("course", lambda w: {"capacity": 25}, CATALOGUE_EDIT),
    # --- the DPO's record of processing activities and audit trail (audit: 404 for everyone else)
    ("GET", "/api/v1/privacy/registry/"): (None, None, dict.fromkeys(ROLES, 403) | {"dpo": 200, "anon": 401}),
    ("GET", "/api/v1/privacy/access-grants/"): (None, None, DPO_ONLY),
    ("GET", "/api/v1/privacy/registry/versions/"): (None, None, DPO_ONLY),
    ("POST", "/api/v1/privacy/registry/versions/"): (None, None, {**DPO_ONLY, "dpo": 201}),
    ("GET", "/api/v1/privacy/controllers/{organisation_id}/"): ("organisation", None, DPO_ONLY),
    ("PUT", "/api/v1/privacy/controllers/{organisation_id}/"): (
        "organisation",
        lambda w: {
            "name": "Landkreis A",
            "address": "Kreishaus, Hauptstraße 1, 12345 A-Stadt",
            "representative": "Landrätin",
            "dpo_contact": "datenschutz@kreis-a.example",
        },
        DPO_ONLY,
    ),
    ("GET", "/api/v1/privacy/retention/{organisation_id}/"): ("organisation", None, DPO_ONLY),
    ("PUT", "/api/v1/privacy/retention/{organisation_id}/"): (
        "organisation",
        lambda w: {"periods": {"consents": 1500}},
        DPO_ONLY,
    ),
    ("GET", "/api/v1/privacy/retention/{organisation_id}/reports/"): ("organisation", None, DPO_ONLY),
    ("GET", "/api/v1/privacy/retention/{organisation_id}/preview/"): ("organisation", None, DPO_ONLY),
    ("GET", "/api/v1/audit/events/"): (
        "audit",
        None,
        dict.fromkeys(ROLES, 404) | {"dpo": "200:x", "anon": 401},
    ),
    ("GET", "/api/v1/audit/events/{id}/"): (
        "audit",
        None,
        dict.fromkeys(ROLES, 404) | {"dpo": 200, "anon": 401},
    ),
    ("GET", "/api/v1/audit/events/{id}/proof/"): (
        "audit",
        None,
        dict.fromkeys(ROLES, 404) | {"dpo": 200, "anon": 401},
    ),
    # --- data subject rights (DPO only); the world's family is an open case, hence the 409s
    ("GET", "/api/v1/privacy/subjects/{person_id}/export/"): ("person", None, DPO_ONLY),
    ("POST", "/api/v1/privacy/subjects/{person_id}/restriction/"): (
        "person",
        lambda w: {"reason": "Richtigkeit bestritten"},
        {**DPO_ONLY, "dpo": 201},
    ),
    ("DELETE", "/api/v1/privacy/subjects/{person_id}/restriction/"): (
        "person",
        None,
        {**DPO_ONLY, "dpo": 409},
    ),
    ("POST", "/api/v1/privacy/families/{family_id}/legal-hold/"): (
        "family",
        lambda w: {"until": "2030-01-01", "reason": "Klage"},
        DPO_ONLY,
    ),
    ("DELETE", "/api/v1/privacy/families/{family_id}/legal-hold/"): (
        "family",
        None,
        {**DPO_ONLY, "dpo": 409},
    ),
    ("GET", "/api/v1/privacy/erasure-requests/"): ("erasure", None, {**DPO_ONLY, "dpo": "200:x"}),
    ("GET", "/api/v1/privacy/subjects/{person_id}/rectifications/"): ("person", None, DPO_ONLY),
    ("POST", "/api/v1/privacy/subjects/{person_id}/rectifications/"): (
        "person",
        lambda w: {"field": "given_name", "value": "Zainab", "reason": "Pass vorgelegt"},
        {**DPO_ONLY, "dpo": 201},
    ),
    ("GET", "/api/v1/privacy/recipient-notices/"): ("notice", None, {**DPO_ONLY, "dpo": "200:x"}),
    ("GET", "/api/v1/privacy/recipient-notices/{id}/"): ("notice", None, DPO_ONLY),
    ("POST", "/api/v1/privacy/recipient-notices/{id}/informed/"): ("notice", None, DPO_ONLY),
    ("GET", "/api/v1/privacy/objections/"): ("objection", None, {**DPO_ONLY, "dpo": "200:x"}),
    ("GET", "/api/v1/privacy/breaches/"): ("breach", None, {**DPO_ONLY, "dpo": "200:x"}),
    ("POST", "/api/v1/privacy/breaches/"): (
        None,
        lambda w: {
            "organisation": str(w.district.pk),
            "description": "Fehlversand",
            "occurred_from": "2026-01-01T10:00:00+01:00",
            "occurred_to": "2026-01-01T12:00:00+01:00",
            "discovered_at": "2026-01-02T09:00:00+01:00",
        },
        {**DPO_ONLY, "dpo": 201},
    ),
    ("GET", "/api/v1/privacy/breaches/{id}/"): ("breach", None, DPO_ONLY),
    ("GET", "/api/v1/privacy/breaches/{id}/affected/"): ("breach", None, DPO_ONLY),
    ("POST", "/api/v1/privacy/objections/"): (
        None,
        lambda w: {"person": w.ids["second_person"], "reason": "Besondere Situation"},
        {**DPO_ONLY, "dpo": 201},
    ),
    ("GET", "/api/v1/privacy/objections/{id}/"): ("objection", None, DPO_ONLY),
    ("POST", "/api/v1/privacy/objections/{id}/decision/"): (
        "objection",
        lambda w: {"decision": "rejected", "reason": "Gesetzliche Aufgabe"},
        DPO_ONLY,
    ),
    ("POST", "/api/v1/privacy/erasure-requests/"): (
        None,
        lambda w: {"family": w.ids["family"], "dry_run": True},
        {**DPO_ONLY, "dpo": 409},
    ),
    ("GET", "/api/v1/privacy/erasure-requests/{id}/"): ("erasure", None, DPO_ONLY),
    # --- anonymised statistics: supervisors (their organisations), case managers (own caseload)
    ("GET", "/api/v1/stats/outcomes/"): (None, None, STATS),
    ("GET", "/api/v1/stats/outcomes/chart.svg"): (None, None, STATS),
    # --- supervisors' non-personal case list
    ("GET", "/api/v1/case-overview/"): (
        "family",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/case-overview/{id}/"): (
        "family",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- deputies
    ("GET", "/api/v1/deputies/"): (
        "deputyship",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/deputies/"): (
        None,
        lambda w: {"deputy": str(w.users["cm_same"].pk)},
        {
            "cm": 201,
            "cm_same": 400,
            "cm_other": 400,
            "sup": 400,
            "sup_other": 400,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/deputies/{id}/"): (
        "deputyship",
        None,
        {
            "cm": 200,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("DELETE", "/api/v1/deputies/{id}/"): (
        "deputyship",
        None,
        {
            "cm": 204,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 204,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- possible duplicates (the creating case manager learns nothing; reviewers decide)
    ("GET", "/api/v1/duplicate-reviews/"): (
        "duplicate_review",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": "200:x",
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/duplicate-reviews/{id}/"): (
        "duplicate_review",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/duplicate-reviews/{id}/resolve/"): (
        "duplicate_review",
        lambda w: {"status": "not_duplicate"},
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- break the glass
    ("GET", "/api/v1/emergency-access/"): (
        "access",
        None,
        {
            "cm": "200:-",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": "200:x",
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "reason": "Kindeswohlgefährdung gemeldet, Kollegin nicht erreichbar",
        },
        {
            "cm": 400,
            "cm_same": 201,
            "cm_other": 400,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/emergency-access/{id}/"): (
        "access",
        None,
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/{id}/end/"): (
        "access",
        None,
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/{id}/review/"): (
        "access",
        lambda w: {"note": "berechtigt"},
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/emergency-openings/"): (
        "access",
        None,
        {
            "cm": "200:x",  # the assigned case manager sees who broke the glass on their family
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,  # the DPO reviews through /emergency-access/
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/emergency-access-requests/"): (
        "access_request",
        None,
        {
            "cm": "200:-",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access-requests/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "reason": "Kindeswohlgefährdung gemeldet, Kollegin nicht erreichbar",
        },
        {
            "cm": 400,  # already has access
            "cm_same": 409,  # no recent opening: open directly, no approval needed
            "cm_other": 400,  # no such family
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/emergency-access-requests/{id}/"): (
        "access_request",
        None,
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access-requests/{id}/approve/"): (
        "access_request",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access-requests/{id}/decline/"): (
        "access_request",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- administration (no case content)
    ("GET", "/api/v1/organisations/"): ("organisation", None, ADMIN_LIST),
    ("POST", "/api/v1/organisations/"): (
        None,
        lambda w: {"name": "Gemeinde Neu", "kind": "town", "parent": str(w.district.pk)},
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    ("GET", "/api/v1/organisations/{id}/"): ("organisation", None, ADMIN_ONLY_OWN),
    ("PATCH", "/api/v1/organisations/{id}/"): (
        "organisation",
        lambda w: {"name": "Landkreis A-neu"},
        ADMIN_ONLY_OWN,
    ),
    ("GET", "/api/v1/users/"): ("user", None, ADMIN_LIST),
    ("POST", "/api/v1/users/"): (
        None,
        lambda w: {
            "username": "newuser",
            "organisation": str(w.district.pk),
            "role": "case_manager",
        },
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    ("GET", "/api/v1/users/{id}/"): ("user", None, ADMIN_ONLY_OWN),
    ("PATCH", "/api/v1/users/{id}/"): ("user", lambda w: {"first_name": "Clara"}, ADMIN_ONLY_OWN),
    ("POST", "/api/v1/users/{id}/require-password-change/"): ("user", None, ADMIN_ONLY_OWN),
    ("POST", "/api/v1/users/{id}/set-password-token/"): ("user", None, {**ADMIN_ONLY_OWN, "admin": 201}),
    ("GET", "/api/v1/memberships/"): ("membership", None, ADMIN_LIST),
    ("POST", "/api/v1/memberships/"): (
        None,
        lambda w: {
            "user": str(w.users["cm_same"].pk),
            "organisation": w.ids["town"],
            "role": "supervisor",
        },
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    # The same for a user of another district: 404 for the district's administrator
    # (an administrator acts only within their own organisation tree).
    ("POST", "/api/v1/memberships/?user=other-district"): (
        None,
        lambda w: {
            "user": str(w.users["cm_other"].pk),
            "organisation": str(w.district.pk),
            "role": "supervisor",
        },
        {**ADMIN_ONLY_OWN, "admin": 404, "admin_other": 400},
    ),
    ("GET", "/api/v1/memberships/{id}/"): ("membership", None, ADMIN_ONLY_OWN),
    ("DELETE", "/api/v1/memberships/{id}/"): ("membership", None, {**ADMIN_ONLY_OWN, "admin": 204}),
    # --- handovers: the case manager offers; the receiving organisation's supervisor decides
    ("GET", "/api/v1/handovers/"): (
        "handover_in",
        None,
        {**CASE_LIST, "cm": "200:-", "sup": "200:x", "sup_other": "200:-"},
    ),
    ("GET", "/api/v1/handovers/?direction=outgoing"): (
        "handover_out",
        None,
        {**CASE_LIST, "sup": "200:x", "sup_other": "200:-"},
    ),
    ("POST", "/api/v1/handovers/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "to_organisation": w.ids["town"],
            "reason": "moved",
            "legal_basis": "statutory_task",
        },
        CASE_CREATE,
    ),
    ("GET", "/api/v1/handovers/{id}/"): (
        "handover_in",
        None,
        {**CASE_ONLY_OWN, "cm": 404, "sup": 200, "sup_other": 404},
    ),
    ("GET", "/api/v1/handovers/{id}/?sender"): (
        "handover_out",
        None,
        {**CASE_ONLY_OWN, "sup": 200, "sup_other": 404},
    ),
    ("POST", "/api/v1/handovers/{id}/accept/"): (
        "handover_in",
        lambda w: {"case_manager": str(w.users["cm_same"].pk)},
        {**CASE_ONLY_OWN, "cm": 403, "cm_same": 403, "cm_other": 403, "sup": 200, "sup_other": 404},
    ),
    # the sending side's supervisor sees the offer but does not decide it
    ("POST", "/api/v1/handovers/{id}/accept/?sender"): (
        "handover_out",
        lambda w: {"case_manager": str(w.users["cm_same"].pk)},
        {**CASE_ONLY_OWN, "cm": 403, "cm_same": 403, "cm_other": 403, "sup": 404, "sup_other": 404},
    ),
    ("POST", "/api/v1/handovers/{id}/decline/"): (
        "handover_in",
        None,
        {**CASE_ONLY_OWN, "cm": 403, "cm_same": 403, "cm_other": 403, "sup": 200, "sup_other": 404},
    ),
    ("POST", "/api/v1/handovers/{id}/withdraw/"): (
        "handover_out",
        None,
        {**CASE_ONLY_OWN, "sup": 200, "sup_other": 404},
    ),
    # the receiver cannot withdraw the sender's offer
    ("POST", "/api/v1/handovers/{id}/withdraw/?receiver"): (
        "handover_in",
        None,
        {**CASE_ONLY_OWN, "cm": 404, "sup": 404, "sup_other": 404},
    ),
    # --- report to the Land and its indicator targets: supervisors of the organisation
    ("GET", "/api/v1/reports/land/"): (None, None, {**SUPERVISOR_ONLY, "sup": 400, "sup_other": 400}),
    ("GET", "/api/v1/reports/land/?organisation={id}"): ("organisation", None, SUPERVISOR_ONLY),
    ("GET", "/api/v1/report-indicators/"): (
        "indicator",
        None,
        {**SUPERVISOR_ONLY, "sup": "200:x", "sup_other": "200:-"},
    ),
    ("POST", "/api/v1/report-indicators/"): (
        None,
        lambda w: {"organisation": str(w.district.pk), "year": 2026, "code": "closed_cases", "target": 3},
        {**SUPERVISOR_ONLY, "sup": 201, "sup_other": 400},
    ),
    ("GET", "/api/v1/report-indicators/{id}/"): ("indicator", None, SUPERVISOR_ONLY),
    ("DELETE", "/api/v1/report-indicators/{id}/"): ("indicator", None, {**SUPERVISOR_ONLY, "sup": 204}),
    # --- documents (case content, through the family)
    ("GET", "/api/v1/documents/"): ("document", None, CASE_LIST),
    ("POST", "/api/v1/documents/"): (
        None,
        lambda w: {"target_kind": "family", "target_id": w.ids["family"], "file": _pdf()},
        CASE_CREATE,
    ),
    ("GET", "/api/v1/documents/{id}/"): ("document", None, CASE_ONLY_OWN),
    ("GET", "/api/v1/documents/{id}/download/"): ("document", None, CASE_ONLY_OWN),
    ("DELETE", "/api/v1/documents/{id}/"): ("document", None, {**CASE_ONLY_OWN, "cm": 204}),
}


def _pdf() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan")


CASES = [(verb, path, role) for (verb, path) in MATRIX for role in ROLES]


@pytest.mark.parametrize(("verb", "path", "role"), CASES, ids=[f"{v} {p} {r}" for v, p, r in CASES])
def test_access(world: World, verb: str, path: str, role: str) -> None:
    target, body, expected_by_role = MATRIX[(verb, path)]
    expected = expected_by_role[role]
    url = path
    for placeholder in ("{id}", "{person_id}", "{family_id}", "{organisation_id}"):
        if target and placeholder in url:
            url = url.replace(placeholder, world.ids[target])
    client = client_for(None if role == "anon" else world.users[role])
    data = (body or _no_body)(world)
    if any(hasattr(value, "read") for value in data.values()):  # a file upload
        response = client.post(url, data, format="multipart")
    else:
        response = client.generic(
            verb, url, data=_json(data) if data else "", content_type="application/json"
        )
    status, _, sees = str(expected).partition(":")
    assert response.status_code == int(status), (response.status_code, response.content[:300])
    if sees:
        body = response.json()
        ids = {str(item["id"]) for item in (body["results"] if isinstance(body, dict) else body)}
        assert (world.ids[target] in ids) == (sees == "x"), ids  # type: ignore[index]


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)


def _url_conf_endpoints() -> set[tuple[str, str]]:
    endpoints = set()
    for path, _regex, method, _callback in EndpointEnumerator().get_api_endpoints():
        if method in {"HEAD", "OPTIONS"}:
            continue
        endpoints.add((method, path.replace("{pk}", "{id}")))
    return endpoints


def test_matrix_covers_every_endpoint() -> None:
    endpoints = _url_conf_endpoints()
    missing = endpoints - set(MATRIX)
    # A "?..." suffix marks a second row for the same endpoint (another body).
    stale = {(verb, path.split("?")[0]) for verb, path in MATRIX} - endpoints
    assert not missing, f"endpoints without a row in the access matrix: {sorted(missing)}"
    assert not stale, f"rows for endpoints that no longer exist: {sorted(stale)}"


def test_every_row_names_every_role() -> None:
    for key, (_, _, expected) in MATRIX.items():
        assert set(expected) == set(ROLES), key
