"""Writes that change who may open a family: grants, assignment, deputies, emergency access."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import Counter

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm
from knox.models import AuthToken

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import (
    AccessGrant,
    Caseload,
    Deputyship,
    EmergencyAccess,
    EmergencyAccessRequest,
    Family,
    Organisation,
    Role,
    User,
)
from casemgmt.services.accounts import account_event
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.models import AuditEntry
from privacy.registry import Activity

FAMILY_PERMISSIONS = (policies.VIEW_FAMILY, policies.CHANGE_FAMILY)
EMERGENCY_REASON_MIN_LENGTH = 20
#: A reason is a sentence: at least this many distinct words of two or more letters ...
EMERGENCY_REASON_MIN_WORDS = 3
#: ... at least this many distinct letters ...
EMERGENCY_REASON_MIN_DISTINCT_LETTERS = 8
#: ... and no single character making up more than this share of the text.
EMERGENCY_REASON_MAX_CHAR_SHARE = 0.35
_WORD = re.compile(r"[^\W\d_]{2,}")


def caseload_group(user: User) -> Group:
    """The group holding the grants of ``user``'s families; ``user`` is always a member."""
    try:
        return user.caseload.group
    except Caseload.DoesNotExist:
        group = Group.objects.create(name=f"caseload:{user.pk}")
        Caseload.objects.create(owner=user, group=group)
        user.groups.add(group)
        return group


def family_grant(*, family: Family, case_manager: User, granted_by: User | None = None) -> None:
    """Give ``case_manager``'s caseload (them and their deputies) access to ``family``.

    Recorded in the grant ledger (who granted it; on creation the case manager themselves).
    """
    group = caseload_group(case_manager)
    for codename in FAMILY_PERMISSIONS:
        assign_perm(codename, group, family)
    AccessGrant.objects.create(
        kind=AccessGrant.Kind.ASSIGNMENT,
        organisation_id=family.organisation_id,
        family=family,
        grantee=case_manager,
        granted_by=granted_by or case_manager,
        granted_at=timezone.now(),
    )


def family_revoke(*, family: Family, case_manager: User, revoked_by: User | None = None) -> None:
    """Take ``family`` out of ``case_manager``'s caseload (the ledger keeps that it was granted)."""
    group = caseload_group(case_manager)
    for codename in FAMILY_PERMISSIONS:
        remove_perm(codename, group, family)
    AccessGrant.objects.filter(
        kind=AccessGrant.Kind.ASSIGNMENT, family=family, grantee=case_manager, revoked_at__isnull=True
    ).update(revoked_at=timezone.now(), revoked_by=revoked_by)


def _require_assignable(case_manager: User, family: Family) -> None:
    if not case_manager.is_active:
        raise invalid("case_manager", "This user is deactivated.", "inactive")
    if not policies.has_role_in(case_manager, family.organisation, Role.CASE_MANAGER):
        raise invalid(
            "case_manager",
            "This user is not a case manager of the family's organisation.",
            "not_case_manager",
        )


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def family_assign(*, family: Family, case_manager: User, acting_user: User) -> Family:
    """Transfer a family: the old caseload loses its grant and the new one gets it, atomically."""
    # Only the family's supervisors assign it; to anyone else it is not found.
    policies.require_role_in(acting_user, family.organisation, Role.SUPERVISOR, obj=family)
    family = Family.objects.select_for_update(no_key=True).get(pk=family.pk)
    if family.status == Family.Status.CLOSED:
        raise invalid("family", "A closed family cannot be assigned.", "closed")
    _require_assignable(case_manager, family)
    previous = family.case_manager
    if previous == case_manager:
        return family
    if previous is not None:
        family_revoke(family=family, case_manager=previous, revoked_by=acting_user)
    family_grant(family=family, case_manager=case_manager, granted_by=acting_user)
    family.case_manager = case_manager
    family.save(update_fields=["case_manager", "updated_at"])
    account_event(
        event="family_assigned",
        user=case_manager,
        actor=acting_user,
        organisation_id=family.organisation_id,
        details={
            "family": str(family.pk),
            "case_manager": str(case_manager.pk),
            "previous_case_manager": str(previous.pk) if previous else None,
        },
    )
    return family


def _deputy_end(ends_at: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    """The end of a new deputyship: the default period, or an earlier/later one up to the maximum."""
    if ends_at is None:
        return now + datetime.timedelta(days=settings.DEPUTY_DEFAULT_DAYS)
    if ends_at <= now:
        raise invalid("ends_at", "The end must be in the future.", "past")
    if ends_at > now + datetime.timedelta(days=settings.DEPUTY_MAX_DAYS):
        raise invalid("ends_at", f"A deputyship lasts at most {settings.DEPUTY_MAX_DAYS} days.", "too_long")
    return ends_at


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def deputy_add(
    *, principal: User, deputy: User, acting_user: User, ends_at: datetime.datetime | None = None
) -> Deputyship:
    """Name ``deputy`` to stand in for ``principal`` until ``ends_at``: they join the caseload."""
    # Authorise before validating, so a stranger learns nothing about the two accounts.
    supervised = policies.organisation_ids_with_role(acting_user, Role.SUPERVISOR)
    if (
        acting_user != principal
        and not Organisation.objects.filter(
            id__in=supervised, memberships__user=principal, memberships__role=Role.CASE_MANAGER
        ).exists()
    ):
        raise PermissionDenied("Only the case manager or their supervisor may name a deputy.")
    organisation = _shared_case_manager_organisation(principal, deputy)
    if acting_user != principal and not policies.has_role_in(acting_user, organisation, Role.SUPERVISOR):
        raise PermissionDenied("Only the case manager or their supervisor may name a deputy.")
    if principal == deputy:
        raise invalid("deputy", "A case manager cannot be their own deputy.", "self")
    if not deputy.is_active:
        raise invalid("deputy", "This user is deactivated.", "inactive")
    now = timezone.now()
    end = _deputy_end(ends_at, now)
    # An ended deputyship stays as a row until removed; naming the deputy again renews it.
    existing = Deputyship.objects.select_for_update().filter(principal=principal, deputy=deputy).first()
    if existing is not None and existing.ends_at is not None and existing.ends_at > now:
        raise invalid("deputy", "This deputy is already named.", "exists")
    if existing is not None:
        existing.delete()
    deputyship = Deputyship.objects.create(
        principal=principal, deputy=deputy, organisation=organisation, created_by=acting_user, ends_at=end
    )
    deputy.groups.add(caseload_group(principal))
    AccessGrant.objects.create(
        kind=AccessGrant.Kind.DEPUTY,
        organisation=organisation,
        principal=principal,
        grantee=deputy,
        granted_by=acting_user,
        granted_at=now,
        ends_at=end,
    )
    account_event(
        event="deputy_named",
        user=deputy,
        actor=acting_user,
        action=AuditEntry.Action.CREATE,
        organisation_id=organisation.pk,
        details={
            "deputyship": str(deputyship.pk),
            "principal": str(principal.pk),
            "deputy": str(deputy.pk),
            "ends_at": end.isoformat(),
        },
    )
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


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def deputy_remove(*, deputyship: Deputyship, acting_user: User) -> None:
    """End a deputyship: the deputy leaves the principal's caseload at once."""
    allowed = acting_user in (deputyship.principal, deputyship.deputy) or policies.has_role_in(
        acting_user, deputyship.organisation, Role.SUPERVISOR
    )
    if not allowed:
        raise PermissionDenied("Only the case manager, the deputy or their supervisor may end this.")
    deputyship.deputy.groups.remove(caseload_group(deputyship.principal))
    now = timezone.now()
    AccessGrant.objects.filter(
        kind=AccessGrant.Kind.DEPUTY,
        principal=deputyship.principal,
        grantee=deputyship.deputy,
        revoked_at__isnull=True,
    ).update(revoked_at=now, revoked_by=acting_user)
    account_event(
        event="deputy_removed",
        user=deputyship.deputy,
        actor=acting_user,
        action=AuditEntry.Action.DELETE,
        organisation_id=deputyship.organisation_id,
        details={
            "deputyship": str(deputyship.pk),
            "principal": str(deputyship.principal_id),
            "deputy": str(deputyship.deputy_id),
        },
    )
    deputyship.delete()


def clean_emergency_reason(reason: str) -> str:
    """The reason as stored: Unicode-normalised, without invisible characters, and made of real words.

    The reason is what a reviewer judges the opening by, so padding cannot stand in for it:
    NFKC folds look-alike and full-width forms, format characters (zero-width spaces and
    joiners, soft hyphens, direction marks) and control characters are removed, and the
    rest must hold a few distinct words of letters, enough distinct letters, and no
    character that dominates the text ("aaaa...", ".......", "ab ab ab ...").
    """
    text = unicodedata.normalize("NFKC", reason)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cf", "Co", "Cn", "Cs"):
            continue
        kept.append(" " if category == "Cc" or char.isspace() else char)
    text = " ".join("".join(kept).split())
    if len(text) < EMERGENCY_REASON_MIN_LENGTH:
        raise invalid(
            "reason",
            f"Give the reason in at least {EMERGENCY_REASON_MIN_LENGTH} visible characters.",
            "too_short",
        )
    words = {word.casefold() for word in _WORD.findall(text)}
    letters = {char for char in text.casefold() if char.isalpha()}
    visible = [char for char in text.casefold() if not char.isspace()]
    _, most = Counter(visible).most_common(1)[0]
    if (
        len(words) < EMERGENCY_REASON_MIN_WORDS
        or len(letters) < EMERGENCY_REASON_MIN_DISTINCT_LETTERS
        or most > EMERGENCY_REASON_MAX_CHAR_SHARE * len(visible)
    ):
        raise invalid(
            "reason",
            f"Describe the emergency in words: at least {EMERGENCY_REASON_MIN_WORDS} different words "
            f"and {EMERGENCY_REASON_MIN_DISTINCT_LETTERS} different letters, not repeated characters.",
            "not_words",
        )
    return text


def _require_openable(family: Family, acting_user: User) -> None:
    # Only case managers of the family's organisation break the glass; to others it is not found.
    policies.require_role_in(acting_user, family.organisation, Role.CASE_MANAGER, obj=family)
    if family.status == Family.Status.CLOSED:
        raise invalid("family", "A closed family cannot be opened in an emergency.", "closed")
    if Family.objects.filter(policies.family_access(acting_user), pk=family.pk).exists():
        raise invalid("family", "You already have access to this family.", "has_access")


def emergency_reopen_needs_approval(*, family: Family, user: User) -> bool:
    """Whether ``user`` had an emergency access to ``family`` that ended within the reopen window.

    An access ends when it is ended early or when it expires; either way, opening it again
    soon after is a repeat, and repeats are approved by a supervisor.
    """
    cutoff = timezone.now() - datetime.timedelta(hours=settings.EMERGENCY_REOPEN_WINDOW_HOURS)
    return EmergencyAccess.objects.filter(
        Q(ended_at__gt=cutoff) | Q(ended_at__isnull=True, expires_at__gt=cutoff), family=family, user=user
    ).exists()


def _open(*, family: Family, user: User, reason: str) -> EmergencyAccess:
    now = timezone.now()
    access = EmergencyAccess(
        family=family,
        user=user,
        reason=reason,
        opened_at=now,
        expires_at=now + datetime.timedelta(hours=settings.EMERGENCY_ACCESS_HOURS),
    )
    access.full_clean()
    access.save()
    # The audit tags this user's entries while the flag runs (see privacy.audit.fill_entry);
    # a queryset update, because the opening itself is the audited event.
    User.objects.filter(pk=user.pk).filter(
        Q(emergency_access_until__isnull=True) | Q(emergency_access_until__lt=access.expires_at)
    ).update(emergency_access_until=access.expires_at)
    user.emergency_access_until = max(user.emergency_access_until or access.expires_at, access.expires_at)
    return access


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def emergency_access_open(*, family: Family, acting_user: User, reason: str) -> EmergencyAccess:
    """Break the glass: open a family of one's own organisation for a limited time, with a reason.

    Opening it again soon after an earlier access of the same user ended is refused with
    ``approval_required``: that goes through ``emergency_access_request`` instead.
    """
    _require_openable(family, acting_user)
    reason = clean_emergency_reason(reason)
    if emergency_reopen_needs_approval(family=family, user=acting_user):
        raise Conflict(
            "You opened this family in an emergency a short while ago; a supervisor must approve "
            "opening it again (POST /api/v1/emergency-access-requests/).",
            code="approval_required",
        )
    return _open(family=family, user=acting_user, reason=reason)


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def emergency_access_request(*, family: Family, acting_user: User, reason: str) -> EmergencyAccessRequest:
    """Ask a supervisor to approve reopening a family in an emergency (a repeat within the window)."""
    _require_openable(family, acting_user)
    reason = clean_emergency_reason(reason)
    if not emergency_reopen_needs_approval(family=family, user=acting_user):
        raise Conflict(
            "No approval is needed: open the emergency access directly.", code="approval_not_needed"
        )
    if EmergencyAccessRequest.objects.filter(
        family=family, user=acting_user, status=EmergencyAccessRequest.Status.PENDING
    ).exists():
        raise Conflict("A request for this family is already waiting for approval.", code="pending")
    request = EmergencyAccessRequest(
        family=family, user=acting_user, reason=reason, requested_at=timezone.now()
    )
    request.full_clean()
    request.save()
    return request


def _pending_for_decision(request: EmergencyAccessRequest, acting_user: User) -> EmergencyAccessRequest:
    # A request of another organisation is not found; the requester may not decide their own.
    policies.require_role_in(acting_user, request.family.organisation, Role.SUPERVISOR, obj=request)
    if request.user_id == acting_user.pk:
        raise PermissionDenied("Nobody approves their own emergency access.")
    locked = EmergencyAccessRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
    if locked.status != EmergencyAccessRequest.Status.PENDING:
        raise Conflict("This request was already decided.", code="decided", status=locked.status)
    return locked


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def emergency_access_request_approve(
    *, request: EmergencyAccessRequest, acting_user: User
) -> EmergencyAccessRequest:
    """A supervisor approves a repeated emergency opening: the access opens now, for the usual time."""
    request = _pending_for_decision(request, acting_user)
    family = request.family
    if family.status == Family.Status.CLOSED:
        raise Conflict("The family's case is closed.", code="closed")
    requester = request.user
    if not requester.is_active or not policies.has_role_in(requester, family.organisation, Role.CASE_MANAGER):
        raise Conflict(
            "The requester is no longer a case manager of the organisation.", code="not_case_manager"
        )
    if Family.objects.filter(policies.family_access(requester), pk=family.pk).exists():
        raise Conflict("The requester already has access to this family.", code="has_access")
    access = _open(family=family, user=requester, reason=request.reason)
    request.status = EmergencyAccessRequest.Status.APPROVED
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.access = access
    request.full_clean()
    request.save(update_fields=["status", "decided_by", "decided_at", "access"])
    return request


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def emergency_access_request_decline(
    *, request: EmergencyAccessRequest, acting_user: User
) -> EmergencyAccessRequest:
    """A supervisor declines a repeated emergency opening: nothing opens."""
    request = _pending_for_decision(request, acting_user)
    request.status = EmergencyAccessRequest.Status.DECLINED
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.full_clean()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    return request


@audited_write(Activity.ACCOUNT_MANAGEMENT)
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


@audited_write(Activity.ACCOUNT_MANAGEMENT)
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
    """Revoke every API token of ``user`` (deactivation, lost device, password change)."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return int(deleted)
