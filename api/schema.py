"""OpenAPI extensions and postprocessing: the schema says exactly what the server does.

Token authentication is django-rest-knox's, described the same way; every operation
documents the one error shape; request bodies refuse unknown fields (``additionalProperties:
false``); conditional requests and retry hints are declared as headers.
"""

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema as _AutoSchema


class AuditedTokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.AuditedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> Any:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Authorization: Token <key>` with the key from `POST /api/v1/auth/token/`; "
                "keys expire (TOKEN_TTL_HOURS) and are revoked by logout."
            ),
        }


FIELD_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every 4xx (and 5xx) answer has this shape; `errors` only for validation (400). A 409 "
        "adds what resolves the conflict (e.g. `allowed`, `current`, `open_referrals`)."
    ),
    "required": ["code", "detail"],
    "properties": {
        "code": {
            "type": "string",
            "description": "machine-readable, e.g. invalid, not_found, invalid_transition",
        },
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": (
                "per field: a list of {code, message}; nested input nests the same way "
                "(an object per nested field, or a list of those for lists)"
            ),
            "additionalProperties": {
                "oneOf": [
                    {"type": "array", "items": {}},
                    {"type": "object", "additionalProperties": {}},
                ]
            },
        },
        "retry_after": {"type": "integer", "description": "seconds, with 429"},
    },
    "additionalProperties": {},
}
ERROR_STATUSES = {
    "400": "Invalid input; nothing was changed.",
    "401": "Missing, expired or revoked token.",
    "403": "Your role gives no access to this endpoint.",
    "404": "No such object, or not yours to see.",
    "405": "This method is not allowed on this path.",
    "409": "Conflicts with the current state (the body says what is allowed).",
    "412": "If-Match named an older version.",
    "415": "Send application/json.",
    "429": "Too many requests; see Retry-After.",
    "503": "Database unavailable; nothing was changed.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}
ETAG_HEADER = {
    "ETag": {
        "description": "The object's version; send it back as If-Match to update only that version.",
        "schema": {"type": "string"},
    }
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "ETag from the last read: the update is refused with 412 (changing nothing) when the "
        "object changed since. Without it the last writer wins."
    ),
}


class AutoSchema(_AutoSchema):
    """drf-spectacular's AutoSchema plus the conditional-request headers of ETagMixin views."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        from api.concurrency import ETagMixin

        if not isinstance(self.view, ETagMixin) or self.method not in ("GET", "PATCH"):
            return operation
        if self.method == "GET" and self._is_list_view():
            return operation
        if getattr(self.view, "action", None) not in ("retrieve", "partial_update"):
            return operation
        for code, response in operation.get("responses", {}).items():
            if code.startswith("2"):
                response.setdefault("headers", {}).update(ETAG_HEADER)
        if self.method == "PATCH":
            operation.setdefault("parameters", []).append(IF_MATCH)
        return operation


def _request_components(result: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if ref.startswith("#/components/schemas/"):
                    names.add(ref.rsplit("/", 1)[1])
    return names


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: errors, headers and closed request bodies."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in ERROR_STATUSES.items():
                if code == "412" and IF_MATCH not in operation.get("parameters", []):
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            for code in ("429", "503"):
                responses[code].setdefault("headers", {}).update(RETRY_AFTER)
    # Every input serializer refuses fields it does not declare (400 unknown_field).
    for name in _request_components(result):
        component = schemas.get(name)
        if isinstance(component, dict) and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
