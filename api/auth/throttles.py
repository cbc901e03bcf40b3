"""Login throttles: per client address and per attempted username.

Per address stops one client from guessing many accounts; per username stops a
distributed attack on one account. Both answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from privacy.cipher.normalise import normalise_name


class _SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate when used, so a changed setting applies without a restart of the class."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))
        return None if rate is None else str(rate)


class LoginAddressThrottle(_SettingsRateThrottle):
    scope = "login_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_SettingsRateThrottle):
    scope = "login_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if not isinstance(username, str) or not username:
            return None
        # Hashed: any characters are safe in a cache key, and the cache holds no usernames.
        ident = hashlib.sha256(normalise_name(username)[:150].encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
