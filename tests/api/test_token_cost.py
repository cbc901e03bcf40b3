"""A request's cost does not grow with the user's tokens (knox's per-request scan is replaced)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from privacy.jobs import purge_expired_tokens
from tests.factories import setup_writes


def _request_queries(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/auth/me/").status_code == 200
    return len(ctx.captured_queries)


def test_request_statements_do_not_grow_with_tokens(case_manager) -> None:  # type: ignore[no-untyped-def]
    _, token = AuthToken.objects.create(user=case_manager)
    few = _request_queries(token)
    for _ in range(30):
        AuthToken.objects.create(user=case_manager)
    for _ in range(10):
        AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(seconds=-5))
    assert _request_queries(token) == few


def test_expired_token_is_refused_and_deleted_and_others_wait_for_the_job(case_manager) -> None:  # type: ignore[no-untyped-def]
    _, valid = AuthToken.objects.create(user=case_manager)
    _, expired = AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(seconds=-5))
    AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(seconds=-5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {expired}")
    assert client.get("/api/v1/auth/me/").status_code == 401
    assert AuthToken.objects.filter(user=case_manager).count() == 2  # the presented one is gone
    client.credentials(HTTP_AUTHORIZATION=f"Token {valid}")
    assert client.get("/api/v1/auth/me/").status_code == 200
    assert AuthToken.objects.filter(user=case_manager).count() == 2  # no scan of the others

    assert purge_expired_tokens() == 1
    assert list(AuthToken.objects.filter(user=case_manager).values_list("expiry", flat=True)) == [
        AuthToken.objects.get(user=case_manager).expiry
    ]
    assert AuthToken.objects.get(user=case_manager).expiry > timezone.now()


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_token_statement_reads_the_roles_and_the_next_request_sees_a_change(case_manager, town) -> None:  # type: ignore[no-untyped-def]
    """Memberships come with the token (one statement), never from an earlier request."""
    from casemgmt.models import Membership, Role

    client = _client(AuthToken.objects.create(user=case_manager)[1])
    stats = "/api/v1/dashboard/caseloads/"  # supervisors only
    assert client.get(stats).status_code == 403  # a case manager only
    with setup_writes():
        supervision = Membership.objects.create(user=case_manager, organisation=town, role=Role.SUPERVISOR)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/families/").status_code == 200
    token_statement = ctx.captured_queries[0]["sql"]
    assert "knox_authtoken" in token_statement and "casemgmt_membership" in token_statement
    assert not any(q["sql"].startswith('SELECT "casemgmt_membership"') for q in ctx.captured_queries)
    assert client.get(stats).status_code == 200  # both roles, read with the same token
    with setup_writes():
        supervision.delete()
    assert client.get(stats).status_code == 403
    with setup_writes():
        Membership.objects.filter(user=case_manager).delete()
    assert client.get("/api/v1/auth/me/").status_code == 200  # still authenticated ...
    assert client.get("/api/v1/families/").status_code == 403  # ... with no role at all


def test_one_row_per_membership_still_means_one_token(case_manager, town, other_district) -> None:  # type: ignore[no-untyped-def]
    """The join gives the token once per membership; each token is checked once, the last
    expired one is still deleted, and an unknown token is refused."""
    from casemgmt.models import Membership, Role

    with setup_writes():
        Membership.objects.create(user=case_manager, organisation=town, role=Role.SUPERVISOR)
        Membership.objects.create(user=case_manager, organisation=other_district, role=Role.DPO)
    _, valid = AuthToken.objects.create(user=case_manager)
    _, expired = AuthToken.objects.create(user=case_manager, expiry=datetime.timedelta(seconds=-5))
    for url in ("/api/v1/dashboard/caseloads/", "/api/v1/families/", "/api/v1/privacy/registry/"):
        assert _client(valid).get(url).status_code == 200, url
    assert _client(expired).get("/api/v1/auth/me/").status_code == 401
    assert AuthToken.objects.filter(user=case_manager).count() == 1
    assert _client(valid[:15] + "0" * (len(valid) - 15)).get("/api/v1/auth/me/").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Token \xff\xfe",  # not UTF-8 once encoded as the header's Latin-1: was a 500
        "Token \x00" + "a" * 63,  # a NUL byte: PostgreSQL refuses it as a parameter, was a 500
        "Token " + "é" * 64,
        "Token " + "G" * 64,
        "Token " + "a" * 63,
        "Token " + "a" * 65,
        "Token \x00compiled:knox-token-with-memberships\x00",
        "Token %s%%%(x)s' OR '1'='1",
    ],
)
def test_a_malformed_token_is_refused_without_a_query(db, header: str) -> None:  # type: ignore[no-untyped-def]
    """Only knox's own form (its prefix, then hex of its length) can be a token: anything else
    is a 401 with the JSON error body before the database is asked."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/auth/me/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert ctx.captured_queries == []


def test_a_well_formed_token_of_someone_else_is_still_refused(case_manager) -> None:  # type: ignore[no-untyped-def]
    _, token = AuthToken.objects.create(user=case_manager)
    assert _client(token).get("/api/v1/auth/me/").status_code == 200
    assert _client(token.upper()).get("/api/v1/auth/me/").status_code == 401
    assert _client(token[:-1] + ("0" if token[-1] != "0" else "1")).get("/api/v1/auth/me/").status_code == 401
