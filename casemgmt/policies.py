"""Who may do what. One rule per question, used both to filter lists and to check objects.

Being a member of an organisation grants nothing by itself: the same district office may
also be the immigration or benefits authority. Case content is reached only through a
grant on the family (to the case manager's caseload, i.e. them and their deputies) or a
running emergency access, and only while the user still works as a case manager in the
family's organisation. Supervisors see non-personal case data of their organisations;
DPOs and administrators see no case content.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.signals import post_migrate
from django.utils import timezone

from casemgmt.models import (
    EmergencyAccess,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
    Membership,
    Organisation,
    Role,
    User,
)

VIEW_FAMILY = "view_family"
CHANGE_FAMILY = "change_family"


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def organisation_ids_with_role(user: User, *roles: str) -> QuerySet[Membership, Any]:
    """Ids of organisations where ``user`` holds one of ``roles`` (a subquery, not a list)."""
    if not _active(user):
        return Membership.objects.none().values("organisation_id")
    return Membership.objects.filter(user=user, role__in=roles).values("organisation_id")


def organisations_with_role(user: User, *roles: str) -> QuerySet[Organisation]:
    """Organisations where ``user`` holds one of ``roles``."""
    if not _active(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(id__in=organisation_ids_with_role(user, *roles))


def managed_organisations(user: User) -> QuerySet[Organisation]:
    """Organisations an administrator manages: their own and their member towns."""
    if not _active(user):
        return Organisation.objects.none()
    own = organisation_ids_with_role(user, Role.ADMIN)
    return Organisation.objects.filter(Q(id__in=own) | Q(parent_id__in=own))


def has_role(user: User, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` in any organisation."""
    return _active(user) and Membership.objects.filter(user=user, role__in=roles).exists()


def has_role_in(user: User, organisation: Organisation, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` in ``organisation``."""
    return (
        _active(user)
        and Membership.objects.filter(user=user, organisation=organisation, role__in=roles).exists()
    )


@cache
def family_permission_id(codename: str) -> int:
    """The id of a Family permission, looked up once per process (the list query then needs no
    joins to the permission and content-type tables: measured, it halves the planning time)."""
    from django.contrib.auth.models import Permission

    return Permission.objects.get(
        codename=codename, content_type__app_label="casemgmt", content_type__model="family"
    ).pk


def _forget_permission_ids(**kwargs: Any) -> None:
    family_permission_id.cache_clear()


# Permissions are recreated (with new ids) after migrations and test-database flushes.
post_migrate.connect(_forget_permission_ids, dispatch_uid="casemgmt_forget_permission_ids")


def family_access(user: User, codename: str = VIEW_FAMILY) -> Q:
    """The condition on ``Family`` rows that ``user`` may view (or change): one subquery each.

    Lists and single objects use this same condition, so they cannot drift apart.
    """
    if not _active(user):
        return Q(pk__in=[])
    perm = {"permission_id": family_permission_id(codename)}
    direct = FamilyUserObjectPermission.objects.filter(user=user, **perm).values("content_object_id")
    via_caseload = FamilyGroupObjectPermission.objects.filter(group__user=user, **perm).values(
        "content_object_id"
    )
    emergency = EmergencyAccess.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
    ).values("family_id")
    return (Q(id__in=direct) | Q(id__in=via_caseload) | Q(id__in=emergency)) & Q(
        organisation_id__in=organisation_ids_with_role(user, Role.CASE_MANAGER)
    )


def supervised_family_filter(user: User) -> Q:
    """Families whose non-personal data ``user`` may see and assign, as a supervisor."""
    if not _active(user):
        return Q(pk__in=[])
    return Q(organisation_id__in=organisation_ids_with_role(user, Role.SUPERVISOR))


def catalogue_organisation_ids(organisation_ids: Any) -> QuerySet[Organisation, Any]:
    """Organisations whose catalogue is shared with ``organisation_ids``: their district and its towns.

    A district shares its providers and courses with its member towns, and the towns'
    own offers are visible across the district; nothing crosses into another district.
    """
    members = Organisation.objects.filter(id__in=organisation_ids)
    roots = Organisation.objects.filter(
        Q(id__in=members.filter(parent__isnull=True).values("id")) | Q(id__in=members.values("parent_id"))
    ).values("id")
    return Organisation.objects.filter(Q(id__in=roots) | Q(parent_id__in=roots)).values("id")


def catalogue_visible_organisation_ids(user: User) -> QuerySet[Organisation, Any]:
    """Catalogue organisations for any member (case managers refer, supervisors plan)."""
    if not _active(user):
        return Organisation.objects.none().values("id")
    return catalogue_organisation_ids(Membership.objects.filter(user=user).values("organisation_id"))


def catalogue_editable_organisation_ids(user: User) -> QuerySet[Membership, Any]:
    """Organisations whose catalogue ``user`` edits: as an administrator or supervisor."""
    return organisation_ids_with_role(user, Role.ADMIN, Role.SUPERVISOR)


ALL_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR, Role.DPO, Role.ADMIN)
