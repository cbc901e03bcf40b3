"""Deactivation revokes tokens also when it happens outside the API (Django admin, shell).

A receiver rather than a service call because the Django admin saves users itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from casemgmt.models import User


@receiver(post_save, sender=User, dispatch_uid="casemgmt_revoke_tokens_on_deactivation")
def revoke_tokens_on_deactivation(sender: type[User], instance: User, **kwargs: Any) -> None:
    if not instance.is_active:
        from casemgmt.services.access import tokens_revoke

        tokens_revoke(user=instance)
