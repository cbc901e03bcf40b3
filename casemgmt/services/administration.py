"""Back-office writes: organisations, user accounts and memberships (administrators).

Administrators manage accounts for their organisation and its member towns; they never
gain case access by it (a grant on a family comes only from an assignment).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from casemgmt import policies
from casemgmt.models import Membership, Organisation, Role, SetPasswordToken, User
from casemgmt.services.access import tokens_revoke
from casemgmt.services.accounts import account_event, set_password_token_issue
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.models import AuditEntry
from privacy.registry import Activity

USER_EDITABLE_FIELDS = frozenset({"first_name", "last_name", "email", "is_active"})


def _require_manages(acting_user: User, organisation: Organisation) -> None:
    if not policies.managed_organisations(acting_user).filter(pk=organisation.pk).exists():
        raise PermissionDenied("You do not administer this organisation.")


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def organisation_create(*, name: str, kind: str, parent: Organisation, acting_user: User) -> Organisation:
    """Add a member town (or provider) below an organisation the caller administers."""
    if not policies.has_role_in(acting_user, parent, Role.ADMIN):
        raise PermissionDenied("Only an administrator of the parent organisation may add to it.")
    organisation = Organisation(name=name, kind=kind, parent=parent)
    organisation.full_clean()
    organisation.save()
    return organisation


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def organisation_update(*, organisation: Organisation, acting_user: User, **changes: Any) -> Organisation:
    """Rename an organisation or change its reference prefix."""
    _require_manages(acting_user, organisation)
    for name, value in changes.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save(update_fields=list(changes))
    return organisation


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def user_create(
    *,
    username: str,
    organisation: Organisation,
    role: str,
    acting_user: User,
    **fields: Any,
) -> tuple[User, SetPasswordToken, str]:
    """Create an account with its first membership and a one-time set-password token.

    The administrator never chooses the password (they could then log in as the user): the
    account has no usable password until the user sets one with the token.
    """
    _require_manages(acting_user, organisation)
    user = User(username=username, **fields)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    account_event(
        event="user_created",
        user=user,
        actor=acting_user,
        action=AuditEntry.Action.CREATE,
        organisation_id=organisation.pk,
        details={"organisation": str(organisation.pk), "role": role},
    )
    record, token = set_password_token_issue(user=user, acting_user=acting_user)
    return user, record, token


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def user_update(*, user: User, acting_user: User, **changes: Any) -> User:
    """Change names, e-mail or active state; deactivating revokes every token at once."""
    if not users_managed_by(acting_user).filter(pk=user.pk).exists():
        raise policies.not_found(user)  # not one the caller administers: "no such user"
    if user == acting_user and changes.get("is_active") is False:
        raise invalid("is_active", "You cannot deactivate your own account.", "self")
    unknown = set(changes) - USER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    was_active = user.is_active
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean()
    user.save(update_fields=list(changes))
    if not user.is_active:
        tokens_revoke(user=user)
    if was_active != user.is_active:
        account_event(
            event="user_deactivated" if was_active else "user_reactivated", user=user, actor=acting_user
        )
    return user


def users_managed_by(acting_user: User) -> Any:
    """Accounts the caller administers: all their memberships lie in the caller's tree."""
    return policies.managed_users(acting_user)


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def membership_create(*, user: User, organisation: Organisation, role: str, acting_user: User) -> Membership:
    """Give a user a role in an organisation the caller administers (a user of another tree: 404)."""
    _require_manages(acting_user, organisation)
    if not users_managed_by(acting_user).filter(pk=user.pk).exists():
        raise policies.not_found(user)  # not one the caller administers: "no such user"
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    account_event(
        event="role_granted",
        user=user,
        actor=acting_user,
        action=AuditEntry.Action.CREATE,
        organisation_id=organisation.pk,
        details={"membership": str(membership.pk), "organisation": str(organisation.pk), "role": role},
    )
    return membership


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def membership_delete(*, membership: Membership, acting_user: User) -> None:
    """Remove a role; grants on families stop working with it (policies require the membership)."""
    _require_manages(acting_user, membership.organisation)
    if membership.user_id == acting_user.pk and membership.role == Role.ADMIN:
        raise invalid("non_field_errors", "You cannot remove your own administrator role.", "self")
    if not users_managed_by(acting_user).filter(pk=membership.user_id).exists():
        raise policies.not_found(membership)
    details = {
        "membership": str(membership.pk),
        "organisation": str(membership.organisation_id),
        "role": membership.role,
    }
    user, organisation_id = membership.user, membership.organisation_id
    membership.delete()
    account_event(
        event="role_revoked",
        user=user,
        actor=acting_user,
        action=AuditEntry.Action.DELETE,
        organisation_id=organisation_id,
        details=details,
    )
