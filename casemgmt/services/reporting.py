"""Writes of the report indicators (target values an organisation sets for its KIM report)."""

from __future__ import annotations

from casemgmt import policies
from casemgmt.models import Organisation, ReportIndicator, Role, User
from privacy.audit import audited_write
from privacy.registry import Activity


@audited_write(Activity.OUTCOME_STATISTICS)
def report_indicator_set(
    *, organisation: Organisation, year: int, code: str, target: int, acting_user: User
) -> ReportIndicator:
    """Set (or replace) the target value of one report figure for a year."""
    policies.require_role_in(acting_user, organisation, Role.SUPERVISOR)
    indicator = ReportIndicator.objects.filter(organisation=organisation, year=year, code=code).first()
    if indicator is None:
        indicator = ReportIndicator(organisation=organisation, year=year, code=code)
    indicator.target = target
    indicator.set_by = acting_user
    indicator.full_clean()
    indicator.save()
    return indicator


@audited_write(Activity.OUTCOME_STATISTICS)
def report_indicator_delete(*, indicator: ReportIndicator, acting_user: User) -> None:
    """Remove a target value."""
    policies.require_role_in(acting_user, indicator.organisation, Role.SUPERVISOR, obj=indicator)
    indicator.delete()
