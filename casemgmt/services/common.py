"""Checks shared by the case-work services.

Row locks in services are ``select_for_update(no_key=True)`` (FOR NO KEY UPDATE): they do
not block the foreign-key checks PostgreSQL runs at commit, which, with the audit chain's
head row locked late in every write, produced deadlocks under load (found by make load).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.models import Family, Person


def require_open_family(family: Family) -> None:
    """Case work is recorded only on open cases; a closed family is reopened explicitly first."""
    if family.status == Family.Status.CLOSED:
        raise invalid("family", _("This family's case is closed; reopen it first."), "closed")


def require_member(person: Person | None, family: Family, field: str = "person") -> None:
    """A person named in a family's record must belong to that family."""
    if person is not None and person.family_id != family.pk:
        raise invalid(field, _("This person is not a member of the family."), "not_member")


def require_not_future(value: datetime.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise invalid(field, _("This date cannot be in the future."), "future_date")


def apply_changes(instance: models.Model, changes: dict[str, Any], editable: frozenset[str]) -> list[str]:
    """Set the allowed fields from ``changes`` and return the names to save."""
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(instance, name, value)
    return list(changes)


def invalid(field: str, message: str, code: str) -> ValidationError:
    """A field error that keeps its machine-readable code (a dict of strings would lose it)."""
    return ValidationError({field: ValidationError(message, code=code)})


def require_not_restricted(person: Person | None) -> None:
    """A restricted person's data is neither changed nor shared until the restriction is lifted."""
    from casemgmt.errors import Conflict
    from privacy.models import Restriction

    if person is not None and Restriction.objects.filter(person=person, lifted_at__isnull=True).exists():
        raise Conflict(_("Processing of this person is restricted (Art. 18 GDPR)."), code="restricted")


def clean_new(instance: models.Model) -> None:
    """``full_clean()`` for a row about to be inserted, without asking the database what it knows.

    Field validation (lengths, choices, ``clean()``) runs as always. Left out, because the
    transaction already holds the answer and the database's constraints stay the real guard:
    the ``SELECT 1`` per foreign key (the related objects were just loaded and authorised),
    the uniqueness probe of a fresh UUID primary key, and the ``CheckConstraint`` queries
    (each a SAVEPOINT, a SELECT and a RELEASE; the service checks the same rule in Python).
    Models with other unique rules still have them validated.
    """
    opts = instance._meta
    foreign_keys = [f.name for f in opts.concrete_fields if f.is_relation]
    unique_rules = (
        bool(opts.total_unique_constraints)
        or any(f.unique and not f.primary_key for f in opts.concrete_fields)
        or bool(opts.unique_together)
    )
    instance.full_clean(exclude=foreign_keys, validate_unique=unique_rules, validate_constraints=False)
