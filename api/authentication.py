"""Token authentication that also names the actor of the request's audit entries."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication
from rest_framework.request import Request

from privacy.audit import bind_actor


class AuditedTokenAuthentication(TokenAuthentication):
    """django-rest-knox tokens; on success the user becomes the audit actor for this request."""

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            bind_actor(result[0])
        return result
