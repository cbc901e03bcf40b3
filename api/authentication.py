"""Token authentication that also names the actor of the request's audit entries."""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.request import Request

from api.permissions import MEMBERSHIP_COLUMNS, remember_memberships
from casemgmt.selectors.families import MEMBERSHIP_ORDER
from privacy.audit import bind_actor

#: The caller's membership columns, read with the token through the user (one row per membership).
_MEMBERSHIP_ANNOTATIONS = {
    f"_membership_{i}": F(f"user__memberships__{c}") for i, c in enumerate(MEMBERSHIP_COLUMNS)
}


class AuditedTokenAuthentication(TokenAuthentication):
    """django-rest-knox tokens; on success the user becomes the audit actor for this request.

    Two changes to knox's (5.1) per-request work, both about what a request costs:

    - Knox has no setting to turn off its housekeeping: ``_cleanup_token`` loads **every**
      token of the user on every request to delete the expired ones, so the cost of a request
      grows with the user's logins. Here only the presented token is checked (an expired token
      is still refused and deleted, exactly as knox does it); the other expired tokens are
      deleted by the job worker (``privacy.jobs.purge_expired_tokens``).
    - The token's statement also reads the user's memberships (a join through the user, one
      row per membership), which every endpoint's role gate needs next: one statement
      instead of two (issue 17). The token check itself is knox's: the same digest, expiry,
      refresh and active-user rules, in the same order.

    Logout and revocation are unchanged: they delete rows, and a deleted token never matches.
    """

    memberships: list[tuple[Any, ...]] | None = None

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            if self.memberships is not None:
                remember_memberships(request, self.memberships)
            bind_actor(result[0])
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        msg = _("Invalid token.")
        token_text = token.decode("utf-8")
        candidates: dict[str, tuple[AuthToken, list[tuple[Any, ...]]]] = {}
        rows = (
            AuthToken.objects.filter(token_key=token_text[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user")
            .annotate(**_MEMBERSHIP_ANNOTATIONS)
            .order_by(*(f"user__memberships__{column}" for column in MEMBERSHIP_ORDER))
        )
        for row in rows:
            _token, memberships = candidates.setdefault(row.digest, (row, []))
            membership = tuple(getattr(row, name) for name in _MEMBERSHIP_ANNOTATIONS)
            if membership[0] is not None:  # the outer join's row of a user without memberships
                memberships.append(membership)
        for auth_token, memberships in candidates.values():
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token_text)
            except (TypeError, ValueError):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                user, auth_token = self.validate_user(auth_token)
                self.memberships = memberships
                return user, auth_token
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False
