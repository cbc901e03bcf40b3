"""Role changes in the Django admin are account events like the API's: authorised, explicit actor.

The membership inline on the user page and the membership pages save through
``membership_create`` / ``membership_update`` / ``membership_delete``, so the DPO finds an admin
role change under the same event names (``role_granted``, ``role_revoked``) as an API one.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from casemgmt.models import Membership, Role, User
from privacy.models import AuditEntry
from tests.factories import make_user


class _FormFields(HTMLParser):
    """The values a browser would submit for the admin's change form (``id="user_form"``)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "option" and self._select and "selected" in a:
            value = a.get("value") or ""
            current = self.data.get(self._select)
            self.data[self._select] = [*current, value] if isinstance(current, list) else value
            return
        name = a.get("name") or ""
        if not name:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file") or (kind == "checkbox" and "checked" not in a):
                return
            self.data[name] = a.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = name
            self.data[name] = [] if "multiple" in a else ""
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def change_form(client: Client, user: User) -> dict[str, Any]:
    response = client.get(f"/admin/casemgmt/user/{user.pk}/change/")
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser.data


def role_events(**filters: Any) -> list[AuditEntry]:
    return [
        e
        for e in AuditEntry.objects.filter(**filters).order_by("pk")
        if (e.additional_data or {}).get("event") in ("role_granted", "role_revoked")
    ]


def test_inline_add_change_delete_are_the_apis_account_events(  # type: ignore[no-untyped-def]
    admin_client, admin_user, case_manager, district, town
) -> None:
    url = f"/admin/casemgmt/user/{case_manager.pk}/change/"
    own = case_manager.memberships.get()

    # add a role in the town
    data = change_form(admin_client, case_manager)
    total = int(data["memberships-TOTAL_FORMS"])
    data.update(
        {
            "memberships-TOTAL_FORMS": str(total + 1),
            f"memberships-{total}-organisation": str(town.pk),
            f"memberships-{total}-role": Role.SUPERVISOR,
            f"memberships-{total}-user": str(case_manager.pk),
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "errorlist" in line or "errornote" in line
    ]
    added = Membership.objects.get(user=case_manager, organisation=town)
    [granted] = role_events(actor=admin_user)
    assert granted.additional_data == {
        "event": "role_granted",
        "membership": str(added.pk),
        "organisation": str(town.pk),
        "role": "supervisor",
    }
    assert granted.activity == "account_management" and granted.organisation_id == town.pk
    assert granted.object_pk == str(case_manager.pk)

    # change the district role: revoked (old) and granted (new), same membership
    data = change_form(admin_client, case_manager)
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(own.pk))
    data[f"memberships-{index}-role"] = Role.DPO
    assert admin_client.post(url, data).status_code == 302
    own.refresh_from_db()
    assert own.role == Role.DPO
    revoked, granted_again = role_events(actor=admin_user)[1:]
    assert revoked.additional_data["event"] == "role_revoked"
    assert revoked.additional_data["role"] == "case_manager"
    assert granted_again.additional_data["event"] == "role_granted"
    assert granted_again.additional_data["role"] == "dpo"

    # delete the town role
    data = change_form(admin_client, case_manager)
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(added.pk))
    data[f"memberships-{index}-DELETE"] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert not Membership.objects.filter(pk=added.pk).exists()
    last = role_events(actor=admin_user)[-1]
    assert last.additional_data == {
        "event": "role_revoked",
        "membership": str(added.pk),
        "organisation": str(town.pk),
        "role": "supervisor",
    }
    assert all(e.actor_id == admin_user.pk for e in role_events(object_pk=str(case_manager.pk)))


def test_membership_page_writes_the_same_events(admin_client, admin_user, case_manager, town) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(
        "/admin/casemgmt/membership/add/",
        {"user": str(case_manager.pk), "organisation": str(town.pk), "role": "supervisor"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=case_manager, organisation=town)
    response = admin_client.post(
        f"/admin/casemgmt/membership/{membership.pk}/change/",
        {"user": str(case_manager.pk), "organisation": str(town.pk), "role": "dpo"},
    )
    assert response.status_code == 302
    response = admin_client.post(f"/admin/casemgmt/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Membership.objects.filter(pk=membership.pk).exists()
    events = [(e.additional_data["event"], e.additional_data["role"]) for e in role_events(actor=admin_user)]
    assert events == [
        ("role_granted", "supervisor"),
        ("role_revoked", "supervisor"),
        ("role_granted", "dpo"),
        ("role_revoked", "dpo"),
    ]


@pytest.fixture
def district_admin(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.ADMIN, username="boss", is_staff=True)


def test_inline_refuses_like_the_api(district_admin, case_manager, other_district) -> None:  # type: ignore[no-untyped-def]
    """A district administrator cannot move a role into another district, nor drop their own."""
    client = Client()
    client.force_login(district_admin)
    url = f"/admin/casemgmt/user/{case_manager.pk}/change/"
    own = case_manager.memberships.get()
    data = change_form(client, case_manager)
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(own.pk))
    data[f"memberships-{index}-organisation"] = str(other_district.pk)
    response = client.post(url, data)
    # the organisation field offers only the admin's tree: the form refuses, nothing changes
    assert response.status_code in (200, 403, 404)
    own.refresh_from_db()
    assert own.organisation_id != other_district.pk and not role_events()

    data = change_form(client, district_admin)
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-id"))
    data[f"memberships-{index}-role"] = Role.CASE_MANAGER
    response = client.post(f"/admin/casemgmt/user/{district_admin.pk}/change/", data)
    assert response.status_code in (403, 404)  # own admin role: refused by the service
    assert district_admin.memberships.get().role == Role.ADMIN and not role_events()


def test_first_role_of_a_user_created_in_the_admin_is_an_event(district_admin, district) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(district_admin)
    response = client.post(
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
    [granted] = role_events(actor=district_admin)
    assert granted.object_pk == str(user.pk) and granted.additional_data["role"] == "case_manager"


def test_a_fresh_account_is_claimed_only_by_the_admin_who_created_it(  # type: ignore[no-untyped-def]
    district_admin, district, other_district
) -> None:
    """Another district's administrator (or anyone from a shell) cannot give it a role first:
    they could otherwise set its password with a token of their own and inherit its later roles."""
    from casemgmt.services.administration import membership_create

    client = Client()
    client.force_login(district_admin)
    response = client.post(
        "/admin/casemgmt/user/add/",
        {
            "username": "neu2",
            "first_name": "",
            "last_name": "",
            "email": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = User.objects.get(username="neu2")
    [created] = AuditEntry.objects.filter(object_pk=str(fresh.pk), additional_data__event="user_created")
    assert created.actor_id == district_admin.pk and not fresh.has_usable_password()
    intruder = make_user(other_district, Role.ADMIN)
    with pytest.raises(User.DoesNotExist):
        membership_create(
            user=fresh, organisation=other_district, role=Role.CASE_MANAGER, acting_user=intruder
        )
    assert not Membership.objects.filter(user=fresh).exists()
    membership_create(user=fresh, organisation=district, role=Role.CASE_MANAGER, acting_user=district_admin)
    assert fresh.memberships.get().organisation_id == district.pk
