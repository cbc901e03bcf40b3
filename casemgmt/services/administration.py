"""Back-office writes: organisations, user accounts and memberships (administrators).

Administrators manage accounts for their organisation and its member towns; they never
gain case access by it (a grant on a family comes only from an assignment).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
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


def _is_superuser(acting_user: User) -> bool:
    # The platform operator (Django superuser, admin only) administers every tree.
    return bool(acting_user.is_active and acting_user.is_superuser)


def _require_manages(acting_user: User, organisation: Organisation) -> None:
    if _is_superuser(acting_user):
        return
    if not policies.managed_organisations(acting_user).filter(pk=organisation.pk).exists():
        raise PermissionDenied("You do not administer this organisation.")


def _require_manages_user(acting_user: User, user: User, obj: Any) -> None:
    """The caller administers ``user`` (every membership in their tree), else "no such object".

    An account nobody administers yet may receive its first role only from the administrator
    who created it (``account_create``: the Django admin's add form saves the user before its
    memberships) and only while unused (no membership, never logged in, no usable password).
    Anyone else could otherwise claim a colleague district's freshly created account, set its
    password with a token of their own and inherit the roles its district gives it later.
    """
    if _is_superuser(acting_user) or users_managed_by(acting_user).filter(pk=user.pk).exists():
        return
    unused = (
        not user.is_superuser
        and user.last_login is None
        and not user.has_usable_password()
        and not Membership.objects.filter(user=user).exists()
    )
    if not (unused and _created_by(acting_user, user)):
        raise policies.not_found(obj)


def _created_by(acting_user: User, user: User) -> bool:
    """The audit trail holds this account's ``user_created`` event with ``acting_user`` as actor."""
    return bool(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User),
            object_pk=str(user.pk),
            actor=acting_user,
            additional_data__event="user_created",
        ).exists()
    )


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def account_create(*, acting_user: User, user: User, organisation: Organisation) -> User:
    """Save a new account without a role yet (the Django admin's add form; roles follow as memberships).

    Recorded as ``user_created`` under ``organisation`` (one the caller administers) with the
    administrator as actor: only they may give it its first role (see ``_require_manages_user``).
    No usable password: the user sets one with a token.
    """
    _require_manages(acting_user, organisation)
    if not user._state.adding:
        raise invalid("non_field_errors", "This account exists already.", "exists")
    user.is_superuser = user.is_superuser and _is_superuser(acting_user)
    return _save_new_account(user, acting_user=acting_user, organisation=organisation)


def _save_new_account(user: User, *, acting_user: User, organisation: Organisation, role: str = "") -> User:
    """Save an account without a usable password (with its first role, if given): ``user_created``."""
    user.set_unusable_password()
    user.full_clean()
    user.save()
    details = {"organisation": str(organisation.pk)}
    if role:
        Membership.objects.create(user=user, organisation=organisation, role=role)
        details["role"] = role
    account_event(
        event="user_created",
        user=user,
        actor=acting_user,
        action=AuditEntry.Action.CREATE,
        organisation_id=organisation.pk,
        details=details,
    )
    return user


def _membership_details(membership: Membership) -> dict[str, str]:
    return {
        "membership": str(membership.pk),
        "organisation": str(membership.organisation_id),
        "role": membership.role,
    }


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
    user = _save_new_account(
        User(username=username, **fields), acting_user=acting_user, organisation=organisation, role=role
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
    _require_manages_user(acting_user, user, user)  # not one the caller administers: "no such user"
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
    _require_manages_user(acting_user, membership.user, membership)
    details = _membership_details(membership)
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


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def membership_update(
    *,
    membership: Membership,
    acting_user: User,
    role: str | None = None,
    organisation: Organisation | None = None,
) -> Membership:
    """Change a role, or move it to another organisation (the Django admin's membership forms).

    Recorded with the API's event names, the old role revoked and the new one granted, so
    the DPO finds every role change under ``role_revoked`` / ``role_granted`` whichever way
    it was made. Both the old and the new organisation must be the caller's.
    """
    previous = Membership.objects.select_related("organisation").get(pk=membership.pk)
    target = organisation if organisation is not None else previous.organisation
    new_role = role if role is not None else previous.role
    _require_manages(acting_user, previous.organisation)
    _require_manages(acting_user, target)
    _require_manages_user(acting_user, previous.user, membership)
    if previous.organisation_id == target.pk and previous.role == new_role:
        return previous
    if previous.user_id == acting_user.pk and previous.role == Role.ADMIN:
        raise invalid("non_field_errors", "You cannot change your own administrator role.", "self")
    revoked = _membership_details(previous)
    previous.organisation, previous.role = target, new_role
    previous.full_clean()
    previous.save(update_fields=["organisation", "role"])
    account_event(
        event="role_revoked",
        user=previous.user,
        actor=acting_user,
        action=AuditEntry.Action.UPDATE,
        organisation_id=revoked["organisation"],
        details=revoked,
    )
    account_event(
        event="role_granted",
        user=previous.user,
        actor=acting_user,
        action=AuditEntry.Action.UPDATE,
        organisation_id=target.pk,
        details=_membership_details(previous),
    )
    return previous
