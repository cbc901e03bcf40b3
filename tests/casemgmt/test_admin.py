"""Django admin follows the same rules: administrators manage accounts, never case content."""

from __future__ import annotations

import pytest
from django.test import Client

from casemgmt.models import Role
from tests.factories import make_family, make_user


@pytest.fixture
def admin_client(district):  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN, is_staff=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_sees_own_users_only(admin_client, case_manager, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.get("/admin/casemgmt/user/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "cm1" in content and "cm_other" not in content
    assert admin_client.get(f"/admin/casemgmt/user/{other_case_manager.pk}/change/").status_code in (302, 404)
    assert admin_client.get(f"/admin/casemgmt/user/{case_manager.pk}/change/").status_code == 200


def test_no_case_content_in_admin(admin_client, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Geheimname")
    for url in (
        "/admin/casemgmt/family/",
        f"/admin/casemgmt/family/{family.pk}/change/",
        "/admin/casemgmt/person/",
        "/admin/casemgmt/familygroupobjectpermission/",
    ):
        assert admin_client.get(url).status_code == 404
    assert "Geheimname" not in admin_client.get("/admin/").content.decode()


def test_staff_without_admin_role_has_no_back_office(district) -> None:  # type: ignore[no-untyped-def]
    staff = make_user(district, Role.CASE_MANAGER, is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/casemgmt/user/").status_code == 403


def test_admin_cannot_grant_superuser(admin_client, case_manager) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get(f"/admin/casemgmt/user/{case_manager.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
