"""Domain errors that are not about one invalid field."""

from __future__ import annotations

from typing import Any


class Conflict(Exception):
    """The request is valid but conflicts with the current state (HTTP 409).

    ``code`` is machine-readable; ``extra`` carries what the client needs to resolve the
    conflict (e.g. the allowed transitions, the referrals still open). Never personal data.
    """

    def __init__(self, message: str, *, code: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra
