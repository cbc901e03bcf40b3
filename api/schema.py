"""OpenAPI extensions: our token authentication is django-rest-knox's, described the same way."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class AuditedTokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.AuditedTokenAuthentication"
    name = "tokenAuth"
