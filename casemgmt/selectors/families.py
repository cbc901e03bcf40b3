"""Reads of families, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casemgmt import policies
from casemgmt.models import Family, User
from privacy.blind_index import name_terms


def families_visible_to(user: User) -> QuerySet[Family]:
    """Families whose content the user may read: granted, deputised or opened in an emergency."""
    return Family.objects.filter(policies.family_access(user, policies.VIEW_FAMILY))


def families_editable_by(user: User) -> QuerySet[Family]:
    """Families whose content (and members) the user may change."""
    return Family.objects.filter(policies.family_access(user, policies.CHANGE_FAMILY))


def families_supervised_by(user: User) -> QuerySet[Family]:
    """Families of the organisations the user supervises (for non-personal fields only)."""
    return Family.objects.filter(policies.supervised_family_filter(user))


def families_openable_in_emergency_by(user: User) -> QuerySet[Family]:
    """Families a case manager may open by breaking the glass: any open case of their organisations."""
    return Family.objects.filter(
        organisation_id__in=policies.organisation_ids_with_role(user, "case_manager")
    ).exclude(status=Family.Status.CLOSED)


def name_filter(name: str) -> Q:
    """Match a family by its name through the blind index."""
    return Q(family_name_index__in=name_terms([name], context="family.family_name"))
