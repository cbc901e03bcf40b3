"""Token authentication that also names the actor of the request's audit entries."""

from __future__ import annotations

import re
from functools import cache
from hmac import compare_digest
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import QuerySet
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
from casemgmt.db.compiled import CompiledValuesQuery
from casemgmt.selectors.families import MEMBERSHIP_ORDER
from privacy.audit import bind_actor


@cache
def _token_fields() -> tuple[str, ...]:
    return tuple(field.attname for field in AuthToken._meta.concrete_fields)


@cache
def _user_fields() -> tuple[str, ...]:
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


def _token_statement(token_key: str) -> QuerySet[Any, tuple[Any, ...]]:
    """The tokens with this key, each with its user and one row per membership of the user.

    Columns: the token's, the user's, then ``MEMBERSHIP_COLUMNS`` (None for a user without
    memberships: the outer join's row), memberships in ``MEMBERSHIP_ORDER``.
    """
    rows: QuerySet[Any, tuple[Any, ...]] = (
        AuthToken.objects.filter(token_key=token_key)
        .order_by(*(f"user__memberships__{column}" for column in MEMBERSHIP_ORDER))
        .values_list(
            *_token_fields(),
            *(f"user__{name}" for name in _user_fields()),
            *(f"user__memberships__{column}" for column in MEMBERSHIP_COLUMNS),
        )
    )
    return rows


def _well_formed(token: bytes) -> str | None:
    """The token as text if it has the form knox gives tokens (its prefix, then hex), else None.

    Knox decodes any header as UTF-8 and queries with it: bytes that are not UTF-8 raised a
    500, and on PostgreSQL so did a NUL byte. Nothing but knox's own form can match a token.
    """
    try:
        text = token.decode("ascii")
    except UnicodeDecodeError:
        return None
    length = knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
    form = f"{re.escape(knox_settings.TOKEN_PREFIX)}[0-9a-f]{{{length}}}"
    return text if re.fullmatch(form, text) else None


#: Compiled once per connection: building this join cost more than running it (issue 17).
_TOKEN_STATEMENT = CompiledValuesQuery("knox-token-with-memberships", _token_statement)


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
        token_text = _well_formed(token)
        if token_text is None:  # no knox token looks like this: refused before any query
            raise exceptions.AuthenticationFailed(msg)
        candidates: dict[str, tuple[AuthToken, list[tuple[Any, ...]]]] = {}
        token_fields, user_fields = _token_fields(), _user_fields()
        user_model = get_user_model()
        using = router.db_for_read(AuthToken)
        first_user, first_membership = len(token_fields), len(token_fields) + len(user_fields)
        digest_column = token_fields.index("digest")
        for row in _TOKEN_STATEMENT.rows(token_text[: CONSTANTS.TOKEN_KEY_LENGTH], using=using):
            digest = row[digest_column]
            if digest not in candidates:
                auth_token = AuthToken.from_db(using, token_fields, row[:first_user])
                auth_token.user = user_model.from_db(using, user_fields, row[first_user:first_membership])
                candidates[digest] = (auth_token, [])
            membership = row[first_membership:]
            if membership[0] is not None:  # the outer join's row of a user without memberships
                candidates[digest][1].append(membership)
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
