"""Reads of emergency openings and the requests to reopen, scoped to who answers for the family."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casemgmt import policies
from casemgmt.models import EmergencyAccess, EmergencyAccessRequest, Role, User


def emergency_openings_of_families_of(user: User) -> QuerySet[EmergencyAccess]:
    """Emergency openings of the families ``user`` answers for: as their assigned case manager
    (while still a case manager of the family's organisation) or as a supervisor there."""
    as_case_manager = Q(
        family__case_manager=user,
        family__organisation_id__in=policies.organisation_ids_with_role(user, Role.CASE_MANAGER),
    )
    as_supervisor = Q(family__organisation_id__in=policies.organisation_ids_with_role(user, Role.SUPERVISOR))
    return EmergencyAccess.objects.filter(as_case_manager | as_supervisor).select_related("family")


def emergency_access_requests_for(user: User) -> QuerySet[EmergencyAccessRequest]:
    """Requests to reopen a family: one's own, and those a supervisor of the family's organisation decides."""
    return EmergencyAccessRequest.objects.filter(
        Q(user=user)
        | Q(family__organisation_id__in=policies.organisation_ids_with_role(user, Role.SUPERVISOR))
    ).select_related("family")
