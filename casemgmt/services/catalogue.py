"""Writes of the catalogue: fields of action, providers, courses (supervisors and admins)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model

from casemgmt import policies
from casemgmt.models import Course, FieldOfAction, Organisation, Provider, Role, User
from casemgmt.services.common import apply_changes, invalid
from privacy.audit import audited_write
from privacy.registry import Activity


def _require_catalogue_editor(
    acting_user: User, organisation: Organisation, obj: Model | None = None
) -> None:
    # Another district's catalogue is "not found"; one's own, without the role, is forbidden.
    if not policies.catalogue_visible_organisation_ids(acting_user).filter(id=organisation.pk).exists():
        raise policies.not_found(obj if obj is not None else organisation)
    if not policies.has_role_in(acting_user, organisation, Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied("Only administrators and supervisors of the organisation edit its catalogue.")


@audited_write(Activity.COURSE_REFERRALS)
def field_of_action_create(
    *, organisation: Organisation, code: str, name: str, acting_user: User, name_de: str = ""
) -> FieldOfAction:
    """Add an organisation's own field of action next to the defaults."""
    _require_catalogue_editor(acting_user, organisation)
    if FieldOfAction.objects.filter(organisation__isnull=True, code=code).exists():
        raise invalid("code", "This is already a default field of action.", "unique")
    field = FieldOfAction(organisation=organisation, code=code, name=name, name_de=name_de)
    field.full_clean()
    field.save()
    return field


@audited_write(Activity.COURSE_REFERRALS)
def field_of_action_update(*, field: FieldOfAction, acting_user: User, **changes: Any) -> FieldOfAction:
    """Rename or retire an organisation's own field of action (defaults are fixed)."""
    if field.organisation is None:
        raise PermissionDenied("Default fields of action cannot be changed.")
    _require_catalogue_editor(acting_user, field.organisation, field)
    names = apply_changes(field, changes, frozenset({"name", "name_de", "is_active"}))
    field.full_clean()
    field.save(update_fields=names)
    return field


@audited_write(Activity.COURSE_REFERRALS)
def provider_create(*, organisation: Organisation, acting_user: User, **fields: Any) -> Provider:
    _require_catalogue_editor(acting_user, organisation)
    provider = Provider(organisation=organisation, **fields)
    provider.full_clean()
    provider.save()
    return provider


@audited_write(Activity.COURSE_REFERRALS)
def provider_update(*, provider: Provider, acting_user: User, **changes: Any) -> Provider:
    _require_catalogue_editor(acting_user, provider.organisation, provider)
    names = apply_changes(provider, changes, frozenset({"name", "address", "phone"}))
    provider.full_clean()
    provider.save(update_fields=names)
    return provider


def _check_course(course: Course) -> None:
    if course.cefr_level and course.course_type not in Course.LANGUAGE_TYPES:
        raise invalid(
            "cefr_level", "Only language and integration courses have a CEFR level.", "not_language_course"
        )
    if course.ends_on and course.starts_on and course.ends_on < course.starts_on:
        raise invalid("ends_on", "A course cannot end before it starts.", "dates_order")


@audited_write(Activity.COURSE_REFERRALS)
def course_create(*, provider: Provider, acting_user: User, **fields: Any) -> Course:
    """Add a course; it belongs to the provider's organisation."""
    _require_catalogue_editor(acting_user, provider.organisation, provider)
    course = Course(provider=provider, organisation=provider.organisation, **fields)
    _check_course(course)
    course.full_clean()
    course.save()
    return course


@audited_write(Activity.COURSE_REFERRALS)
def course_update(*, course: Course, acting_user: User, **changes: Any) -> Course:
    """Change a course; its capacity cannot drop below the seats already taken."""
    _require_catalogue_editor(acting_user, course.organisation, course)
    course = Course.objects.select_for_update(no_key=True).get(pk=course.pk)
    names = apply_changes(
        course,
        changes,
        frozenset({"title", "course_type", "cefr_level", "starts_on", "ends_on", "place", "capacity"}),
    )
    if "capacity" in changes:
        taken = course.referrals.filter(status__in=("enrolled", "completed")).count()
        if course.capacity < taken:
            raise invalid(
                "capacity", f"{taken} seats are already taken; the capacity cannot be lower.", "below_taken"
            )
    _check_course(course)
    course.full_clean()
    course.save(update_fields=names)
    return course
