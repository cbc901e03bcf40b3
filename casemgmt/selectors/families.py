"""Reads of families, always scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from casemgmt import policies
from casemgmt.models import Family, User
from privacy.cipher.blind_index import name_terms
from privacy.cipher.normalise import normalise_name


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


#: Per membership: the organisation, its parent and grandparent (districts and towns are two levels).
MEMBERSHIP_TREE = ("organisation_id", "organisation__parent_id", "organisation__parent__parent_id")

#: The order of a user's memberships: the first is the user's own organisation (the one a
#: read audit names when the objects read do not name one; ``privacy.audit.record_access``).
MEMBERSHIP_ORDER = ("created_at", "organisation_id")


def districts_of(rows: Iterable[tuple[Any, Any, Any]]) -> list[str]:
    """The district ids of membership rows ``(organisation, parent, grandparent)``; deeper trees walk up."""
    from casemgmt.models import district_of

    return sorted({district_of(grand) if grand else str(parent or org) for org, parent, grand in rows})


def user_districts(user: User) -> list[str]:
    """The district trees of the user's organisations: search terms are derived per district key."""
    from casemgmt.models import Membership

    return districts_of(Membership.objects.filter(user=user).values_list(*MEMBERSHIP_TREE).distinct())


def family_name_search(queryset: QuerySet[Family], *, name: str, districts: list[str]) -> QuerySet[Family]:
    """Families in ``queryset`` whose name equals ``name`` after normalisation.

    The blind index is a bucket shared by several names (planned leakage), so the rows of
    the bucket that the user may see are decrypted and the false positives dropped.
    """
    norm = normalise_name(name)
    if not norm or not districts:
        return queryset.none()
    candidates = queryset.filter(
        family_name_index__in=name_terms([norm], context="family.family_name", districts=districts)
    ).only("id", "family_name")
    ids = [f.pk for f in candidates if normalise_name(f.family_name) == norm]
    return queryset.filter(pk__in=ids)
