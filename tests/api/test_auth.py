"""Login, expiry, logout, throttling."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from tests.factories import make_family, setup_writes

LOGIN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def login(client: APIClient, username: str = "cm1", password: str = "correct horse battery"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, format="json")


def test_login_returns_expiring_token(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    response = login(anon)
    assert response.status_code == 200, response.json()
    body = response.json()
    expiry = datetime.datetime.fromisoformat(body["expiry"])
    hours = (expiry - timezone.now()).total_seconds() / 3600
    assert 7.9 < hours <= 8.0
    anon.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    me = anon.get("/api/v1/auth/me/").json()
    assert me["username"] == "cm1" and me["memberships"][0]["role"] == "case_manager"


def test_token_is_stored_hashed(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    token = login(anon).json()["token"]
    stored = AuthToken.objects.get(user=case_manager)
    assert token not in stored.digest and stored.token_key == token[:15]


@pytest.mark.parametrize(("username", "password"), [("cm1", "wrong"), ("nobody", "x"), ("", "")])
def test_bad_credentials(anon, case_manager, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    response = login(anon, username, password)
    assert response.status_code in (400, 401)
    assert "token" not in response.json()
    assert AuthToken.objects.count() == 0


def test_inactive_user_cannot_login_and_token_stops_working(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    token = login(anon).json()["token"]
    case_manager.is_active = False
    with setup_writes():
        case_manager.save()
    assert login(APIClient()).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/families/").status_code == 401


def test_logout_revokes_token(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    token = login(anon).json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get("/api/v1/families/").status_code == 200
    assert anon.post("/api/v1/auth/logout/").status_code == 204
    assert anon.get("/api/v1/families/").status_code == 401


def test_expired_token_rejected(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    token = login(anon).json()["token"]
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get("/api/v1/families/").status_code == 401


def test_garbage_token_rejected(anon, case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    for header in ("Token abc", "Token " + "z" * 200, "Bearer x", "Token", "Token a b"):
        anon.credentials(HTTP_AUTHORIZATION=header)
        assert anon.get("/api/v1/families/").status_code == 401


def test_login_throttled_per_username(case_manager) -> None:  # type: ignore[no-untyped-def]
    rates = {"login_address": "100/min", "login_username": "3/min"}
    with override_settings(REST_FRAMEWORK={**_rf(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = []
        for i in range(5):
            client = APIClient(REMOTE_ADDR=f"10.0.0.{i}")
            statuses.append(login(client, "cm1", "wrong").status_code)
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3] == 429
        response = login(APIClient(REMOTE_ADDR="10.0.0.9"), "CM1", "wrong")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert response.json()["code"] == "throttled"


def test_login_throttled_per_address(case_manager) -> None:  # type: ignore[no-untyped-def]
    rates = {"login_address": "2/min", "login_username": "100/min"}
    with override_settings(REST_FRAMEWORK={**_rf(), "DEFAULT_THROTTLE_RATES": rates}):
        client = APIClient(REMOTE_ADDR="10.1.1.1")
        assert [login(client, f"user{i}", "x").status_code for i in range(3)] == [401, 401, 429]


def _rf() -> dict[str, object]:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


def test_throttle_settings_are_reloaded() -> None:
    assert "login_username" in api_settings.DEFAULT_THROTTLE_RATES
