"""Reads of case-work records (goals, reviews, referrals, consents, conferences, contacts).

Every list, filter and single-object lookup goes through ``policies.case_record_access``:
the family rule and the Art. 18 restriction rule, applied in the database.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from casemgmt import policies
from casemgmt.models import User


def case_records_for(user: User, queryset: QuerySet[Any], *, change: bool = False) -> QuerySet[Any]:
    """The rows of ``queryset`` that ``user`` may view (or, with ``change``, change)."""
    codename = policies.CHANGE_FAMILY if change else policies.VIEW_FAMILY
    return queryset.filter(policies.case_record_access(user, queryset.model, codename))


def not_restricted(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Leave out rows linked to a restricted person (for nested lists such as participants)."""
    return queryset.filter(policies.not_restricted(queryset.model))
