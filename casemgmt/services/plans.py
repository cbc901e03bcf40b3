"""Integration plans: the plan, its versions (approval, the family's agreement) and assessments."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import (
    Assessment,
    Family,
    FieldOfAction,
    Goal,
    IntegrationPlan,
    Person,
    PlanVersion,
    Role,
    User,
)
from casemgmt.services.common import (
    apply_changes,
    invalid,
    require_member,
    require_not_future,
    require_not_restricted,
    require_open_family,
)
from casemgmt.services.goals import fields_of_action_for
from privacy.audit import audited_write
from privacy.registry import Activity

#: Versions still being worked on: a new version waits until these are decided.
UNDECIDED = (PlanVersion.Status.DRAFT, PlanVersion.Status.SUBMITTED, PlanVersion.Status.RETURNED)


@audited_write(Activity.CASE_MANAGEMENT)
def plan_create(
    *, family: Family, acting_user: User, review_on: datetime.date | None = None
) -> IntegrationPlan:
    """Open the family's integration plan (one per family)."""
    policies.require_case_access(acting_user, family)
    require_open_family(family)
    if IntegrationPlan.objects.filter(family=family).exists():
        raise Conflict(_("This family already has an integration plan."), code="plan_exists")
    plan = IntegrationPlan(family=family, review_on=review_on, created_by=acting_user)
    plan.full_clean()
    plan.save()
    return plan


@audited_write(Activity.CASE_MANAGEMENT)
def plan_update(*, plan: IntegrationPlan, acting_user: User, **changes: Any) -> IntegrationPlan:
    """Change the plan's next review date."""
    policies.require_case_access(acting_user, plan.family, plan)
    require_open_family(plan.family)
    names = apply_changes(plan, changes, frozenset({"review_on"}))
    plan.full_clean()
    plan.save(update_fields=[*names, "updated_at"])
    return plan


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_create(*, plan: IntegrationPlan, acting_user: User, summary: str = "") -> PlanVersion:
    """Freeze the plan's current goals into a new draft version."""
    policies.require_case_access(acting_user, plan.family, plan)
    plan = IntegrationPlan.objects.select_for_update(no_key=True, of=("self",)).get(pk=plan.pk)
    require_open_family(plan.family)
    if plan.versions.filter(status__in=UNDECIDED).exists():
        raise Conflict(
            _("The plan has a version that is not approved yet; change or submit that one."),
            code="version_undecided",
        )
    number = (plan.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    goal_ids = [
        str(pk)
        for pk in Goal.objects.filter(plan=plan)
        .exclude(status=Goal.Status.CANCELLED)
        .order_by("agreed_on", "created_at")
        .values_list("id", flat=True)
    ]
    version = PlanVersion(
        plan=plan, number=number, summary=summary, goal_ids=goal_ids, created_by=acting_user
    )
    version.full_clean()
    version.save()
    return version


def _require_status(version: PlanVersion, *allowed: str) -> None:
    if version.status not in allowed:
        raise Conflict(
            _("Not possible in the version's current status."),
            code="version_status",
            version_status=version.status,
        )


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_update(*, version: PlanVersion, acting_user: User, **changes: Any) -> PlanVersion:
    """Change a draft (or returned) version's summary; the goals it covers are refreshed."""
    policies.require_case_access(acting_user, version.plan.family, version)
    require_open_family(version.plan.family)
    _require_status(version, PlanVersion.Status.DRAFT, PlanVersion.Status.RETURNED)
    names = apply_changes(version, changes, frozenset({"summary"}))
    version.full_clean()
    version.save(update_fields=names)
    return version


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_submit(*, version: PlanVersion, acting_user: User) -> PlanVersion:
    """Submit a version for the supervisor's approval."""
    policies.require_case_access(acting_user, version.plan.family, version)
    require_open_family(version.plan.family)
    _require_status(version, PlanVersion.Status.DRAFT, PlanVersion.Status.RETURNED)
    version.status = PlanVersion.Status.SUBMITTED
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    return version


def _decide(version: PlanVersion, acting_user: User, status: str) -> PlanVersion:
    # Supervisors of the family's organisation decide; nobody else learns the version exists.
    policies.require_role_in(acting_user, version.plan.family.organisation, Role.SUPERVISOR, obj=version)
    version = PlanVersion.objects.select_for_update(no_key=True, of=("self",)).get(pk=version.pk)
    _require_status(version, PlanVersion.Status.SUBMITTED)
    version.status = status
    version.decided_by = acting_user
    version.decided_at = timezone.now()
    version.save(update_fields=["status", "decided_by", "decided_at"])
    return version


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_approve(*, version: PlanVersion, acting_user: User) -> PlanVersion:
    """A supervisor approves a submitted version (Primero's case plan approval)."""
    return _decide(version, acting_user, PlanVersion.Status.APPROVED)


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_return(*, version: PlanVersion, acting_user: User) -> PlanVersion:
    """A supervisor returns a submitted version to the case manager for changes."""
    return _decide(version, acting_user, PlanVersion.Status.RETURNED)


@audited_write(Activity.CASE_MANAGEMENT)
def plan_version_record_agreement(
    *,
    version: PlanVersion,
    agreed_on: datetime.date,
    acting_user: User,
    agreed_by_person: Person | None = None,
    agreed_by_representative: str = "",
) -> PlanVersion:
    """Record that the family agreed to a version: when, and which member (or representative)."""
    family = version.plan.family
    policies.require_case_access(acting_user, family, version)
    require_open_family(family)
    _require_status(version, PlanVersion.Status.SUBMITTED, PlanVersion.Status.APPROVED)
    if version.agreed_on is not None:
        raise Conflict(
            _("The family's agreement to this version is already recorded."), code="already_agreed"
        )
    if (agreed_by_person is None) == (not agreed_by_representative):
        raise invalid(
            "agreed_by_person",
            _("Name either the member who agreed or the legal representative, not both."),
            "who_agreed",
        )
    require_member(agreed_by_person, family, "agreed_by_person")
    require_not_restricted(agreed_by_person)
    require_not_future(agreed_on, "agreed_on")
    if agreed_on < version.created_at.date():
        raise invalid("agreed_on", _("The agreement cannot be before the version was made."), "dates_order")
    version.agreed_on = agreed_on
    version.agreed_by_person = agreed_by_person
    version.agreed_by_representative = agreed_by_representative
    version.full_clean()
    version.save(update_fields=["agreed_on", "agreed_by_person", "agreed_by_representative"])
    return version


def _require_assessable(family: Family, person: Person | None, field_of_action: FieldOfAction) -> None:
    require_member(person, family)
    require_not_restricted(person)
    if not fields_of_action_for(family).filter(pk=field_of_action.pk).exists():
        raise invalid(
            "field_of_action",
            _("This field of action is not available to the family's organisation."),
            "unavailable",
        )


def _baseline(family: Family, person: Person | None, field_of_action: FieldOfAction) -> Assessment | None:
    return Assessment.objects.filter(
        family=family, person=person, field_of_action=field_of_action, kind=Assessment.Kind.BASELINE
    ).first()


@audited_write(Activity.CASE_MANAGEMENT)
def assessment_create(
    *,
    family: Family,
    field_of_action: FieldOfAction,
    kind: str,
    score: int,
    acting_user: User,
    person: Person | None = None,
    assessed_on: datetime.date | None = None,
    notes: str = "",
) -> Assessment:
    """Rate a field of action for a member (or the household): one baseline, then follow-ups."""
    policies.require_case_access(acting_user, family)
    # Serialise assessments of one family, so two baselines cannot race in.
    Family.objects.select_for_update(no_key=True).filter(pk=family.pk).exists()
    require_open_family(family)
    _require_assessable(family, person, field_of_action)
    assessed_on = assessed_on or timezone.localdate()
    require_not_future(assessed_on, "assessed_on")
    baseline = _baseline(family, person, field_of_action)
    if kind == Assessment.Kind.BASELINE and baseline is not None:
        raise Conflict(
            _("There is already a baseline for this field of action; record a follow-up."),
            code="baseline_exists",
        )
    if kind == Assessment.Kind.FOLLOW_UP and baseline is not None and assessed_on < baseline.assessed_on:
        raise invalid("assessed_on", _("A follow-up cannot be before the baseline."), "dates_order")
    assessment = Assessment(
        family=family,
        person=person,
        field_of_action=field_of_action,
        kind=kind,
        score=score,
        assessed_on=assessed_on,
        notes=notes,
        created_by=acting_user,
    )
    assessment.full_clean()
    assessment.save()
    return assessment


@audited_write(Activity.CASE_MANAGEMENT)
def assessment_update(*, assessment: Assessment, acting_user: User, **changes: Any) -> Assessment:
    """Correct an assessment's score, notes or date."""
    policies.require_case_access(acting_user, assessment.family, assessment)
    require_open_family(assessment.family)
    policies.require_unrestricted_record(assessment)
    names = apply_changes(assessment, changes, frozenset({"score", "notes", "assessed_on"}))
    require_not_future(assessment.assessed_on, "assessed_on")
    assessment.full_clean()
    assessment.save(update_fields=[*names, "updated_at"])
    return assessment
