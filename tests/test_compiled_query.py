"""Querysets compiled once (casemgmt.db.compiled): same rows as the ORM, values always bound."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from api.authentication import _TOKEN_STATEMENT, _token_statement
from casemgmt.db.compiled import CompiledValuesQuery
from casemgmt.models import User

pytestmark = pytest.mark.django_db


def test_the_compiled_statement_gives_the_orms_rows_with_the_databases_converters(case_manager, town) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Membership, Role
    from tests.factories import setup_writes

    with setup_writes():
        Membership.objects.create(user=case_manager, organisation=town, role=Role.SUPERVISOR)
    _, token = AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(hours=1))
    key = token[:15]
    compiled = _TOKEN_STATEMENT.rows(key)
    assert compiled == list(_token_statement(key))
    assert len(compiled) == 2  # one row per membership
    row = compiled[0]
    assert any(isinstance(value, uuid.UUID) for value in row)  # SQLite's text converted back
    assert any(isinstance(value, datetime.datetime) and value.tzinfo for value in row)
    assert _TOKEN_STATEMENT.rows("no-such-key") == []


def test_a_value_is_a_bound_parameter_never_sql(case_manager) -> None:  # type: ignore[no-untyped-def]
    hostile = "x' OR '1'='1"
    AuthToken.objects.create(user=case_manager)
    with CaptureQueriesContext(connection) as ctx:
        assert _TOKEN_STATEMENT.rows(hostile) == []
    assert len(ctx.captured_queries) == 1


def test_the_queryset_is_built_once_per_connection(case_manager) -> None:  # type: ignore[no-untyped-def]
    built: list[str] = []

    def build(value: str):  # type: ignore[no-untyped-def]
        built.append(value)
        return User.objects.filter(username=value).values_list("id", "username")

    statement = CompiledValuesQuery("test-built-once", build)
    name = case_manager.username
    assert statement.rows(name) == [(case_manager.pk, name)]
    assert statement.rows("nobody") == []
    assert statement.rows(name) == [(case_manager.pk, name)]
    assert len(built) == 1


@pytest.mark.parametrize("uses", [0, 2])
def test_the_marker_must_be_exactly_one_parameter(uses: int) -> None:
    def build(value: str):  # type: ignore[no-untyped-def]
        queryset = User.objects.filter(username="fixed")
        for _ in range(uses):
            queryset = queryset.filter(username=value)
        return queryset.values_list("id")

    with pytest.raises(ValueError, match="exactly one parameter"):
        CompiledValuesQuery(f"test-marker-{uses}", build).rows("anna")


def test_two_statements_of_the_same_name_keep_their_own_sql(case_manager, town) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Organisation

    users = CompiledValuesQuery("test-same-name", lambda v: User.objects.filter(username=v).values_list("id"))
    orgs = CompiledValuesQuery(
        "test-same-name", lambda v: Organisation.objects.filter(name=v).values_list("id")
    )
    assert users.rows(case_manager.username) == [(case_manager.pk,)]
    assert orgs.rows(town.name) == [(town.pk,)]
