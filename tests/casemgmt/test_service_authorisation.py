"""Every service authorises its acting user itself, whoever calls it (API, admin, command, shell).

The services are enumerated by introspection: a new public function in ``casemgmt.services``
or ``privacy.rights`` that takes ``acting_user`` must appear in ``CASES`` below (and so be
called by a user of another district and by an unassigned colleague, and refused), or the
test fails. A function without ``acting_user`` must be listed in ``NOT_SERVICES`` with why.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.utils import timezone
from pytest_django import DjangoDbBlocker

import casemgmt.services
from casemgmt.models import DuplicateReview, Organisation, Role, User
from casemgmt.services import access, administration, catalogue, conferences, consents, contacts, goals, plans
from casemgmt.services import families as family_services
from casemgmt.services import referrals as referral_services
from casemgmt.services.goals import fields_of_action_for
from privacy import breaches, controllers, retention, rights
from privacy.models import AuditEntry, RecipientNotice
from tests.factories import OrganisationFactory, make_family, make_person, make_user, setup_writes
from tests.scenes import fresh_copy, rolled_back_scene

REASON = "Child protection call at night, case manager unreachable"

SERVICE_MODULES = [
    *(
        importlib.import_module(f"casemgmt.services.{info.name}")
        for info in pkgutil.iter_modules(casemgmt.services.__path__)
    ),
    rights,
    controllers,
    breaches,
    retention,
]

#: Public functions of the service modules that are not writes on behalf of a user.
NOT_SERVICES = {
    "affected": "a read: who and what a breach window touched (the view logs the access)",
    "recipient_notices_create": "internal step of the Art. 16/17/18/21 services, which authorise",
    "shareable_household": "a read: the members a household-wide consent, agenda or handover concerns",
    "record_versions_refresh": "the nightly worker run (a system process, no user); stores only what changed",
    "caseload_group": "internal step of family_grant/deputy_add (the group of a caseload)",
    "family_grant": "internal step of family_create/family_assign, which authorise",
    "family_revoke": "internal step of family_assign, which authorises",
    "tokens_revoke": "internal step of user_update (deactivation) and of the auth endpoints",
    "users_managed_by": "a read: the accounts an administrator manages",
    "fields_of_action_for": "a read: fields a family's goals may use",
    "valid_on": "a query condition",
    "consents_covering": "a read used by conference services, which authorise",
    "signed_form_attached": "a query condition (whether a consent's signed form is attached)",
    "usable": "a query condition (consents case work may rely on)",
    "uncovered": "a check used by conference services, which authorise",
    "apply_changes": "a helper setting allowed fields",
    "clean_new": "model validation of a row the calling service is about to insert",
    "invalid": "builds a validation error",
    "require_open_family": "a check used inside services",
    "require_member": "a check used inside services",
    "require_not_future": "a check used inside services",
    "require_not_restricted": "a check used inside services",
    "account_event": "writes the audit entry of an account event inside the calling service",
    "tokens_revoke_all": "internal step of password changes, which are authorised",
    "record_password_change": "internal step of every password change (the post_save receiver)",
    "primary_organisation_id": "a read: the organisation an account event is filed under",
    "password_change": "authorised by the user's current password, not a role; the user is the actor",
    "password_set_with_token": "authorised by a one-time token; audited with its user as actor",
    "refuse_admin_password_change": "a check behind the admin's password form; writes nothing",
    "clean_emergency_reason": "validates an emergency reason inside the emergency services",
    "emergency_reopen_needs_approval": "a read: whether a repeat opening needs approval",
    "same_tree": "a read: whether two organisations share a district tree",
    "handover_expire_lapsed": "the job marking lapsed offers expired (a named system process)",
    "sniff": "reads a file's first bytes",
    "max_bytes": "a setting",
    "document_storage": "the storage documents live in",
    "resolve_target": "a read used by document_create, which authorises",
    "delete_stored_files": "internal step of erasure and document_delete (after commit)",
    "rules_by_code": "a read: the declared retention rules",
    "covered_models": "a read: which tables the retention rules cover",
    "periods_for": "a read: an organisation's retention periods",
    "case_retention_days": "a read: the closed-case period",
    "apply_retention": "the nightly job and apply_retention (a named system process, acting_as_system)",
    "apply_audit_retention": "step of apply_retention: prunes sealed audit ranges (system process)",
    "report_text": "formats a retention report for the console",
}


def public_functions() -> dict[str, Callable[..., Any]]:
    found = {}
    for module in SERVICE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                found[name] = function
    return found


def services() -> dict[str, Callable[..., Any]]:
    return {
        name: f
        for name, f in public_functions().items()
        if "acting_user" in inspect.signature(f).parameters and name not in NOT_SERVICES
    }


@dataclass
class World:
    """One district with a case worked on, its staff, and another district's users in every role."""

    district: Organisation
    cm: User
    colleague: User
    supervisor: User
    dpo: User
    admin: User
    outsiders: list[User]
    objects: dict[str, Any]


@pytest.fixture(scope="module")
def built_world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    """The world, built once for the module's cases (building it took nearly all their time)."""
    yield from rolled_back_scene(build_world, django_db_blocker)


@pytest.fixture
def world(db: None, built_world: World) -> World:
    """The module's world as built: a deep copy, so instances a service changed in memory in an
    earlier test do not carry over; this test's writes are rolled back with its savepoint."""
    return fresh_copy(built_world)


def build_world() -> World:
    district = OrganisationFactory(name="Landkreis Musterland", reference_prefix="LK")
    other = OrganisationFactory(name="Landkreis Anderswo", reference_prefix="AW")
    town = OrganisationFactory(
        name="Stadt Beispielstadt", kind="town", parent=district, reference_prefix="BS"
    )
    cm = make_user(district, Role.CASE_MANAGER, username="cm")
    colleague = make_user(district, Role.CASE_MANAGER, username="colleague")
    supervisor = make_user(district, Role.SUPERVISOR, username="supervisor")
    dpo = make_user(district, Role.DPO, username="dpo")
    admin = make_user(district, Role.ADMIN, username="admin")
    # One membership per organisation: the other district has a user in each role.
    outsiders = [make_user(other, role, username=f"outsider-{role}") for role in Role.values]
    deputy = make_user(district, Role.CASE_MANAGER, username="deputy")
    night_duty = make_user(district, Role.CASE_MANAGER, username="night-duty")
    family = make_family(cm, district)
    person = make_person(family, cm)
    closed = make_family(cm, district, family_name="Closed")
    family_services.family_close(
        family=closed, outcome="self_sufficient", benefit_status_at_closure="none", acting_user=cm
    )
    provider = catalogue.provider_create(organisation=district, name="VHS", acting_user=admin)
    course = catalogue.course_create(
        provider=provider,
        title="Integrationskurs",
        course_type="integration_course",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=90),
        capacity=10,
        acting_user=admin,
    )
    own_field = catalogue.field_of_action_create(
        organisation=district, code="own", name="Own field", acting_user=admin
    )
    field = fields_of_action_for(family).get(code="language")
    goal = goals.goal_create(family=family, field_of_action=field, description="Learn German", acting_user=cm)
    referral = referral_services.referral_create(person=person, course=course, acting_user=cm)
    consent = consents.consent_create(
        family=family,
        person=person,
        recipient="jobcenter",
        purpose="Job search",
        given_on=timezone.localdate(),
        acting_user=cm,
    )
    conference = conferences.conference_create(
        family=family, scheduled_at=timezone.now() + datetime.timedelta(days=3), acting_user=cm
    )
    contact = contacts.contact_create(
        family=family, occurred_on=timezone.localdate(), kind="office", initiated_by="family", acting_user=cm
    )
    deputyship = access.deputy_add(principal=cm, deputy=deputy, acting_user=cm)
    emergency = access.emergency_access_open(
        family=make_family(cm, district, family_name="Emergency"),
        acting_user=night_duty,
        reason=REASON,
    )
    repeat_family = make_family(cm, district, family_name="Repeat")
    access.emergency_access_end(
        access=access.emergency_access_open(family=repeat_family, acting_user=night_duty, reason=REASON),
        acting_user=night_duty,
    )
    access_request = access.emergency_access_request(
        family=repeat_family, acting_user=night_duty, reason=REASON
    )
    plan = plans.plan_create(family=family, acting_user=cm)
    plans.plan_version_approve(
        version=plans.plan_version_submit(
            version=plans.plan_version_create(plan=plan, acting_user=cm), acting_user=cm
        ),
        acting_user=supervisor,
    )
    draft = plans.plan_version_create(
        plan=plans.plan_create(family=make_family(cm, district, family_name="Plan B"), acting_user=cm),
        acting_user=cm,
    )
    submitted = plans.plan_version_submit(
        version=plans.plan_version_create(
            plan=plans.plan_create(family=make_family(cm, district, family_name="Plan C"), acting_user=cm),
            acting_user=cm,
        ),
        acting_user=cm,
    )
    assessment = plans.assessment_create(
        family=family, field_of_action=field, kind="baseline", score=2, acting_user=cm
    )
    with setup_writes("case_management"):
        review = DuplicateReview.objects.create(
            organisation=district, person=make_person(family, cm), candidate=person, match="possible"
        )
    objection = rights.objection_add(person=person, reason="Widerspruch", acting_user=dpo)
    second_person = make_person(family, cm)
    with setup_writes("data_subject_rights"):
        notice = RecipientNotice.objects.create(
            person=person,
            cause="restriction",
            cause_id=person.pk,
            recipient_kind="jobcenter",
            received_via="case_conference",
            created_at=timezone.now(),
        )
    # Handovers: a town case offered to the district ("supervisor" decides), one of cm's to the town.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casemgmt.services.documents import document_create
    from casemgmt.services.handovers import handover_offer

    town_cm = make_user(town, Role.CASE_MANAGER, username="town-cm")
    incoming = handover_offer(
        family=make_family(town_cm, town, family_name="Town"),
        to_organisation=district,
        reason="moved",
        legal_basis="statutory_task",
        acting_user=town_cm,
    )
    outgoing = handover_offer(
        family=make_family(cm, district, family_name="Moving"),
        to_organisation=town,
        reason="moved",
        legal_basis="statutory_task",
        acting_user=cm,
    )
    document = document_create(
        target_kind="person",
        target_id=person.pk,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4"),
        acting_user=cm,
    )
    from casemgmt.services.reporting import report_indicator_set

    indicator = report_indicator_set(
        organisation=district, year=2026, code="new_cases", target=10, acting_user=supervisor
    )
    return World(
        district=district,
        cm=cm,
        colleague=colleague,
        supervisor=supervisor,
        dpo=dpo,
        admin=admin,
        outsiders=outsiders,
        objects={
            "family": family,
            "town": town,
            "person": person,
            "closed": closed,
            "provider": provider,
            "course": course,
            "own_field": own_field,
            "field": field,
            "goal": goal,
            "plan": plan,
            "draft": draft,
            "submitted": submitted,
            "assessment": assessment,
            "referral": referral,
            "consent": consent,
            "conference": conference,
            "contact": contact,
            "deputyship": deputyship,
            "emergency": emergency,
            "membership": cm.memberships.get(),
            "review": review,
            "repeat_family": repeat_family,
            "access_request": access_request,
            "objection": objection,
            "second_person": second_person,
            "notice": notice,
            "incoming": incoming,
            "outgoing": outgoing,
            "document": document,
            "indicator": indicator,
        },
    )


Call = Callable[[World, User], Any]
o = lambda w, name: w.objects[name]  # noqa: E731

#: service -> (call with a given acting user, the rightful user's attribute on World)
CASES: dict[str, tuple[Call, str]] = {
    # families and persons
    "family_create": (
        lambda w, u: family_services.family_create(organisation=w.district, family_name="New", acting_user=u),
        "cm",
    ),
    "family_update": (
        lambda w, u: family_services.family_update(family=o(w, "family"), notes="n", acting_user=u),
        "cm",
    ),
    "family_close": (
        lambda w, u: family_services.family_close(
            family=o(w, "family"), outcome="moved_away", benefit_status_at_closure="none", acting_user=u
        ),
        "",  # the family has an open referral: the rightful call is a 409, tested elsewhere
    ),
    "family_reopen": (lambda w, u: family_services.family_reopen(family=o(w, "closed"), acting_user=u), "cm"),
    "person_create": (
        lambda w, u: __import__("casemgmt.services.persons", fromlist=["x"]).person_create(
            family=o(w, "family"), role="child", given_name="Lina", family_name="Haddad", acting_user=u
        ),
        "cm",
    ),
    "person_update": (
        lambda w, u: __import__("casemgmt.services.persons", fromlist=["x"]).person_update(
            person=o(w, "person"), given_name="Amira", acting_user=u
        ),
        "cm",
    ),
    # case work
    "goal_create": (
        lambda w, u: goals.goal_create(
            family=o(w, "family"), field_of_action=o(w, "field"), description="d", acting_user=u
        ),
        "cm",
    ),
    "plan_create": (lambda w, u: plans.plan_create(family=o(w, "repeat_family"), acting_user=u), "cm"),
    "plan_update": (
        lambda w, u: plans.plan_update(plan=o(w, "plan"), review_on=timezone.localdate(), acting_user=u),
        "cm",
    ),
    "plan_version_create": (lambda w, u: plans.plan_version_create(plan=o(w, "plan"), acting_user=u), "cm"),
    "plan_version_update": (
        lambda w, u: plans.plan_version_update(version=o(w, "draft"), summary="s", acting_user=u),
        "cm",
    ),
    "plan_version_submit": (
        lambda w, u: plans.plan_version_submit(version=o(w, "draft"), acting_user=u),
        "cm",
    ),
    "plan_version_approve": (
        lambda w, u: plans.plan_version_approve(version=o(w, "submitted"), acting_user=u),
        "supervisor",
    ),
    "plan_version_return": (
        lambda w, u: plans.plan_version_return(version=o(w, "submitted"), acting_user=u),
        "supervisor",
    ),
    "plan_version_record_agreement": (
        lambda w, u: plans.plan_version_record_agreement(
            version=o(w, "submitted"),
            agreed_on=timezone.localdate(),
            agreed_by_representative="V",
            acting_user=u,
        ),
        "cm",
    ),
    "assessment_create": (
        lambda w, u: plans.assessment_create(
            family=o(w, "family"), field_of_action=o(w, "field"), kind="follow_up", score=3, acting_user=u
        ),
        "cm",
    ),
    "assessment_update": (
        lambda w, u: plans.assessment_update(assessment=o(w, "assessment"), score=4, acting_user=u),
        "cm",
    ),
    "goal_update": (lambda w, u: goals.goal_update(goal=o(w, "goal"), description="e", acting_user=u), "cm"),
    "goal_review_add": (
        lambda w, u: goals.goal_review_add(goal=o(w, "goal"), status="in_progress", acting_user=u),
        "cm",
    ),
    "referral_create": (
        lambda w, u: referral_services.referral_create(
            person=o(w, "person"), provider=o(w, "provider"), acting_user=u
        ),
        "cm",
    ),
    "referral_update": (
        lambda w, u: referral_services.referral_update(referral=o(w, "referral"), note="n", acting_user=u),
        "cm",
    ),
    "referral_transition": (
        lambda w, u: referral_services.referral_transition(
            referral=o(w, "referral"), to="sent", acting_user=u
        ),
        "cm",
    ),
    "consent_create": (
        lambda w, u: consents.consent_create(
            family=o(w, "family"),
            person=o(w, "person"),
            recipient="school",
            purpose="p",
            given_on=timezone.localdate(),
            acting_user=u,
        ),
        "cm",
    ),
    "consent_withdraw": (
        lambda w, u: consents.consent_withdraw(consent=o(w, "consent"), acting_user=u),
        "cm",
    ),
    "conference_create": (
        lambda w, u: conferences.conference_create(
            family=o(w, "family"), scheduled_at=timezone.now() + datetime.timedelta(days=9), acting_user=u
        ),
        "cm",
    ),
    "conference_update": (
        lambda w, u: conferences.conference_update(conference=o(w, "conference"), agenda="a", acting_user=u),
        "cm",
    ),
    "conference_participant_add": (
        lambda w, u: conferences.conference_participant_add(
            conference=o(w, "conference"),
            participant={"kind": "family", "person": o(w, "person")},
            acting_user=u,
        ),
        "cm",
    ),
    "conference_hold": (
        lambda w, u: conferences.conference_hold(conference=o(w, "conference"), minutes="m", acting_user=u),
        "cm",
    ),
    "conference_cancel": (
        lambda w, u: conferences.conference_cancel(conference=o(w, "conference"), acting_user=u),
        "cm",
    ),
    "contact_create": (
        lambda w, u: contacts.contact_create(
            family=o(w, "family"),
            occurred_on=timezone.localdate(),
            kind="phone",
            initiated_by="family",
            acting_user=u,
        ),
        "cm",
    ),
    "contact_update": (
        lambda w, u: contacts.contact_update(contact=o(w, "contact"), notes="n", acting_user=u),
        "cm",
    ),
    # data subject rights (DPO)
    "person_possible_duplicates": (
        lambda w, u: __import__("casemgmt.services.persons", fromlist=["x"]).person_possible_duplicates(
            person=o(w, "person"), acting_user=u
        ),
        "cm",
    ),
    "duplicate_review_resolve": (
        lambda w, u: __import__("casemgmt.services.persons", fromlist=["x"]).duplicate_review_resolve(
            review=o(w, "review"), status="not_duplicate", acting_user=u
        ),
        "supervisor",
    ),
    "password_change_require": (
        lambda w, u: __import__("casemgmt.services.accounts", fromlist=["x"]).password_change_require(
            user=w.colleague, acting_user=u
        ),
        "admin",
    ),
    "set_password_token_issue": (
        lambda w, u: __import__("casemgmt.services.accounts", fromlist=["x"]).set_password_token_issue(
            user=w.colleague, acting_user=u
        ),
        "admin",
    ),
    "controller_profile_set": (
        lambda w, u: controllers.controller_profile_set(
            organisation=w.district,
            name="Landkreis Musterland",
            address="Kreishaus 1",
            representative="Landrätin",
            dpo_contact="dsb@kreis.example",
            acting_user=u,
        ),
        "dpo",
    ),
    "retention_periods_set": (
        lambda w, u: retention.retention_periods_set(
            organisation=w.district, periods={"consents": 730}, acting_user=u
        ),
        "dpo",
    ),
    "record_version_save": (
        lambda w, u: controllers.record_version_save(organisation=w.district, acting_user=u),
        "dpo",
    ),
    "breach_record": (
        lambda w, u: breaches.breach_record(
            organisation=w.district,
            description="Laptop verloren",
            occurred_from=timezone.now(),
            occurred_to=timezone.now(),
            discovered_at=timezone.now(),
            acting_user=u,
        ),
        "dpo",
    ),
    "rectification_record": (
        lambda w, u: rights.rectification_record(
            person=o(w, "person"), field="given_name", value="Olga", reason="Ausweis vorgelegt", acting_user=u
        ),
        "dpo",
    ),
    "recipient_notice_informed": (
        lambda w, u: rights.recipient_notice_informed(notice=o(w, "notice"), acting_user=u),
        "dpo",
    ),
    "objection_add": (
        lambda w, u: rights.objection_add(person=o(w, "second_person"), reason="Widerspruch", acting_user=u),
        "dpo",
    ),
    "objection_decide": (
        lambda w, u: rights.objection_decide(
            objection=o(w, "objection"), decision="rejected", reason="Gesetzliche Pflicht", acting_user=u
        ),
        "dpo",
    ),
    "restriction_add": (
        lambda w, u: rights.restriction_add(person=o(w, "person"), reason="contested", acting_user=u),
        "dpo",
    ),
    "restriction_lift": (lambda w, u: rights.restriction_lift(person=o(w, "person"), acting_user=u), ""),
    "legal_hold_set": (
        lambda w, u: rights.legal_hold_set(
            family=o(w, "family"),
            until=timezone.localdate() + datetime.timedelta(days=30),
            reason="court",
            acting_user=u,
        ),
        "dpo",
    ),
    "legal_hold_clear": (lambda w, u: rights.legal_hold_clear(family=o(w, "family"), acting_user=u), ""),
    "erasure_request": (
        lambda w, u: rights.erasure_request(
            subject=o(w, "closed"), subject_type="family", dry_run=True, acting_user=u
        ),
        "dpo",
    ),
    # access grants
    "family_assign": (
        lambda w, u: access.family_assign(family=o(w, "family"), case_manager=w.colleague, acting_user=u),
        "supervisor",
    ),
    "deputy_add": (lambda w, u: access.deputy_add(principal=w.cm, deputy=w.colleague, acting_user=u), "cm"),
    "deputy_remove": (lambda w, u: access.deputy_remove(deputyship=o(w, "deputyship"), acting_user=u), "cm"),
    "emergency_access_open": (
        lambda w, u: access.emergency_access_open(family=o(w, "family"), reason=REASON, acting_user=u),
        "colleague",
    ),
    "emergency_access_request": (
        lambda w, u: access.emergency_access_request(
            family=o(w, "repeat_family"), reason=REASON, acting_user=u
        ),
        "",
    ),
    "emergency_access_request_approve": (
        lambda w, u: access.emergency_access_request_approve(request=o(w, "access_request"), acting_user=u),
        "supervisor",
    ),
    "emergency_access_request_decline": (
        lambda w, u: access.emergency_access_request_decline(request=o(w, "access_request"), acting_user=u),
        "supervisor",
    ),
    "emergency_access_end": (
        lambda w, u: access.emergency_access_end(access=o(w, "emergency"), acting_user=u),
        "supervisor",
    ),
    "emergency_access_review": (
        lambda w, u: access.emergency_access_review(access=o(w, "emergency"), note="ok", acting_user=u),
        "supervisor",
    ),
    # catalogue
    "field_of_action_create": (
        lambda w, u: catalogue.field_of_action_create(
            organisation=w.district, code="new", name="New", acting_user=u
        ),
        "admin",
    ),
    "field_of_action_update": (
        lambda w, u: catalogue.field_of_action_update(field=o(w, "own_field"), name="Renamed", acting_user=u),
        "admin",
    ),
    "provider_create": (
        lambda w, u: catalogue.provider_create(organisation=w.district, name="Caritas", acting_user=u),
        "admin",
    ),
    "provider_update": (
        lambda w, u: catalogue.provider_update(provider=o(w, "provider"), name="VHS2", acting_user=u),
        "admin",
    ),
    "course_create": (
        lambda w, u: catalogue.course_create(
            provider=o(w, "provider"),
            title="B1",
            course_type="language_course",
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate(),
            capacity=5,
            acting_user=u,
        ),
        "admin",
    ),
    "course_update": (
        lambda w, u: catalogue.course_update(course=o(w, "course"), capacity=12, acting_user=u),
        "admin",
    ),
    # administration
    "organisation_create": (
        lambda w, u: administration.organisation_create(
            name="Neustadt", kind="town", parent=w.district, acting_user=u
        ),
        "admin",
    ),
    "organisation_update": (
        lambda w, u: administration.organisation_update(
            organisation=w.district, name="Landkreis Neu", acting_user=u
        ),
        "admin",
    ),
    "user_create": (
        lambda w, u: administration.user_create(
            username="newbie",
            password="a long and unusual passphrase 42",
            organisation=w.district,
            role=Role.CASE_MANAGER,
            acting_user=u,
        ),
        "admin",
    ),
    "account_create": (
        lambda w, u: administration.account_create(
            acting_user=u, user=User(username="fresh"), organisation=w.district
        ),
        "admin",
    ),
    "user_update": (
        lambda w, u: administration.user_update(user=w.cm, first_name="Clara", acting_user=u),
        "admin",
    ),
    "membership_create": (
        lambda w, u: administration.membership_create(
            user=w.cm, organisation=o(w, "town"), role=Role.CASE_MANAGER, acting_user=u
        ),
        "admin",
    ),
    "membership_delete": (
        lambda w, u: administration.membership_delete(membership=o(w, "membership"), acting_user=u),
        "admin",
    ),
    "membership_update": (
        lambda w, u: administration.membership_update(
            membership=o(w, "membership"), role=Role.SUPERVISOR, acting_user=u
        ),
        "admin",
    ),
    # handovers (issue 19)
    "handover_offer": (
        lambda w, u: __import__("casemgmt.services.handovers", fromlist=["x"]).handover_offer(
            family=o(w, "family"),
            to_organisation=o(w, "town"),
            reason="moved",
            legal_basis="statutory_task",
            acting_user=u,
        ),
        "cm",
    ),
    "handover_accept": (
        lambda w, u: __import__("casemgmt.services.handovers", fromlist=["x"]).handover_accept(
            handover=o(w, "incoming"), case_manager=w.colleague, acting_user=u
        ),
        "supervisor",
    ),
    "handover_decline": (
        lambda w, u: __import__("casemgmt.services.handovers", fromlist=["x"]).handover_decline(
            handover=o(w, "incoming"), acting_user=u
        ),
        "supervisor",
    ),
    "handover_withdraw": (
        lambda w, u: __import__("casemgmt.services.handovers", fromlist=["x"]).handover_withdraw(
            handover=o(w, "outgoing"), acting_user=u
        ),
        "cm",
    ),
    # report indicators (issue 19)
    "report_indicator_set": (
        lambda w, u: __import__("casemgmt.services.reporting", fromlist=["x"]).report_indicator_set(
            organisation=w.district, year=2026, code="closed_cases", target=3, acting_user=u
        ),
        "supervisor",
    ),
    "report_indicator_delete": (
        lambda w, u: __import__("casemgmt.services.reporting", fromlist=["x"]).report_indicator_delete(
            indicator=o(w, "indicator"), acting_user=u
        ),
        "supervisor",
    ),
    # documents (issue 19)
    "document_create": (
        lambda w, u: __import__("casemgmt.services.documents", fromlist=["x"]).document_create(
            target_kind="person",
            target_id=o(w, "person").pk,
            upload=__import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile(
                "b.pdf", b"%PDF-1.4"
            ),
            acting_user=u,
        ),
        "cm",
    ),
    "document_delete": (
        lambda w, u: __import__("casemgmt.services.documents", fromlist=["x"]).document_delete(
            document=o(w, "document"), acting_user=u
        ),
        "cm",
    ),
}

#: Services whose whole point is to act on a family not (yet) one's own, by design.
COLLEAGUE_MAY = {
    "family_create": "opening a new case in one's own organisation",
    "emergency_access_open": "break-the-glass: a colleague opens a family for a limited time, with a reason",
    "emergency_access_request": "break-the-glass again: a colleague asks a supervisor to approve a repeat",
}
#: Services that answer a foreign object exactly like a missing one (404).
CASE_CONTENT_MODULES = {
    "casemgmt.services.families",
    "casemgmt.services.persons",
    "casemgmt.services.goals",
    "casemgmt.services.referrals",
    "casemgmt.services.consents",
    "casemgmt.services.conferences",
    "casemgmt.services.contacts",
    "casemgmt.services.plans",
    "casemgmt.services.catalogue",
    "casemgmt.services.handovers",
    "casemgmt.services.documents",
    "casemgmt.services.reporting",
    "privacy.rights",
}
#: Access services that find the family first: a foreign one is not found either.
FAMILY_FIRST = {"family_assign", "emergency_access_open", "emergency_access_request"}


#: Rightful calls that write no auditlog row (privacy's own records are the record).
NO_AUDIT_ENTRY = {
    "erasure_request": "a dry run; the ErasureRequest row is the DPO's record",
    "restriction_add": "the Restriction row (privacy app) is the record",
    "person_possible_duplicates": "a check with no match writes nothing (a match in an invisible family "
    "writes a DuplicateReview row)",
}


def test_every_public_function_is_a_service_or_declared_not_one() -> None:
    undeclared = sorted(
        name
        for name, f in public_functions().items()
        if "acting_user" not in inspect.signature(f).parameters and name not in NOT_SERVICES
    )
    assert undeclared == [], "public functions without acting_user: make them private or list them"


def test_every_service_has_a_refusal_case() -> None:
    assert sorted(set(services()) - set(CASES)) == []
    assert sorted(set(CASES) - set(services())) == []


def test_every_service_audits_under_a_named_activity() -> None:
    unaudited = sorted(name for name, f in services().items() if not getattr(f, "audit_activity", ""))
    assert unaudited == []


def _refused(world: World, name: str, user: User) -> BaseException:
    call, _ = CASES[name]
    before = AuditEntry.objects.count()
    with pytest.raises((ObjectDoesNotExist, PermissionDenied)) as caught:
        call(world, user)
    assert AuditEntry.objects.count() == before, "a refused call wrote something"
    return caught.value


@pytest.mark.parametrize("name", sorted(CASES))
def test_users_of_another_district_and_unassigned_colleagues_are_refused(world: World, name: str) -> None:
    module = services()[name].__module__
    for outsider in world.outsiders:
        error = _refused(world, name, outsider)
        if module in CASE_CONTENT_MODULES or name in FAMILY_FIRST:
            # The error a missing object raises: the API answers 404, existence does not leak.
            assert isinstance(error, ObjectDoesNotExist), (name, outsider.username)
    if name in COLLEAGUE_MAY:
        return
    error = _refused(world, name, world.colleague)
    if module in CASE_CONTENT_MODULES - {"casemgmt.services.catalogue", "privacy.rights"}:
        assert isinstance(error, ObjectDoesNotExist), name


@pytest.mark.parametrize("name", sorted(name for name, (_, rightful) in CASES.items() if rightful))
def test_the_rightful_user_is_not_refused(world: World, name: str) -> None:
    """The cases above are refused by the policy, not by broken arguments."""
    call, rightful = CASES[name]
    user = getattr(world, rightful)
    before = AuditEntry.objects.count()
    call(world, user)
    entries = AuditEntry.objects.order_by("-pk")[: AuditEntry.objects.count() - before]
    if name in NO_AUDIT_ENTRY:
        return
    assert entries, f"{name} wrote no audit entry"
    assert {e.actor_id for e in entries} == {user.pk}
    assert {e.activity for e in entries} == {services()[name].audit_activity}  # type: ignore[attr-defined]
