"""Shared fixtures: two tenants, case managers in each, API clients authenticated by token."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from casemgmt.models import Organisation, Role, User
from tests.factories import OrganisationFactory, make_user, setup_writes


@pytest.fixture
def district(db: None) -> Organisation:
    return OrganisationFactory(name="Landkreis Musterland", reference_prefix="LK")


@pytest.fixture
def town(district: Organisation) -> Organisation:
    return OrganisationFactory(
        name="Stadt Beispielstadt", kind=Organisation.Kind.TOWN, parent=district, reference_prefix="BS"
    )


@pytest.fixture
def other_district(db: None) -> Organisation:
    return OrganisationFactory(name="Landkreis Anderswo", reference_prefix="AW")


@pytest.fixture
def case_manager(district: Organisation) -> User:
    return make_user(district, Role.CASE_MANAGER, username="cm1")


@pytest.fixture
def other_case_manager(other_district: Organisation) -> User:
    return make_user(other_district, Role.CASE_MANAGER, username="cm_other")


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api(case_manager: User) -> APIClient:
    return client_for(case_manager)


@pytest.fixture
def admin_user(db: None) -> User:
    """pytest-django's superuser, its creation attributed like every other scene write."""
    with setup_writes():
        return User.objects.create_superuser("admin", "admin@example.org", "correct horse battery")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    with setup_writes():
        client.force_login(admin_user)
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


AUDIT_TABLES = ("privacy_auditentry",)


def app_queries(captured: list[dict[str, str]]) -> list[str]:
    """The queries a request made for its own work: audit-log writes and savepoints left out."""
    return [
        q["sql"]
        for q in captured
        if not any(table in q["sql"] for table in AUDIT_TABLES)
        and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def pytest_configure(config: pytest.Config) -> None:
    _openapi_schema_once_per_session()


def _openapi_schema_once_per_session() -> None:
    """drf-spectacular builds the whole schema on every call (seconds on CI's two cores); the
    suite asks for the same public schema many times (the schema fuzzing's loader at collection,
    each role of the access matrix, the contract tests, the generated client). Build it once per
    language and URLconf, hand out copies. Installed at start-up, not by a fixture, so that the
    schema the fuzz module loads while it is collected is the one the tests get later."""
    from django.conf import settings
    from django.utils.translation import get_language
    from drf_spectacular.generators import SchemaGenerator

    original = SchemaGenerator.get_schema
    built: dict[tuple[Any, ...], Any] = {}

    def get_schema(self: SchemaGenerator, request: Any = None, public: bool = False) -> Any:
        if not public:
            return original(self, request=request, public=public)
        key = (self.urlconf, self.api_version, settings.ROOT_URLCONF, get_language())
        if key not in built:
            built[key] = original(self, request=request, public=public)
        return copy.deepcopy(built[key])

    SchemaGenerator.get_schema = get_schema  # type: ignore[method-assign]
