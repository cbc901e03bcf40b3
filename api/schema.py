"""OpenAPI extensions: our token authentication is django-rest-knox's, described the same way."""

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class AuditedTokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.AuditedTokenAuthentication"
    name = "tokenAuth"


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx (and 5xx) answer has this shape; `errors` only for validation (400).",
    "required": ["code", "detail"],
    "properties": {
        "code": {
            "type": "string",
            "description": "machine-readable, e.g. invalid, not_found, invalid_transition",
        },
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "per field: a list of {code, message}; nested input nests the same way",
            "additionalProperties": {"oneOf": [{"type": "array"}, {"type": "object"}]},
        },
        "retry_after": {"type": "integer", "description": "seconds, with 429"},
    },
    "additionalProperties": True,
}
ERROR_STATUSES = {
    "400": "Invalid input; nothing was changed.",
    "401": "Missing, expired or revoked token.",
    "403": "Your role gives no access to this endpoint.",
    "404": "No such object, or not yours to see.",
    "409": "Conflicts with the current state (the body says what is allowed).",
    "412": "If-Match named an older version.",
    "429": "Too many requests; see Retry-After.",
    "503": "Database unavailable; nothing was changed.",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document the one error shape on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in ERROR_STATUSES.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
