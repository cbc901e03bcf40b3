"""Schema fuzzing with schemathesis: every operation, as each role, must never answer 5xx
and must answer with a documented status and body. Bounded for CI; ``make fuzz`` runs longer
(FUZZ_EXAMPLES, FUZZ_STATEFUL_EXAMPLES).

The data includes blank optional choices (a member without residence status, a course without
CEFR level, a referral whose first transition comes from "", an internal participant without
agency), so responses that send "" are checked against the schema too. The stateful phase
follows the links schemathesis infers from the schema (create, then read, update, act on
what was created).

Exclusions: none. Every check below runs on every operation; if one is ever needed it is
listed in EXCLUDED_CHECKS with its reason, and README points here.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

from casemgmt.models import Role
from tests.scenes import fresh_copy, rolled_back_scene

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "3"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.response_schema_conformance]
CHECKS.append(checks.content_type_conformance)
#: Checks left out, with the reason (none today).
EXCLUDED_CHECKS: dict[str, str] = {}

# The WSGI application without casemgmt.wsgi's start-up key check (that one reads the database).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_test_connection():  # type: ignore[no-untyped-def]
    """As Django's test client does: requests must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def built_tokens(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The users, their data and their tokens, built once for the module's ~160 tests instead of
    once per operation; each test's writes are rolled back with its savepoint (tests/scenes.py),
    so every operation starts from the same data."""
    yield from rolled_back_scene(build_tokens, django_db_blocker)


@pytest.fixture
def tokens(db, built_tokens):  # type: ignore[no-untyped-def]
    return fresh_copy(built_tokens)


def build_tokens() -> dict[str, str]:
    from knox.models import AuthToken

    from tests.factories import OrganisationFactory, make_family, make_person, make_user

    district = OrganisationFactory(name="Landkreis Musterland", reference_prefix="LK")
    case_manager = make_user(district, Role.CASE_MANAGER, username="cm1")
    family = make_family(case_manager)
    make_person(family, case_manager)
    users = {"case_manager": case_manager}
    for role in (Role.SUPERVISOR, Role.DPO, Role.ADMIN):
        users[role] = make_user(district, role)
    seed_blank_choices(family, case_manager, users[Role.ADMIN])
    return {name: AuthToken.objects.create(user=user)[1] for name, user in users.items()}


def seed_blank_choices(family, case_manager, admin) -> None:  # type: ignore[no-untyped-def]
    """Objects whose optional choices are blank: the responses must still match the schema."""
    import datetime

    from django.utils import timezone

    from casemgmt.services.catalogue import course_create, provider_create
    from casemgmt.services.conferences import conference_create
    from casemgmt.services.referrals import referral_create, referral_transition
    from tests.factories import make_person

    child = make_person(family, case_manager, given_name="Yusuf", residence_status="", role="child")
    provider = provider_create(organisation=family.organisation, name="VHS", acting_user=admin)
    today = timezone.localdate()
    course = course_create(
        provider=provider,
        title="Sprachcafé",
        course_type="language_course",
        cefr_level="",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
        capacity=3,
        acting_user=admin,
    )
    referral = referral_create(person=child, course=course, acting_user=case_manager)
    referral_transition(referral=referral, to="sent", acting_user=case_manager)
    conference_create(
        family=family,
        scheduled_at=timezone.now(),
        format="in_person",
        agenda="",
        participants=[{"kind": "internal", "user": case_manager, "role": "Fallführung"}],
        acting_user=case_manager,
    )


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, tokens) -> None:  # type: ignore[no-untyped-def]
    for token in tokens.values():
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=CHECKS)


@pytest.mark.fuzz
@pytest.mark.django_db
@pytest.mark.parametrize("role", ["case_manager", Role.SUPERVISOR, Role.DPO, Role.ADMIN])
def test_stateful_links(role, tokens) -> None:  # type: ignore[no-untyped-def]
    """Sequences along the schema's links (e.g. create a family, then add a member to it)."""
    token = tokens[role]
    calls: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            calls.append(f"{case.method} {case.path}")
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert len(calls) > STATEFUL_EXAMPLES, calls  # scenarios took several linked steps
