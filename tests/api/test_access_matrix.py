"""The cross-role access matrix: every endpoint and verb of the API against every role.

Read a row as: "<verb> <path>: role → expected status". ``"200:x"`` means 200 *and* the
target object is in the list; ``"200:-"`` means 200 and it is not. The roles:

- ``cm``         case manager the family is assigned to
- ``cm_same``    case manager of the same organisation, not assigned
- ``cm_other``   case manager of another district
- ``sup``        supervisor of the family's organisation; ``sup_other`` of another district
- ``dpo``        data protection officer of the family's organisation
- ``admin``      administrator of the family's organisation; ``admin_other`` of another district
- ``anon``       no token

``test_matrix_covers_every_endpoint`` fails when an endpoint or verb is added to the URL
conf without a row here, so nobody can add an endpoint without deciding who may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from drf_spectacular.generators import EndpointEnumerator

from casemgmt.models import Membership, Organisation, Role, User
from casemgmt.services.access import deputy_add, emergency_access_open
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user

ROLES = ("cm", "cm_same", "cm_other", "sup", "sup_other", "dpo", "admin", "admin_other", "anon")
STRONG_PASSWORD = "a-Very-long-passphrase-2026"


@dataclass
class World:
    district: Organisation
    other: Organisation
    users: dict[str, User]
    ids: dict[str, str]


@pytest.fixture
def world(db: None) -> World:
    district = OrganisationFactory(name="Landkreis A", reference_prefix="A")
    other = OrganisationFactory(name="Landkreis B", reference_prefix="B")
    users = {
        "cm": make_user(district, Role.CASE_MANAGER, username="cm", password=STRONG_PASSWORD),
        "cm_same": make_user(district, Role.CASE_MANAGER, username="cm_same"),
        "cm_other": make_user(other, Role.CASE_MANAGER, username="cm_other"),
        "sup": make_user(district, Role.SUPERVISOR, username="sup"),
        "sup_other": make_user(other, Role.SUPERVISOR, username="sup_other"),
        "dpo": make_user(district, Role.DPO, username="dpo"),
        "admin": make_user(district, Role.ADMIN, username="admin"),
        "admin_other": make_user(other, Role.ADMIN, username="admin_other"),
    }
    deputy = make_user(district, Role.CASE_MANAGER, username="cm_deputy")
    emergency_user = make_user(district, Role.CASE_MANAGER, username="cm_emergency")
    family = make_family(users["cm"], district, family_name="Haddad")
    person = make_person(family, users["cm"])
    deputyship = deputy_add(principal=users["cm"], deputy=deputy, acting_user=users["cm"])
    access = emergency_access_open(
        family=family, acting_user=emergency_user, reason="Kind in Gefahr, Fallverantwortliche im Urlaub"
    )
    ids = {
        "family": str(family.pk),
        "person": str(person.pk),
        "deputyship": str(deputyship.pk),
        "access": str(access.pk),
        "organisation": str(district.pk),
        "user": str(users["cm"].pk),
        "membership": str(Membership.objects.get(user=users["cm"]).pk),
    }
    return World(district, other, users, ids)


Body = Callable[[World], dict[str, Any]] | None


def _no_body(w: World) -> dict[str, Any]:
    return {}


CASE_ONLY_OWN = {
    "cm": 200,
    "cm_same": 404,
    "cm_other": 404,
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 403,
    "admin_other": 403,
    "anon": 401,
}
ADMIN_ONLY_OWN = {
    "cm": 403,
    "cm_same": 403,
    "cm_other": 403,
    "sup": 403,
    "sup_other": 403,
    "dpo": 403,
    "admin": 200,
    "admin_other": 404,
    "anon": 401,
}
ADMIN_LIST = {**ADMIN_ONLY_OWN, "admin": "200:x", "admin_other": "200:-"}
AUTHENTICATED = dict.fromkeys(ROLES, 200) | {"anon": 401}

# (verb, path, target id key, body) -> expected status per role
MATRIX: dict[tuple[str, str], tuple[str | None, Body, dict[str, int | str]]] = {
    # --- auth
    ("POST", "/api/v1/auth/token/"): (
        None,
        lambda w: {"username": "cm", "password": STRONG_PASSWORD},
        dict.fromkeys(ROLES, 200),
    ),
    ("POST", "/api/v1/auth/logout/"): (None, None, dict.fromkeys(ROLES, 204) | {"anon": 401}),
    ("POST", "/api/v1/auth/logout-all/"): (None, None, dict.fromkeys(ROLES, 204) | {"anon": 401}),
    ("GET", "/api/v1/auth/me/"): (None, None, AUTHENTICATED),
    # --- API description: public, holds no data
    ("GET", "/api/v1/schema/"): (None, None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/v1/docs/"): (None, None, dict.fromkeys(ROLES, 200)),
    # --- families (case content: assigned case manager only)
    ("GET", "/api/v1/families/"): (
        "family",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/families/"): (
        None,
        lambda w: {"family_name": "Neu"},
        {
            "cm": 201,
            "cm_same": 201,
            "cm_other": 201,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/families/{id}/"): ("family", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/families/{id}/"): ("family", lambda w: {"notes": "neu"}, CASE_ONLY_OWN),
    ("POST", "/api/v1/families/{id}/assign/"): (
        "family",
        lambda w: {"case_manager": str(w.users["cm_same"].pk)},
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- persons (authorised through their family)
    ("GET", "/api/v1/persons/"): (
        "person",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/persons/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "role": "child",
            "given_name": "Yusuf",
            "family_name": "Haddad",
        },
        {
            "cm": 201,
            "cm_same": 400,
            "cm_other": 400,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/persons/{id}/"): ("person", None, CASE_ONLY_OWN),
    ("PATCH", "/api/v1/persons/{id}/"): ("person", lambda w: {"given_name": "Amira"}, CASE_ONLY_OWN),
    # --- supervisors' non-personal case list
    ("GET", "/api/v1/case-overview/"): (
        "family",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/case-overview/{id}/"): (
        "family",
        None,
        {
            "cm": 403,
            "cm_same": 403,
            "cm_other": 403,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- deputies
    ("GET", "/api/v1/deputies/"): (
        "deputyship",
        None,
        {
            "cm": "200:x",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/deputies/"): (
        None,
        lambda w: {"deputy": str(w.users["cm_same"].pk)},
        {
            "cm": 201,
            "cm_same": 400,
            "cm_other": 400,
            "sup": 400,
            "sup_other": 400,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/deputies/{id}/"): (
        "deputyship",
        None,
        {
            "cm": 200,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("DELETE", "/api/v1/deputies/{id}/"): (
        "deputyship",
        None,
        {
            "cm": 204,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 204,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- break the glass
    ("GET", "/api/v1/emergency-access/"): (
        "access",
        None,
        {
            "cm": "200:-",
            "cm_same": "200:-",
            "cm_other": "200:-",
            "sup": "200:x",
            "sup_other": "200:-",
            "dpo": "200:x",
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/"): (
        None,
        lambda w: {
            "family": w.ids["family"],
            "reason": "Kindeswohlgefährdung gemeldet, Kollegin nicht erreichbar",
        },
        {
            "cm": 400,
            "cm_same": 201,
            "cm_other": 400,
            "sup": 403,
            "sup_other": 403,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("GET", "/api/v1/emergency-access/{id}/"): (
        "access",
        None,
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/{id}/end/"): (
        "access",
        None,
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 403,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    ("POST", "/api/v1/emergency-access/{id}/review/"): (
        "access",
        lambda w: {"note": "berechtigt"},
        {
            "cm": 404,
            "cm_same": 404,
            "cm_other": 404,
            "sup": 200,
            "sup_other": 404,
            "dpo": 200,
            "admin": 403,
            "admin_other": 403,
            "anon": 401,
        },
    ),
    # --- administration (no case content)
    ("GET", "/api/v1/organisations/"): ("organisation", None, ADMIN_LIST),
    ("POST", "/api/v1/organisations/"): (
        None,
        lambda w: {"name": "Gemeinde Neu", "kind": "town", "parent": str(w.district.pk)},
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    ("GET", "/api/v1/organisations/{id}/"): ("organisation", None, ADMIN_ONLY_OWN),
    ("PATCH", "/api/v1/organisations/{id}/"): (
        "organisation",
        lambda w: {"name": "Landkreis A-neu"},
        ADMIN_ONLY_OWN,
    ),
    ("GET", "/api/v1/users/"): ("user", None, ADMIN_LIST),
    ("POST", "/api/v1/users/"): (
        None,
        lambda w: {
            "username": "newuser",
            "password": STRONG_PASSWORD,
            "organisation": str(w.district.pk),
            "role": "case_manager",
        },
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    ("GET", "/api/v1/users/{id}/"): ("user", None, ADMIN_ONLY_OWN),
    ("PATCH", "/api/v1/users/{id}/"): ("user", lambda w: {"first_name": "Clara"}, ADMIN_ONLY_OWN),
    ("GET", "/api/v1/memberships/"): ("membership", None, ADMIN_LIST),
    ("POST", "/api/v1/memberships/"): (
        None,
        lambda w: {
            "user": str(w.users["cm_other"].pk),
            "organisation": str(w.district.pk),
            "role": "supervisor",
        },
        {**ADMIN_ONLY_OWN, "admin": 201, "admin_other": 400},
    ),
    ("GET", "/api/v1/memberships/{id}/"): ("membership", None, ADMIN_ONLY_OWN),
    ("DELETE", "/api/v1/memberships/{id}/"): ("membership", None, {**ADMIN_ONLY_OWN, "admin": 204}),
}

CASES = [(verb, path, role) for (verb, path) in MATRIX for role in ROLES]


@pytest.mark.parametrize(("verb", "path", "role"), CASES, ids=[f"{v} {p} {r}" for v, p, r in CASES])
def test_access(world: World, verb: str, path: str, role: str) -> None:
    target, body, expected_by_role = MATRIX[(verb, path)]
    expected = expected_by_role[role]
    url = path.replace("{id}", world.ids[target]) if target and "{id}" in path else path
    client = client_for(None if role == "anon" else world.users[role])
    data = (body or _no_body)(world)
    response = client.generic(verb, url, data=_json(data) if data else "", content_type="application/json")
    status, _, sees = str(expected).partition(":")
    assert response.status_code == int(status), (response.status_code, response.content[:300])
    if sees:
        ids = {str(item["id"]) for item in response.json()["results"]}
        assert (world.ids[target] in ids) == (sees == "x"), ids  # type: ignore[index]


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)


def _url_conf_endpoints() -> set[tuple[str, str]]:
    endpoints = set()
    for path, _regex, method, _callback in EndpointEnumerator().get_api_endpoints():
        if method in {"HEAD", "OPTIONS"}:
            continue
        endpoints.add((method, path.replace("{pk}", "{id}")))
    return endpoints


def test_matrix_covers_every_endpoint() -> None:
    endpoints = _url_conf_endpoints()
    missing = endpoints - set(MATRIX)
    stale = set(MATRIX) - endpoints
    assert not missing, f"endpoints without a row in the access matrix: {sorted(missing)}"
    assert not stale, f"rows for endpoints that no longer exist: {sorted(stale)}"


def test_every_row_names_every_role() -> None:
    for key, (_, _, expected) in MATRIX.items():
        assert set(expected) == set(ROLES), key
