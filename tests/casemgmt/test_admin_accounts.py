"""Django admin: no password setting for others, tokens instead, 404 outside the administrator's tree."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from casemgmt.models import Membership, Role, User
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_user, setup_writes

NEW = "Frische-Passphrase-2027"


@pytest.fixture
def admin_user(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.ADMIN, username="boss", is_staff=True)


@pytest.fixture
def admin_client(admin_user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(admin_user)
    return client


def test_password_form_refused_for_others_and_superusers(admin_client, case_manager, district) -> None:  # type: ignore[no-untyped-def]
    url = f"/admin/casemgmt/user/{case_manager.pk}/password/"
    assert admin_client.get(url).status_code == 403
    response = admin_client.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"})
    assert response.status_code == 403
    with setup_writes():
        root = User.objects.create_superuser("root", password=NEW)
    superuser = Client()
    superuser.force_login(root)
    assert (
        superuser.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"}).status_code
        == 403
    )
    case_manager.refresh_from_db()
    assert case_manager.check_password("correct horse battery")


def test_add_form_sets_no_password(admin_client, district) -> None:  # type: ignore[no-untyped-def]
    form = admin_client.get("/admin/casemgmt/user/add/").content.decode()
    assert 'name="password1"' not in form
    response = admin_client.post(
        "/admin/casemgmt/user/add/",
        {
            "username": "neu",
            "first_name": "",
            "last_name": "",
            "email": "",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-organisation": str(district.pk),
            "memberships-0-role": "case_manager",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="neu")
    assert not user.has_usable_password()


def test_token_action_shows_token_once_and_it_works(admin_client, admin_user, case_manager) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(
        "/admin/casemgmt/user/",
        {"action": "issue_set_password_token", "_selected_action": [str(case_manager.pk)]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = re.search(r"<code>([A-Za-z0-9_-]{40,})</code>", response.content.decode()).group(1)  # type: ignore[union-attr]
    assert (
        APIClient().post("/api/v1/auth/password/set/", {"token": token, "new_password": NEW}).status_code
        == 204
    )
    case_manager.refresh_from_db()
    assert case_manager.check_password(NEW)
    issued = [
        e for e in AuditEntry.objects.filter(actor=admin_user) if (e.additional_data or {}).get("event")
    ]
    assert any(e.additional_data["event"] == "set_password_token_issued" for e in issued)


def test_require_change_action_revokes_tokens(admin_client, case_manager) -> None:  # type: ignore[no-untyped-def]
    client_for(case_manager)
    response = admin_client.post(
        "/admin/casemgmt/user/",
        {"action": "require_password_change", "_selected_action": [str(case_manager.pk)]},
    )
    assert response.status_code == 302
    case_manager.refresh_from_db()
    assert case_manager.must_change_password and not AuthToken.objects.filter(user=case_manager).exists()


def test_foreign_user_is_404_in_admin(admin_client, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    for suffix in ("change/", "password/", "history/", "delete/"):
        assert admin_client.get(f"/admin/casemgmt/user/{other_case_manager.pk}/{suffix}").status_code == 404


def test_membership_for_foreign_user_is_404_in_admin(admin_client, other_case_manager, district) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(
        "/admin/casemgmt/membership/add/",
        {"user": str(other_case_manager.pk), "organisation": str(district.pk), "role": "admin"},
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user=other_case_manager, organisation=district).exists()


def test_failed_admin_login_is_audited(admin_user) -> None:  # type: ignore[no-untyped-def]
    Client().post("/admin/login/", {"username": "boss", "password": "wrong"})
    failed = [e for e in AuditEntry.objects.all() if (e.additional_data or {}).get("event") == "login_failed"]
    assert [e.object_pk for e in failed] == [str(admin_user.pk)]


def test_required_change_applies_to_the_admin_too(admin_user) -> None:  # type: ignore[no-untyped-def]
    admin_user.must_change_password = True
    with setup_writes():
        admin_user.save(update_fields=["must_change_password"])
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/casemgmt/user/").status_code == 403
    response = client.post(
        "/admin/password_change/",
        {"old_password": "correct horse battery", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(NEW) and not admin_user.must_change_password
    assert client.get("/admin/casemgmt/user/").status_code == 200
