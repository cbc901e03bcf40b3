"""A request's cost does not grow with the user's tokens (knox's per-request scan is replaced)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from privacy.jobs import purge_expired_tokens


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
