"""What every audited model tells django-auditlog about itself."""

from __future__ import annotations

from typing import Any, ClassVar


class AuditContextMixin:
    """Names the organisation an audit entry concerns, so each DPO sees their own tenant's log.

    ``ORGANISATION_PATH`` is an attribute path from the instance to an organisation id,
    e.g. ``"family.organisation_id"``; empty for objects of no single organisation.
    """

    ORGANISATION_PATH: ClassVar[str] = ""

    def get_additional_data(self) -> dict[str, Any] | None:
        """Called by django-auditlog when it writes an entry for this object."""
        if not self.ORGANISATION_PATH:
            return None
        value: Any = self
        for part in self.ORGANISATION_PATH.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return {"organisation": str(value)}
