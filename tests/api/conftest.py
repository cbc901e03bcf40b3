"""Fixtures for case-work tests: a family with members, the catalogue, consents."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.models import FieldOfAction, Role
from casemgmt.services.catalogue import course_create, provider_create
from tests.factories import make_family, make_person, make_user


@pytest.fixture
def admin(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.ADMIN, username="admin")


@pytest.fixture
def family(case_manager):  # type: ignore[no-untyped-def]
    return make_family(case_manager, family_name="Haddad")


@pytest.fixture
def mother(family, case_manager):  # type: ignore[no-untyped-def]
    return make_person(family, case_manager, given_name="Amina", family_name="Haddad")


@pytest.fixture
def language(db):  # type: ignore[no-untyped-def]
    return FieldOfAction.objects.get(code="language", organisation=None)


@pytest.fixture
def provider(district, admin):  # type: ignore[no-untyped-def]
    return provider_create(organisation=district, name="VHS Musterland", acting_user=admin)


@pytest.fixture
def course(provider, admin):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return course_create(
        provider=provider,
        title="Integrationskurs B1",
        course_type="integration_course",
        cefr_level="B1",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=200),
        capacity=2,
        acting_user=admin,
    )


def prepared_statements() -> bool:
    """Whether the dashboard's statement runs prepared (PostgreSQL with prepared statements)."""
    from django.db import connection

    from casemgmt.selectors.deadlines import _prepared

    return _prepared(connection)
