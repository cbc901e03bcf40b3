"""Goals and their reviews."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import (
    CaseConference,
    Family,
    FieldOfAction,
    Goal,
    GoalReview,
    IntegrationPlan,
    Person,
    User,
)
from casemgmt.services.common import (
    apply_changes,
    clean_new,
    invalid,
    require_member,
    require_not_future,
    require_not_restricted,
    require_open_family,
)
from privacy.audit import audited_write
from privacy.registry import Activity


def fields_of_action_for(family: Family) -> Any:
    """Fields of action a family's goals may use: the defaults and those of its organisation or district."""
    org = family.organisation
    return FieldOfAction.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id=org.pk) | Q(organisation_id=org.parent_id),
        is_active=True,
    )


def _require_field(field_of_action: FieldOfAction, family: Family) -> None:
    # The rule of fields_of_action_for, on the objects this request already loaded (the API
    # reads the family with its organisation): no query to re-ask what was just read.
    org = family.organisation
    available = field_of_action.organisation_id in (None, org.pk, org.parent_id)
    if not (field_of_action.is_active and available):
        raise invalid(
            "field_of_action",
            _("This field of action is not available to the family's organisation."),
            "unavailable",
        )


def _require_plan(plan: IntegrationPlan | None, family: Family) -> None:
    if plan is not None and plan.family_id != family.pk:
        raise invalid("plan", _("This plan belongs to another family."), "not_family_plan")


@audited_write(Activity.CASE_MANAGEMENT)
def goal_create(
    *,
    family: Family,
    field_of_action: FieldOfAction,
    description: str,
    acting_user: User,
    person: Person | None = None,
    agreed_on: datetime.date | None = None,
    target_date: datetime.date | None = None,
    conference: CaseConference | None = None,
    plan: IntegrationPlan | None = None,
) -> Goal:
    """Record a goal agreed with the family (or one member)."""
    policies.require_case_access_for(acting_user, family, person)
    require_open_family(family)
    require_member(person, family)
    _require_field(field_of_action, family)
    _require_plan(plan, family)
    agreed_on = agreed_on or timezone.localdate()
    require_not_future(agreed_on, "agreed_on")
    if target_date is not None and target_date < agreed_on:
        raise invalid("target_date", _("The target date cannot be before the agreement."), "dates_order")
    goal = Goal(
        family=family,
        person=person,
        field_of_action=field_of_action,
        description=description,
        agreed_on=agreed_on,
        target_date=target_date,
        conference=conference,
        plan=plan,
        created_by=acting_user,
    )
    clean_new(goal)
    goal.save()
    return goal


GOAL_EDITABLE_FIELDS = frozenset({"description", "target_date", "field_of_action", "person", "plan"})


@audited_write(Activity.CASE_MANAGEMENT)
def goal_update(*, goal: Goal, acting_user: User, **changes: Any) -> Goal:
    """Edit a goal's wording, target date, field or member; its status changes through reviews."""
    policies.require_case_access(acting_user, goal.family, goal)
    require_open_family(goal.family)
    policies.require_unrestricted_record(goal)
    if "person" in changes:
        require_member(changes["person"], goal.family)
        require_not_restricted(changes["person"])
    if "field_of_action" in changes:
        _require_field(changes["field_of_action"], goal.family)
    if "plan" in changes:
        _require_plan(changes["plan"], goal.family)
    names = apply_changes(goal, changes, GOAL_EDITABLE_FIELDS)
    if goal.target_date is not None and goal.target_date < goal.agreed_on:
        raise invalid("target_date", _("The target date cannot be before the agreement."), "dates_order")
    goal.full_clean()
    goal.save(update_fields=[*names, "updated_at"])
    return goal


@audited_write(Activity.CASE_MANAGEMENT)
def goal_review_add(
    *, goal: Goal, status: str, acting_user: User, note: str = "", reviewed_on: datetime.date | None = None
) -> GoalReview:
    """Review a goal: the note is kept, and the goal takes the review's status."""
    policies.require_case_access(acting_user, goal.family, goal)
    goal = Goal.objects.select_for_update(no_key=True, of=("self",)).select_related("family").get(pk=goal.pk)
    require_open_family(goal.family)
    policies.require_unrestricted_record(goal)
    if goal.status == Goal.Status.CANCELLED:
        raise Conflict(
            _("A cancelled goal cannot be reviewed."), code="goal_cancelled", goal_status=goal.status
        )
    reviewed_on = reviewed_on or timezone.localdate()
    require_not_future(reviewed_on, "reviewed_on")
    if reviewed_on < goal.agreed_on:
        raise invalid("reviewed_on", _("A review cannot be before the goal was agreed."), "dates_order")
    review = GoalReview(goal=goal, reviewed_on=reviewed_on, note=note, status=status, created_by=acting_user)
    review.full_clean()
    review.save()
    goal.status = status
    goal.achieved_at = reviewed_on if status in Goal.ACHIEVED_STATUSES else None
    goal.save(update_fields=["status", "achieved_at", "updated_at"])
    return review
