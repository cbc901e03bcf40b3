"""Account events: passwords, set-password tokens, and their entries in the audit trail.

No administrator ever sets another user's password (they would then know it and could act
as that user): they either require a new password at the next login or issue a one-time
set-password token, and the user chooses the password. Every password change revokes all
of the user's API tokens. Each event is an explicit audit entry with actor and activity,
in the transaction of the change, so it reads the same from the API, the admin and a shell.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from casemgmt import policies
from casemgmt.models import Membership, SetPasswordToken, User
from casemgmt.services.common import invalid
from privacy.audit import audited, audited_write
from privacy.registry import Activity

#: The processing activity of every account event (privacy/registry.py).
ACCOUNT_ACTIVITY = "account_management"


def primary_organisation_id(user: User) -> Any:
    """The organisation an account event is filed under: the user's first membership."""
    return (
        Membership.objects.filter(user=user).order_by("created_at").values_list("organisation_id", flat=True)
    ).first()


def account_event(
    *,
    event: str,
    user: User | None,
    actor: User | None,
    action: int | None = None,
    organisation_id: Any = None,
    details: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> Any:
    """Write one account event into the audit trail (same table and chain as case data).

    ``details`` must hold ids and codes only: never usernames, names or passwords.
    """
    from privacy.models import AuditEntry

    if organisation_id is None and user is not None:
        organisation_id = primary_organisation_id(user)
    with transaction.atomic(savepoint=False):
        return AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(User),
            object_pk=str(user.pk) if user is not None else "",
            object_repr=f"account event: {event}",
            object_ids=[str(user.pk)] if user is not None else [],
            action=AuditEntry.Action.UPDATE if action is None else action,
            actor=actor if actor is not None and actor.is_authenticated else None,
            remote_addr=remote_addr,
            activity=ACCOUNT_ACTIVITY,
            organisation_id=organisation_id,
            additional_data={"event": event, **(details or {})},
        )


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every API token of ``user``."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return int(deleted)


def record_password_change(*, user: User, actor: User | None, how: str) -> None:
    """After any password change: revoke all of the user's tokens and audit it (who, how)."""
    revoked = tokens_revoke_all(user=user)
    account_event(
        event="password_changed", user=user, actor=actor, details={"how": how, "tokens_revoked": revoked}
    )


def _validate_new_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc


def _set_password(user: User, password: str, *, actor: User | None, how: str) -> None:
    # The post_save receiver (casemgmt/signals.py) revokes tokens and writes the audit entry
    # for every password change, also from the admin or a shell; it reads actor and how here.
    user.set_password(password)
    user.must_change_password = False
    user._password_actor = actor  # type: ignore[attr-defined]
    user._password_how = how  # type: ignore[attr-defined]
    user.save(update_fields=["password", "must_change_password"])


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """The user changes their own password (also when an administrator required it)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active or not user.check_password(current_password):
        raise invalid("current_password", "The current password is wrong.", "wrong_password")
    if current_password == new_password:
        raise invalid("new_password", "Choose a password different from the current one.", "unchanged")
    _validate_new_password(new_password, user)
    # Authorised by the current password, not by a role: the user is the actor.
    with audited(actor=user, activity=Activity.ACCOUNT_MANAGEMENT):
        _set_password(user, new_password, actor=user, how="changed_by_user")
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def password_set_with_token(*, token: str, new_password: str) -> User:
    """The user sets their own password with a one-time token an administrator issued."""
    record = (
        SetPasswordToken.objects.select_for_update()
        .select_related("user")
        .filter(digest=_token_digest(token))
        .first()
    )
    if (
        record is None
        or record.used_at is not None
        or record.expires_at <= timezone.now()
        or not record.user.is_active
    ):
        raise invalid("token", "This token is invalid, used or expired.", "invalid_token")
    user = record.user
    _validate_new_password(new_password, user)
    # Authorised by the one-time token: the user it was issued to is the actor.
    with audited(actor=user, activity=Activity.ACCOUNT_MANAGEMENT):
        record.used_at = timezone.now()
        record.save(update_fields=["used_at"])
        _set_password(user, new_password, actor=user, how="set_with_token")
    return user


def _require_managed(acting_user: User, user: User) -> None:
    if acting_user.is_superuser and acting_user.is_active:
        return
    if not policies.managed_users(acting_user).filter(pk=user.pk).exists():
        raise policies.not_found(user)


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def set_password_token_issue(*, user: User, acting_user: User) -> tuple[SetPasswordToken, str]:
    """Issue a one-time set-password token for ``user``; earlier unused tokens stop working.

    The token is returned once (to hand to the user); only its digest is stored.
    """
    _require_managed(acting_user, user)
    if user == acting_user:
        raise invalid("non_field_errors", "Change your own password with your current one.", "self")
    if not user.is_active:
        raise invalid("non_field_errors", "This user is deactivated.", "inactive")
    now = timezone.now()
    SetPasswordToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    token = secrets.token_urlsafe(32)
    record = SetPasswordToken.objects.create(
        user=user,
        organisation_id=primary_organisation_id(user),
        digest=_token_digest(token),
        created_by=acting_user,
        expires_at=now + datetime.timedelta(hours=settings.SET_PASSWORD_TOKEN_HOURS),
    )
    account_event(
        event="set_password_token_issued",
        user=user,
        actor=acting_user,
        details={"token_id": str(record.pk), "expires_at": record.expires_at.isoformat()},
    )
    return record, token


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def password_change_require(*, user: User, acting_user: User) -> User:
    """Require ``user`` to choose a new password at their next login; their tokens stop now."""
    _require_managed(acting_user, user)
    if user == acting_user:
        raise invalid("non_field_errors", "Change your own password with your current one.", "self")
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    revoked = tokens_revoke_all(user=user)
    account_event(
        event="password_change_required", user=user, actor=acting_user, details={"tokens_revoked": revoked}
    )
    return user


def refuse_admin_password_change(*, user: User, acting_user: User) -> None:
    """The rule behind the admin's password form: only the user sets their own password."""
    if user.pk != acting_user.pk:
        raise PermissionDenied("Nobody sets another user's password; issue a set-password token instead.")
