"""Writes that change who may open a family: grants, assignment, deputies, emergency access."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm
from knox.models import AuthToken

from casemgmt import policies
from casemgmt.models import Caseload, Deputyship, EmergencyAccess, Family, Organisation, Role, User
from casemgmt.services.common import invalid

FAMILY_PERMISSIONS = (policies.VIEW_FAMILY, policies.CHANGE_FAMILY)
EMERGENCY_REASON_MIN_LENGTH = 20


def caseload_group(user: User) -> Group:
    """The group holding the grants of ``user``'s families; ``user`` is always a member."""
    try:
        return user.caseload.group
    except Caseload.DoesNotExist:
        group = Group.objects.create(name=f"caseload:{user.pk}")
        Caseload.objects.create(owner=user, group=group)
        user.groups.add(group)
        return group


def family_grant(*, family: Family, case_manager: User) -> None:
    """Give ``case_manager``'s caseload (them and their deputies) access to ``family``."""
    group = caseload_group(case_manager)
    for codename in FAMILY_PERMISSIONS:
        assign_perm(codename, group, family)


def family_revoke(*, family: Family, case_manager: User) -> None:
    """Take ``family`` out of ``case_manager``'s caseload."""
    group = caseload_group(case_manager)
    for codename in FAMILY_PERMISSIONS:
        remove_perm(codename, group, family)


def _require_assignable(case_manager: User, family: Family) -> None:
    if not case_manager.is_active:
        raise invalid("case_manager", "This user is deactivated.", "inactive")
    if not policies.has_role_in(case_manager, family.organisation, Role.CASE_MANAGER):
        raise invalid(
            "case_manager",
            "This user is not a case manager of the family's organisation.",
            "not_case_manager",
        )


@transaction.atomic
def family_assign(*, family: Family, case_manager: User, acting_user: User) -> Family:
    """Transfer a family: the old caseload loses its grant and the new one gets it, atomically."""
    if not policies.has_role_in(acting_user, family.organisation, Role.SUPERVISOR):
        raise PermissionDenied("Only a supervisor of the family's organisation may assign it.")
    family = Family.objects.select_for_update(no_key=True).get(pk=family.pk)
    if family.status == Family.Status.CLOSED:
        raise invalid("family", "A closed family cannot be assigned.", "closed")
    _require_assignable(case_manager, family)
    previous = family.case_manager
    if previous == case_manager:
        return family
    if previous is not None:
        family_revoke(family=family, case_manager=previous)
    family_grant(family=family, case_manager=case_manager)
    family.case_manager = case_manager
    family.save(update_fields=["case_manager", "updated_at"])
    return family


@transaction.atomic
def deputy_add(*, principal: User, deputy: User, acting_user: User) -> Deputyship:
    """Name ``deputy`` to stand in for ``principal``: they join the principal's caseload."""
    organisation = _shared_case_manager_organisation(principal, deputy)
    if acting_user != principal and not policies.has_role_in(acting_user, organisation, Role.SUPERVISOR):
        raise PermissionDenied("Only the case manager or their supervisor may name a deputy.")
    if principal == deputy:
        raise invalid("deputy", "A case manager cannot be their own deputy.", "self")
    if not deputy.is_active:
        raise invalid("deputy", "This user is deactivated.", "inactive")
    deputyship, created = Deputyship.objects.get_or_create(
        principal=principal, deputy=deputy, defaults={"organisation": organisation, "created_by": acting_user}
    )
    if not created:
        raise invalid("deputy", "This deputy is already named.", "exists")
    deputy.groups.add(caseload_group(principal))
    return deputyship


def _shared_case_manager_organisation(principal: User, deputy: User) -> Organisation:
    shared = policies.organisations_with_role(principal, Role.CASE_MANAGER).filter(
        id__in=policies.organisation_ids_with_role(deputy, Role.CASE_MANAGER)
    )
    organisation = shared.first()
    if organisation is None:
        raise invalid(
            "deputy", "The deputy must be a case manager of the same organisation.", "not_case_manager"
        )
    return organisation


@transaction.atomic
def deputy_remove(*, deputyship: Deputyship, acting_user: User) -> None:
    """End a deputyship: the deputy leaves the principal's caseload at once."""
    allowed = acting_user in (deputyship.principal, deputyship.deputy) or policies.has_role_in(
        acting_user, deputyship.organisation, Role.SUPERVISOR
    )
    if not allowed:
        raise PermissionDenied("Only the case manager, the deputy or their supervisor may end this.")
    deputyship.deputy.groups.remove(caseload_group(deputyship.principal))
    deputyship.delete()


@transaction.atomic
def emergency_access_open(*, family: Family, acting_user: User, reason: str) -> EmergencyAccess:
    """Break the glass: open a family of one's own organisation for a limited time, with a reason."""
    if not policies.has_role_in(acting_user, family.organisation, Role.CASE_MANAGER):
        raise PermissionDenied("Only case managers of the family's organisation may open it in an emergency.")
    if family.status == Family.Status.CLOSED:
        raise invalid("family", "A closed family cannot be opened in an emergency.", "closed")
    if len(reason.strip()) < EMERGENCY_REASON_MIN_LENGTH:
        raise invalid(
            "reason", f"Give the reason in at least {EMERGENCY_REASON_MIN_LENGTH} characters.", "too_short"
        )
    if Family.objects.filter(policies.family_access(acting_user), pk=family.pk).exists():
        raise invalid("family", "You already have access to this family.", "has_access")
    now = timezone.now()
    access = EmergencyAccess(
        family=family,
        user=acting_user,
        reason=reason.strip(),
        opened_at=now,
        expires_at=now + datetime.timedelta(hours=settings.EMERGENCY_ACCESS_HOURS),
    )
    access.full_clean()
    access.save()
    return access


@transaction.atomic
def emergency_access_end(*, access: EmergencyAccess, acting_user: User) -> EmergencyAccess:
    """Close an emergency access early (the user is done, or a supervisor stops it)."""
    allowed = acting_user == access.user or policies.has_role_in(
        acting_user, access.family.organisation, Role.SUPERVISOR
    )
    if not allowed:
        raise PermissionDenied("Only the user who opened it or a supervisor may end this access.")
    if access.ended_at is None and access.expires_at > timezone.now():
        access.ended_at = timezone.now()
        access.save(update_fields=["ended_at"])
    return access


@transaction.atomic
def emergency_access_review(*, access: EmergencyAccess, acting_user: User, note: str) -> EmergencyAccess:
    """A supervisor or the DPO records that they reviewed an emergency access."""
    if not policies.has_role_in(acting_user, access.family.organisation, Role.SUPERVISOR, Role.DPO):
        raise PermissionDenied("Only a supervisor or the DPO of the organisation may review this.")
    if access.user_id == acting_user.pk:
        raise invalid("non_field_errors", "Nobody reviews their own emergency access.", "own")
    if access.reviewed_at is not None:
        raise invalid("non_field_errors", "This access was already reviewed.", "reviewed")
    access.reviewed_by = acting_user
    access.reviewed_at = timezone.now()
    access.review_note = note.strip()
    access.full_clean()
    access.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    return access


def tokens_revoke(*, user: User) -> int:
    """Revoke every API token of ``user`` (deactivation, lost device)."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return int(deleted)
