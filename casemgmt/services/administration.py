"""Back-office writes: organisations, user accounts and memberships (administrators).

Administrators manage accounts for their organisation and its member towns; they never
gain case access by it (a grant on a family comes only from an assignment).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from casemgmt import policies
from casemgmt.models import Membership, Organisation, Role, User
from casemgmt.services.access import tokens_revoke
from casemgmt.services.common import invalid

USER_EDITABLE_FIELDS = frozenset({"first_name", "last_name", "email", "is_active"})


def _require_manages(acting_user: User, organisation: Organisation) -> None:
    if not policies.managed_organisations(acting_user).filter(pk=organisation.pk).exists():
        raise PermissionDenied("You do not administer this organisation.")


@transaction.atomic
def organisation_create(*, name: str, kind: str, parent: Organisation, acting_user: User) -> Organisation:
    """Add a member town (or provider) below an organisation the caller administers."""
    if not policies.has_role_in(acting_user, parent, Role.ADMIN):
        raise PermissionDenied("Only an administrator of the parent organisation may add to it.")
    organisation = Organisation(name=name, kind=kind, parent=parent)
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, acting_user: User, **changes: Any) -> Organisation:
    """Rename an organisation or change its reference prefix."""
    _require_manages(acting_user, organisation)
    for name, value in changes.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save(update_fields=list(changes))
    return organisation


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    organisation: Organisation,
    role: str,
    acting_user: User,
    **fields: Any,
) -> User:
    """Create an account with its first membership; the password must pass the validators."""
    _require_manages(acting_user, organisation)
    user = User(username=username, **fields)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.full_clean()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@transaction.atomic
def user_update(*, user: User, acting_user: User, **changes: Any) -> User:
    """Change names, e-mail or active state; deactivating revokes every token at once."""
    if not users_managed_by(acting_user).filter(pk=user.pk).exists():
        raise PermissionDenied("You do not administer this user.")
    if user == acting_user and changes.get("is_active") is False:
        raise invalid("is_active", "You cannot deactivate your own account.", "self")
    unknown = set(changes) - USER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean()
    user.save(update_fields=list(changes))
    if not user.is_active:
        tokens_revoke(user=user)
    return user


def users_managed_by(acting_user: User) -> Any:
    """Accounts with a membership in an organisation the caller administers."""
    orgs = policies.managed_organisations(acting_user).values("id")
    return User.objects.filter(memberships__organisation_id__in=orgs).distinct()


@transaction.atomic
def membership_create(*, user: User, organisation: Organisation, role: str, acting_user: User) -> Membership:
    """Give a user a role in an organisation the caller administers."""
    _require_manages(acting_user, organisation)
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, acting_user: User) -> None:
    """Remove a role; grants on families stop working with it (policies require the membership)."""
    _require_manages(acting_user, membership.organisation)
    if membership.user_id == acting_user.pk and membership.role == Role.ADMIN:
        raise invalid("non_field_errors", "You cannot remove your own administrator role.", "self")
    membership.delete()
