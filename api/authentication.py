"""Token authentication that also names the actor of the request's audit entries."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from knox.signals import token_expired
from rest_framework.request import Request

from privacy.audit import bind_actor


class AuditedTokenAuthentication(TokenAuthentication):
    """django-rest-knox tokens; on success the user becomes the audit actor for this request.

    Knox (5.1) has no setting to turn off its per-request housekeeping: ``_cleanup_token``
    loads **every** token of the user on every request to delete the expired ones, so the
    cost of a request grows with the user's logins. Here only the presented token is
    checked (an expired token is still refused and deleted, exactly as knox does it);
    the other expired tokens are deleted by the job worker (``privacy.jobs.purge_expired_tokens``).
    Logout and revocation are unchanged: they delete rows, and a deleted token never matches.
    """

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            bind_actor(result[0])
        return result

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False
