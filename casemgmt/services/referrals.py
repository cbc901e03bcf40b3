"""Referrals to courses and providers, with a checked lifecycle and capacity."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Course, Goal, Person, Provider, Referral, ReferralTransition, User
from casemgmt.services.common import invalid, require_not_restricted, require_open_family
from privacy.audit import audited_write, save_update
from privacy.registry import Activity


def _in_catalogue_of(organisation_id: uuid.UUID, catalogue_org_id: uuid.UUID) -> bool:
    return policies.catalogue_organisation_ids([organisation_id]).filter(id=catalogue_org_id).exists()


@audited_write(Activity.COURSE_REFERRALS)
def referral_create(
    *,
    person: Person,
    acting_user: User,
    course: Course | None = None,
    provider: Provider | None = None,
    goal: Goal | None = None,
    note: str = "",
) -> Referral:
    """Refer a family member to a course (or directly to a provider) of their district's catalogue."""
    policies.require_case_access(acting_user, person.family, person)
    family = person.family
    require_open_family(family)
    require_not_restricted(person)
    if course is None and provider is None:
        raise invalid("course", "Refer to a course or a provider.", "required")
    if course is not None:
        if provider is not None and provider.pk != course.provider_id:
            raise invalid("provider", "The course belongs to another provider.", "mismatch")
        provider = course.provider
        if not _in_catalogue_of(family.organisation_id, course.organisation_id):
            raise invalid(
                "course", "This course is not in the catalogue of the family's district.", "other_district"
            )
    if provider is None:  # unreachable: a course always has a provider
        raise invalid("provider", "Refer to a course or a provider.", "required")
    if not _in_catalogue_of(family.organisation_id, provider.organisation_id):
        raise invalid(
            "provider", "This provider is not in the catalogue of the family's district.", "other_district"
        )
    if goal is not None and goal.family_id != family.pk:
        raise invalid("goal", "This goal belongs to another family.", "other_family")
    referral = Referral(
        family=family,
        person=person,
        course=course,
        provider=provider,
        goal=goal,
        note=note,
        created_by=acting_user,
    )
    referral.full_clean()
    referral.save()
    ReferralTransition.objects.create(
        referral=referral, from_status="", to_status=referral.status, at=timezone.now(), actor=acting_user
    )
    return referral


@audited_write(Activity.COURSE_REFERRALS)
def referral_update(*, referral: Referral, acting_user: User, **changes: Any) -> Referral:
    """Edit the note of a referral (its course and person are fixed; status goes through transitions)."""
    policies.require_case_access(acting_user, referral.family, referral)
    unknown = set(changes) - {"note"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    require_open_family(referral.family)
    policies.require_unrestricted_record(referral)
    referral.note = changes.get("note", referral.note)
    referral.full_clean()
    referral.save(update_fields=["note", "updated_at"])
    return referral


@audited_write(Activity.COURSE_REFERRALS)
def referral_transition(*, referral: Referral, to: str, acting_user: User) -> Referral:
    """Move a referral along its lifecycle; enrolment locks the course so capacity holds under races."""
    # Authorised (family rule and Art. 18 restriction) and locked in one statement.
    referral = policies.lock_case_record(acting_user, referral)
    allowed = referral.allowed_transitions()
    if to not in allowed:
        raise Conflict(
            f"A referral in state '{referral.status}' cannot move to '{to}'.",
            code="invalid_transition",
            current=referral.status,
            allowed=list(allowed),
        )
    if to == Referral.Status.ENROLLED and referral.course_id is not None:
        # The course row lock serialises concurrent enrolments into the same course.
        course = Course.objects.select_for_update(no_key=True).get(pk=referral.course_id)
        taken = Referral.objects.filter(course=course, status__in=Referral.SEAT_STATUSES).count()
        if taken >= course.capacity:
            raise Conflict(
                "The course is full.", code="course_full", capacity=course.capacity, seats_taken=taken
            )
    previous = referral.status
    old = copy.copy(referral)  # the state just read under the lock: the audit diff needs no re-read
    at = timezone.now()
    referral.status = to
    update_fields = ["status", "updated_at"]
    if to == Referral.Status.SENT:  # the dashboard's response deadline counts from here
        referral.sent_at = at
        update_fields.append("sent_at")
    save_update(referral, old=old, update_fields=update_fields)
    ReferralTransition.objects.create(
        referral=referral, from_status=previous, to_status=to, at=at, actor=acting_user
    )
    return referral
