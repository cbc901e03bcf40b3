"""Schema fuzzing with schemathesis: every operation, as each role, must never answer 5xx
and must answer with a documented status. Bounded for CI; ``make fuzz`` runs longer
(FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

from casemgmt.models import Role
from tests.conftest import client_for  # noqa: F401  (fixtures)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

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


@pytest.fixture
def tokens(district, case_manager):  # type: ignore[no-untyped-def]
    from knox.models import AuthToken

    from tests.factories import make_family, make_person, make_user

    family = make_family(case_manager)
    make_person(family, case_manager)
    users = {"case_manager": case_manager}
    for role in (Role.SUPERVISOR, Role.DPO, Role.ADMIN):
        users[role] = make_user(district, role)
    return {name: AuthToken.objects.create(user=user)[1] for name, user in users.items()}


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, tokens) -> None:  # type: ignore[no-untyped-def]
    for token in tokens.values():
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(
            response,
            checks=[
                checks.not_a_server_error,
                checks.status_code_conformance,
                checks.response_schema_conformance,
            ],
        )
