"""Accounts: nobody sets another user's password, password changes revoke tokens, account events
are audited, administrators stay in their tree, throttles and lockout hold, passwords are not trivial."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from casemgmt.models import Membership, Role, SetPasswordToken, User
from casemgmt.passwords import RepetitivePasswordValidator
from casemgmt.services.accounts import password_change_require, set_password_token_issue
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_user, setup_writes

LOGIN = "/api/v1/auth/token/"
PASSWORD = "correct horse battery"
NEW = "Frische-Passphrase-2027"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture
def admin(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.ADMIN, username="admin1")


def events(name: str, **filters: object) -> list[AuditEntry]:
    return [e for e in AuditEntry.objects.filter(**filters) if (e.additional_data or {}).get("event") == name]


def login(username: str = "cm1", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return APIClient(**extra).post(LOGIN, {"username": username, "password": password}, format="json")


# --- no administrator sets another user's password


def test_user_create_takes_no_password_and_returns_one_time_token(admin, district) -> None:  # type: ignore[no-untyped-def]
    client = client_for(admin)
    body = {"username": "neu", "organisation": str(district.pk), "role": "case_manager"}
    refused = client.post("/api/v1/users/", {**body, "password": NEW}, format="json")
    assert refused.status_code == 400 and "password" in refused.json()["errors"]
    response = client.post("/api/v1/users/", body, format="json")
    assert response.status_code == 201, response.json()
    token = response.json()["set_password_token"]
    user = User.objects.get(username="neu")
    assert not user.has_usable_password()
    assert login("neu", NEW).status_code == 401  # nobody knows a password yet
    # The token is stored only as a digest.
    assert not SetPasswordToken.objects.filter(digest=token).exists()
    assert (
        APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": NEW}).status_code
        == 204
    )
    assert login("neu", NEW).status_code == 200
    # One-time: the same token does not work twice.
    again = APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": NEW + "x"})
    assert again.status_code == 400 and again.json()["errors"]["token"][0]["code"] == "invalid_token"
    assert events("user_created", actor=admin) and events("password_changed", actor=user)


def test_expired_token_refused(admin, case_manager) -> None:  # type: ignore[no-untyped-def]
    record, token = set_password_token_issue(user=case_manager, acting_user=admin)
    SetPasswordToken.objects.filter(pk=record.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": NEW})
    assert response.status_code == 400
    assert case_manager.__class__.objects.get(pk=case_manager.pk).check_password(PASSWORD)


def test_new_token_supersedes_older_one(admin, case_manager) -> None:  # type: ignore[no-untyped-def]
    _, first = set_password_token_issue(user=case_manager, acting_user=admin)
    _, second = set_password_token_issue(user=case_manager, acting_user=admin)
    assert (
        APIClient().post("/api/v1/auth/password/set/", {"token": first, "new_password": NEW}).status_code
        == 400
    )
    assert (
        APIClient().post("/api/v1/auth/password/set/", {"token": second, "new_password": NEW}).status_code
        == 204
    )


def test_api_has_no_way_to_set_someone_elses_password(admin, case_manager) -> None:  # type: ignore[no-untyped-def]
    client = client_for(admin)
    response = client.patch(f"/api/v1/users/{case_manager.pk}/", {"password": NEW}, format="json")
    assert response.status_code == 400
    case_manager.refresh_from_db()
    assert case_manager.check_password(PASSWORD)


def test_required_change_blocks_token_until_user_chooses_password(admin, case_manager) -> None:  # type: ignore[no-untyped-def]
    old_token = client_for(case_manager)
    response = client_for(admin).post(f"/api/v1/users/{case_manager.pk}/require-password-change/")
    assert response.status_code == 200 and response.json()["must_change_password"] is True
    assert old_token.get("/api/v1/auth/me/").status_code == 401  # tokens revoked at once
    refused = login()
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert not AuthToken.objects.filter(user=case_manager).exists()
    change = {"username": "cm1", "current_password": PASSWORD, "new_password": NEW}
    assert APIClient().post("/api/v1/auth/password/", change, format="json").status_code == 204
    assert login("cm1", NEW).status_code == 200
    assert events("password_change_required", actor=admin)


def test_required_change_for_a_user_of_another_district_is_404(admin, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    client = client_for(admin)
    for path in ("require-password-change", "set-password-token"):
        response = client.post(f"/api/v1/users/{other_case_manager.pk}/{path}/")
        assert response.status_code == 404, path
    other_case_manager.refresh_from_db()
    assert not other_case_manager.must_change_password
    assert not SetPasswordToken.objects.filter(user=other_case_manager).exists()


# --- every password change revokes every token


def test_own_password_change_revokes_every_token(case_manager) -> None:  # type: ignore[no-untyped-def]
    clients = [client_for(case_manager), client_for(case_manager)]
    change = {"username": "cm1", "current_password": PASSWORD, "new_password": NEW}
    assert APIClient().post("/api/v1/auth/password/", change, format="json").status_code == 204
    assert all(c.get("/api/v1/auth/me/").status_code == 401 for c in clients)
    [entry] = events("password_changed", object_pk=str(case_manager.pk))
    assert entry.actor_id == case_manager.pk and entry.activity == "account_management"
    assert entry.additional_data["tokens_revoked"] == 2


def test_password_change_outside_the_api_revokes_tokens_too(case_manager) -> None:  # type: ignore[no-untyped-def]
    """manage.py changepassword, the shell, the admin's own form: all save the user."""
    client = client_for(case_manager)
    user = User.objects.get(pk=case_manager.pk)
    user.set_password(NEW)
    user.save()
    assert client.get("/api/v1/auth/me/").status_code == 401
    assert events("password_changed", object_pk=str(case_manager.pk))


def test_hash_upgrade_on_login_does_not_revoke_tokens(case_manager) -> None:  # type: ignore[no-untyped-def]
    client = client_for(case_manager)
    user = User.objects.get(pk=case_manager.pk)
    user.save()  # an ordinary save (e.g. last_login) is no password change
    assert client.get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "cm1", "current_password": "wrong", "new_password": NEW}, None),
        ({"username": "cm1", "current_password": PASSWORD, "new_password": "aaaaaaaaaaaaaa"}, "new_password"),
        ({"username": "cm1", "current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"username": 12345, "current_password": PASSWORD, "new_password": NEW}, "username"),
        ({"username": "cm1", "current_password": PASSWORD}, "new_password"),
        (
            {"username": "cm1", "current_password": PASSWORD, "new_password": NEW, "is_staff": True},
            "is_staff",
        ),
    ],
)
def test_password_change_bad_input_changes_nothing(case_manager, body, field) -> None:  # type: ignore[no-untyped-def]
    client = client_for(case_manager)
    response = APIClient().post("/api/v1/auth/password/", body, format="json")
    assert response.status_code in (400, 401)
    assert {"code", "detail"} <= set(response.json())
    if field:
        assert field in response.json()["errors"]
    case_manager.refresh_from_db()
    assert case_manager.check_password(PASSWORD)
    assert client.get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"token": "nonsense", "new_password": NEW},
        {"token": ["x"], "new_password": NEW},
        {"new_password": NEW},
        {"token": "x", "new_password": NEW, "user": "cm1"},
    ],
)
def test_password_set_bad_input(case_manager, body) -> None:  # type: ignore[no-untyped-def]
    response = APIClient().post("/api/v1/auth/password/set/", body, format="json")
    assert response.status_code == 400 and {"code", "detail"} <= set(response.json())


def test_password_set_rejects_weak_password_and_keeps_token(admin, case_manager) -> None:  # type: ignore[no-untyped-def]
    _, token = set_password_token_issue(user=case_manager, acting_user=admin)
    weak = APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": "abababababab"})
    assert weak.status_code == 400 and "new_password" in weak.json()["errors"]
    assert (
        APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": NEW}).status_code
        == 204
    )


# --- logins and account changes are audited


def test_logins_success_and_failure_are_audited_without_usernames(case_manager) -> None:  # type: ignore[no-untyped-def]
    assert login().status_code == 200
    assert login("cm1", "falsch").status_code == 401
    assert login("Geheimnis-als-Name", "x").status_code == 401
    [ok] = events("login_succeeded")
    assert ok.actor_id == case_manager.pk and ok.activity == "account_management"
    assert ok.organisation_id == case_manager.memberships.get().organisation_id
    failed = events("login_failed")
    assert {e.object_pk for e in failed} == {str(case_manager.pk), ""}
    assert all(e.actor_id is None for e in failed)
    dump = str(list(AuditEntry.objects.values()))
    assert "Geheimnis" not in dump and "falsch" not in dump


def test_account_events_are_in_the_dpos_audit_events(admin, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    dpo = make_user(district, Role.DPO, username="dpo1")
    login()
    assert (
        client_for(admin)
        .patch(f"/api/v1/users/{case_manager.pk}/", {"is_active": False}, format="json")
        .status_code
        == 200
    )
    response = client_for(dpo).get("/api/v1/audit/events/", {"activity": "account_management"})
    assert response.status_code == 200
    reprs = {e["object_repr"] for e in response.json()["results"]}
    assert {"account event: login_succeeded", "account event: user_deactivated"} <= reprs


def test_failed_logins_for_unknown_usernames_reach_every_dpo_without_the_typed_text(
    case_manager, district, other_district
) -> None:  # type: ignore[no-untyped-def]
    """A guessing run against invented usernames belongs to no tenant: each DPO sees it, name-less."""
    dpo = make_user(district, Role.DPO, username="dpo1")
    other_dpo = make_user(other_district, Role.DPO, username="dpo2")
    assert login("Sommer2026!Passwort", "x").status_code == 401  # a password typed as the name
    assert login("cm1", "falsch").status_code == 401  # a known account: its own tenant only
    for reader, sees_known in ((dpo, True), (other_dpo, False)):
        results = (
            client_for(reader)
            .get("/api/v1/audit/events/", {"activity": "account_management"})
            .json()["results"]
        )
        failed = [e for e in results if e["object_repr"] == "account event: login_failed"]
        unknown = [e for e in failed if e["object_pk"] == ""]
        assert len(unknown) == 1 and unknown[0]["organisation_id"] is None
        assert unknown[0]["additional_data"] == {
            "event": "login_failed",
            "known_account": False,
            "locked_out": False,
            "via": "api",
        }
        assert unknown[0]["remote_addr"]
        assert any(e["object_pk"] == str(case_manager.pk) for e in failed) is sees_known
    dump = str(list(AuditEntry.objects.values()))
    assert "Sommer2026" not in dump and "sommer2026" not in dump
    # other account events of no organisation stay hidden (only failed logins are shared)
    from casemgmt.services.accounts import account_event

    with setup_writes():
        account_event(event="password_changed", user=None, actor=None)
    results = client_for(other_dpo).get("/api/v1/audit/events/").json()["results"]
    reprs = {e["object_repr"] for e in results}
    assert "account event: login_failed" in reprs and "account event: password_changed" not in reprs


def test_membership_changes_are_audited_with_actor(admin, case_manager, town) -> None:  # type: ignore[no-untyped-def]
    client = client_for(admin)
    body = {"user": str(case_manager.pk), "organisation": str(town.pk), "role": "supervisor"}
    created = client.post("/api/v1/memberships/", body, format="json")
    assert created.status_code == 201
    assert client.delete(f"/api/v1/memberships/{created.json()['id']}/").status_code == 204
    granted, revoked = events("role_granted", actor=admin), events("role_revoked", actor=admin)
    assert granted and revoked and granted[0].additional_data["role"] == "supervisor"
    assert granted[0].organisation_id == town.pk


# --- administrators act only within their own organisation tree


def test_membership_for_user_of_another_district_is_404_and_changes_nothing(
    admin, other_case_manager, district
) -> None:  # type: ignore[no-untyped-def]
    body = {"user": str(other_case_manager.pk), "organisation": str(district.pk), "role": "supervisor"}
    response = client_for(admin).post("/api/v1/memberships/", body, format="json")
    missing = client_for(admin).post(
        "/api/v1/memberships/", {**body, "user": "6f1c1b9e-0000-4000-8000-000000000000"}, format="json"
    )
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert not Membership.objects.filter(user=other_case_manager, organisation=district).exists()


def test_user_who_also_works_for_another_district_is_not_editable(
    admin, case_manager, other_district
) -> None:  # type: ignore[no-untyped-def]
    with setup_writes():
        Membership.objects.create(user=case_manager, organisation=other_district, role=Role.CASE_MANAGER)
    client = client_for(admin)
    assert client.get(f"/api/v1/users/{case_manager.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/users/{case_manager.pk}/", {"is_active": False}, format="json").status_code
        == 404
    )
    case_manager.refresh_from_db()
    assert case_manager.is_active


# --- throttles and lockout


def test_rotating_forwarded_for_is_throttled(case_manager) -> None:  # type: ignore[no-untyped-def]
    rates = {"login_address": "5/min", "login_username": "1000/min"}
    with override_settings(REST_FRAMEWORK={**_rf(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [
            login(f"user{i}", "x", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(20)
        ]
    assert statuses.count(429) >= 15, statuses


def test_default_trusts_no_proxy() -> None:
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


@pytest.mark.parametrize("username", [12345, 1.5, ["cm1"], {"u": "cm1"}, None, True])
def test_non_string_username_is_400_and_still_counted_per_address(case_manager, username) -> None:  # type: ignore[no-untyped-def]
    rates = {"login_address": "3/min", "login_username": "1000/min"}
    with override_settings(REST_FRAMEWORK={**_rf(), "DEFAULT_THROTTLE_RATES": rates}):
        client = APIClient()
        statuses = [
            client.post(LOGIN, {"username": username, "password": PASSWORD}, format="json").status_code
            for _ in range(5)
        ]
    assert statuses == [400, 400, 400, 429, 429]
    assert not AuthToken.objects.exists()


def test_api_login_locked_out_after_failures_even_with_right_password(case_manager) -> None:  # type: ignore[no-untyped-def]
    with override_settings(AXES_FAILURE_LIMIT=3):
        statuses = [login("cm1", "wrong", REMOTE_ADDR=f"10.9.0.{i}").status_code for i in range(3)]
        locked = login("cm1", PASSWORD, REMOTE_ADDR="10.9.0.99")
        other = login("cm1 ".upper(), PASSWORD, REMOTE_ADDR="10.9.0.98")
    assert statuses == [401, 401, 429]  # the failure that reaches the limit is refused already
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
    assert other.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert not AuthToken.objects.exists()


def test_admin_login_locked_out(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    make_user(district, Role.ADMIN, username="boss", is_staff=True)
    with override_settings(AXES_FAILURE_LIMIT=3):
        client = Client()
        statuses = [
            client.post("/admin/login/", {"username": "boss", "password": "wrong"}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]  # the form again with an error, then locked
        locked = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def _rf() -> dict[str, object]:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


# --- passwords


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "abababababab", "123123123123", "abcabcabcabcab", "AaAaAaAaAaAa", "aabbaabbaabb"],
)
def test_repetitive_passwords_rejected(password: str) -> None:
    with pytest.raises(ValidationError):
        RepetitivePasswordValidator().validate(password)


@pytest.mark.parametrize("password", [NEW, "correct horse battery", "Kf8#pLq2!vRz"])
def test_ordinary_passwords_pass(password: str) -> None:
    RepetitivePasswordValidator().validate(password)


def test_validator_is_configured(case_manager) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.password_validation import validate_password

    with pytest.raises(ValidationError):
        validate_password("xyxyxyxyxyxyxyxy")


def test_service_refuses_self_and_foreign(admin, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ObjectDoesNotExist

    with pytest.raises(ObjectDoesNotExist):  # the API answers 404: "no such user"
        password_change_require(user=other_case_manager, acting_user=admin)
    with pytest.raises(ValidationError):
        password_change_require(user=admin, acting_user=admin)


def test_lockout_key_is_keyed_not_a_plain_hash_of_the_typed_name() -> None:
    """Whatever was typed as a username (often a password) cannot be guessed offline from the store."""
    import hashlib

    from django.test import RequestFactory

    from casemgmt.lockout import hashed_username

    request = RequestFactory().post("/x/", {"username": " Geheim123 "})
    key = hashed_username(request)
    assert key is not None and "geheim123" not in key.casefold()
    assert key != hashlib.sha256(b"axes-username\ngeheim123").hexdigest()
    assert key != hashlib.sha256(b"geheim123").hexdigest()
    assert key == hashed_username(RequestFactory().post("/x/", {"username": "GEHEIM123"}))
    with override_settings(SECRET_KEY="another-installation-" + "x" * 40):
        assert hashed_username(request) != key
