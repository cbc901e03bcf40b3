"""The OpenAPI contract is true: errors, types, headers and media types as the schema says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from django.urls import clear_url_caches
from drf_spectacular.generators import SchemaGenerator

from tests.factories import make_family


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(result, default=str))


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert isinstance(body["code"], str) and isinstance(body["detail"], str)
    return body


# --- every 4xx under /api/ is the JSON error shape


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/"),
        ("get", "/api/v2/families/"),
        ("get", "/api/v1/nope/"),
        ("post", "/api/v1/nope/"),
        ("delete", "/api/v1/families/x/y/z/"),
        ("get", "/api/v1/families/00000000-0000-0000-0000-000000000000/nothing/"),
        ("post", "/api/v1/families"),  # without trailing slash: not a redirect that drops the body
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_unmatched_paths_answer_json_404(api, method: str, path: str, debug: bool) -> None:  # type: ignore[no-untyped-def]
    with override_settings(DEBUG=debug):
        response = getattr(api, method)(path, {}, format="json")
    body = assert_error_shape(response, 404)
    assert body["code"] == "not_found"
    if path == "/api/v1/families":
        assert "/api/v1/families/" in body["detail"]


def test_unmatched_paths_answer_json_404_unauthenticated(anon) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(anon.get("/api/v1/nope/"), 404)


def test_get_without_trailing_slash_redirects(api) -> None:  # type: ignore[no-untyped-def]
    response = api.get("/api/v1/families?status=active")
    assert response.status_code == 301 and response["Location"] == "/api/v1/families/?status=active"


def test_admin_keeps_djangos_404(admin_client) -> None:  # type: ignore[no-untyped-def]
    clear_url_caches()
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_json_405(api) -> None:  # type: ignore[no-untyped-def]
    assert_error_shape(api.delete("/api/v1/families/"), 405)
    assert_error_shape(api.put("/api/v1/families/", {}, format="json"), 405)


def test_malformed_json_is_json_400(api) -> None:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/families/", "{", content_type="application/json")
    assert assert_error_shape(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize("authenticated", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/families/", "/api/v1/goals/"])
def test_over_deep_json_is_json_400(api, anon, authenticated: bool, path: str) -> None:  # type: ignore[no-untyped-def]
    client = api if authenticated else anon
    body = "[" * 50_000 + "]" * 50_000
    response = client.post(path, body, content_type="application/json")
    if not authenticated and path != "/api/v1/auth/token/":
        assert_error_shape(response, 401)  # authentication comes before the body is read
    else:
        assert assert_error_shape(response, 400)["code"] == "parse_error"


# --- strict types: a number is not a string, "yes" is not a boolean


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"family_name": 5}, "family_name"),
        ({"family_name": 5.5}, "family_name"),
        ({"family_name": "X", "notes": ["x"]}, "notes"),
        ({"family_name": "X", "interpreter_needed": "yes"}, "interpreter_needed"),
        ({"family_name": "X", "interpreter_needed": 1}, "interpreter_needed"),
    ],
)
def test_wrong_json_types_are_400(api, body: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Family

    response = api.post("/api/v1/families/", body, format="json")
    assert field in assert_error_shape(response, 400)["errors"]
    assert not Family.objects.exists()


def test_strict_types_in_plain_input_serializers(api, family) -> None:  # type: ignore[no-untyped-def]
    response = api.post(f"/api/v1/families/{family.pk}/close/", {"outcome": 5}, format="json")
    assert "outcome" in assert_error_shape(response, 400)["errors"]


# --- filters: booleans are true/false, garbage is a 400 (it used to be "no filter")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/goals/", "overdue"),
        ("/api/v1/consents/", "valid"),
        ("/api/v1/courses/", "has_seats"),
    ],
)
@pytest.mark.parametrize("value", ["1", "yes", "garbage", "True"])
def test_boolean_filters_are_strict(api, path: str, param: str, value: str) -> None:  # type: ignore[no-untyped-def]
    body = assert_error_shape(api.get(path, {param: value}), 400)
    assert param in body["errors"]


@pytest.mark.parametrize("value", ["true", "false"])
def test_boolean_filters_accept_true_false(api, value: str) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/api/v1/goals/", {"overdue": value}).status_code == 200


def test_unassigned_filter_is_strict(district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Role
    from tests.conftest import client_for
    from tests.factories import make_user

    supervisor = client_for(make_user(district, Role.SUPERVISOR))
    assert supervisor.get("/api/v1/case-overview/", {"unassigned": "yes"}).status_code == 400
    assert supervisor.get("/api/v1/case-overview/", {"unassigned": "true"}).status_code == 200


# --- conditional requests: ETag and If-Match as documented


def test_etag_and_if_match(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    url = f"/api/v1/families/{family.pk}/"
    etag = api.get(url)["ETag"]
    changed = api.patch(url, {"notes": "a"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert_error_shape(api.patch(url, {"notes": "b"}, format="json", HTTP_IF_MATCH=etag), 412)


# --- the schema says the same


def test_error_component_is_valid_openapi(schema) -> None:  # type: ignore[no-untyped-def]
    errors = schema["components"]["schemas"]["Error"]["properties"]["errors"]
    for option in errors["additionalProperties"]["oneOf"]:
        assert option["type"] != "array" or "items" in option


def test_blank_choices_are_declared(schema) -> None:  # type: ignore[no-untyped-def]
    components = schema["components"]["schemas"]
    for component, field in [
        ("ReferralTransition", "from_status"),
        ("ParticipantOutput", "agency"),
        ("Course", "cefr_level"),
        ("PersonOutput", "residence_status"),
        ("FamilyOutput", "closure_outcome"),
    ]:
        refs = json.dumps(components[component]["properties"][field])
        assert "BlankEnum" in refs, (component, field, refs)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("/api/v1/families/{id}/", {"organisation", "opened_on"}),
        ("/api/v1/goals/{id}/", {"family", "agreed_on"}),
        ("/api/v1/contacts/{id}/", {"family"}),
        ("/api/v1/referrals/{id}/", {"person", "course", "provider", "goal"}),
        ("/api/v1/conferences/{id}/", {"family", "participants"}),
        ("/api/v1/courses/{id}/", {"provider"}),
        ("/api/v1/providers/{id}/", {"organisation"}),
        ("/api/v1/fields-of-action/{id}/", {"organisation", "code"}),
        ("/api/v1/organisations/{id}/", {"kind", "parent"}),
    ],
)
def test_patch_bodies_offer_only_what_the_server_takes(schema, path: str, refused: set[str]) -> None:  # type: ignore[no-untyped-def]
    ref = schema["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert not refused & set(component["properties"])
    assert component["additionalProperties"] is False


def test_patch_refuses_the_fields_the_schema_leaves_out(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    response = api.patch(f"/api/v1/families/{family.pk}/", {"opened_on": "2020-01-01"}, format="json")
    assert assert_error_shape(response, 400)["errors"]["opened_on"][0]["code"] == "unknown_field"


def test_every_request_body_is_closed(schema) -> None:  # type: ignore[no-untyped-def]
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                component = components[media["schema"]["$ref"].rsplit("/", 1)[1]]
                assert component.get("additionalProperties") is False, (method, path)


def test_headers_and_auth_are_declared(schema) -> None:  # type: ignore[no-untyped-def]
    family = schema["paths"]["/api/v1/families/{id}/"]
    assert "ETag" in family["get"]["responses"]["200"]["headers"]
    assert "ETag" in family["patch"]["responses"]["200"]["headers"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in family["patch"]["parameters"])
    assert "412" in family["patch"]["responses"] and "412" not in family["get"]["responses"]
    listing = schema["paths"]["/api/v1/families/"]["get"]["responses"]
    assert "Retry-After" in listing["429"]["headers"] and "Retry-After" in listing["503"]["headers"]
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "apiKey" and scheme["name"] == "Authorization"
    assert "Token" in scheme["description"]


def test_report_media_types_are_declared(schema) -> None:  # type: ignore[no-untyped-def]
    def media(path: str) -> set[str]:
        return set(schema["paths"][path]["get"]["responses"]["200"]["content"])

    assert media("/api/v1/privacy/registry/") == {"application/json", "text/csv", "text/html"}
    assert media("/api/v1/privacy/subjects/{person_id}/export/") == {"application/json", "text/html"}
    assert media("/api/v1/stats/outcomes/") == {"application/json", "text/csv"}
    assert media("/api/v1/stats/outcomes/chart.svg") == {"image/svg+xml"}


def test_documented_rules(schema) -> None:  # type: ignore[no-untyped-def]
    params = {p["name"]: p for p in schema["paths"]["/api/v1/stats/outcomes/"]["get"]["parameters"]}
    assert "ten years" in params["from"]["description"]
    persons = {p["name"]: p for p in schema["paths"]["/api/v1/persons/"]["get"]["parameters"]}
    assert persons["date_of_birth"]["schema"] == {"type": "string", "format": "date"}
    emergency = schema["components"]["schemas"]["EmergencyAccessInputRequest"]
    assert "reference" in emergency["description"] and "family" in emergency["description"]
    goals = {p["name"]: p for p in schema["paths"]["/api/v1/goals/"]["get"]["parameters"]}
    assert goals["field_of_action"]["schema"]["format"] == "uuid"
    assert goals["overdue"]["schema"]["type"] == "boolean"


def test_swagger_ui_is_served_locally(api) -> None:  # type: ignore[no-untyped-def]
    page = api.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in page and "cdn.jsdelivr" not in page and "unpkg" not in page
