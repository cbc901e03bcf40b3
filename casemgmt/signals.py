"""Invariants that must hold however a row is saved (API, Django admin, shell, erasure).

Receivers rather than service calls because the Django admin and ``manage.py changepassword``
save users themselves: deactivation and any password change revoke every token, and
logins (successful or failed) and password changes are written to the audit trail. A
family's ``last_contact_on`` follows its contacts' saves and deletes the same way.
"""

from __future__ import annotations

from typing import Any

from auditlog.context import auditlog_value
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from casemgmt.models import Contact, Family, User
from privacy.audit import client_address


@receiver(post_save, sender=User, dispatch_uid="casemgmt_revoke_tokens_on_deactivation")
def revoke_tokens_on_deactivation(sender: type[User], instance: User, **kwargs: Any) -> None:
    if not instance.is_active:
        from casemgmt.services.access import tokens_revoke

        tokens_revoke(user=instance)


def _context_actor() -> User | None:
    try:
        actor = auditlog_value.get().get("actor")
    except LookupError:
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


@receiver(post_save, sender=User, dispatch_uid="casemgmt_password_changed")
def password_changed(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """A new password (Django keeps the raw one in ``_password`` until save) revokes every token."""
    if created or getattr(instance, "_password", None) is None:
        return
    from casemgmt.services.accounts import record_password_change

    if instance.must_change_password:
        # Whichever way the user chose their new password, the requirement is met.
        User.objects.filter(pk=instance.pk).update(must_change_password=False)
        instance.must_change_password = False
    actor = getattr(instance, "_password_actor", None) or _context_actor()
    how = getattr(instance, "_password_how", None) or "set_outside_the_api"
    record_password_change(user=instance, actor=actor, how=how)
    instance._password_actor = instance._password_how = None  # type: ignore[attr-defined]


def _address(request: Any) -> str | None:
    if request is None:
        return None
    return client_address(getattr(request, "_request", request))


@receiver(user_logged_in, dispatch_uid="casemgmt_audit_login")
def audit_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    from casemgmt.services.accounts import account_event

    account_event(event="login_succeeded", user=user, actor=user, remote_addr=_address(request))


@receiver(user_login_failed, dispatch_uid="casemgmt_audit_login_failed")
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """A failed login names the account if it exists, never the attempted username itself.

    For a name that matches no account nothing of the typed text is kept, not even a hash
    (people type passwords into the username field, and a hash of a short secret can be
    tested by guessing); the entry has no organisation and every DPO sees it
    (``privacy.observed.unattributed_login_failures``).
    """
    from casemgmt.services.accounts import account_event

    username = credentials.get("username")
    user = User.objects.filter(username=username).first() if isinstance(username, str) else None
    raw_request = getattr(request, "_request", request)
    locked = bool(getattr(raw_request, "axes_locked_out", False))
    path = str(getattr(raw_request, "path", ""))
    via = "admin" if path.startswith("/admin/") else "api" if path.startswith("/api/") else "other"
    account_event(
        event="login_failed",
        user=user,
        actor=None,
        remote_addr=_address(request),
        details={"known_account": user is not None, "locked_out": locked, "via": via},
    )


def refresh_last_contact(family_ids: list[Any]) -> None:
    """Set each family's ``last_contact_on`` to the date of its newest contact (one UPDATE).

    A derived column, like a blind index: the contact write that changes it is the audited
    write, in the same transaction; the column carries nothing the contacts do not.
    """
    newest = Contact.objects.filter(family=OuterRef("pk")).order_by("-occurred_on").values("occurred_on")[:1]
    Family.objects.filter(pk__in=family_ids).update(last_contact_on=Subquery(newest))


@receiver(post_save, sender=Contact, dispatch_uid="casemgmt_contact_saved_last_contact")
def contact_saved(
    sender: type[Contact], instance: Contact, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if created or update_fields is None or "occurred_on" in update_fields:
        refresh_last_contact([instance.family_id])


@receiver(post_delete, sender=Contact, dispatch_uid="casemgmt_contact_deleted_last_contact")
def contact_deleted(sender: type[Contact], instance: Contact, **kwargs: Any) -> None:
    refresh_last_contact([instance.family_id])
