"""Reads of families, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casemgmt import policies
from casemgmt.models import Family, User
from privacy.blind_index import name_terms


def families_visible_to(user: User) -> QuerySet[Family]:
    """Families the user may open: filtered in the database with one subquery."""
    if not user.is_authenticated or not user.is_active:
        return Family.objects.none()
    return Family.objects.filter(organisation_id__in=policies.case_manager_organisation_ids(user))


def family_list(*, user: User, name: str | None = None) -> QuerySet[Family]:
    """Visible families, optionally those whose family name matches ``name`` (blind index)."""
    qs = families_visible_to(user)
    if name is not None:
        qs = qs.filter(family_name_index__in=name_terms([name], context="family.family_name"))
    return qs


def name_filter(name: str) -> Q:
    """Match a family by its name (a helper for other selectors)."""
    return Q(family_name_index__in=name_terms([name], context="family.family_name"))
