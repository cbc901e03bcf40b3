"""Reads of integration plans for supervisors (case managers read through ``case_records_for``)."""

from __future__ import annotations

from django.db.models import QuerySet

from casemgmt import policies
from casemgmt.models import Family, PlanVersion, User


def plan_versions_for_approval(user: User) -> QuerySet[PlanVersion]:
    """Plan versions of families in the organisations ``user`` supervises (non-personal fields only)."""
    families = Family.objects.filter(policies.supervised_family_filter(user)).values("id")
    return PlanVersion.objects.filter(plan__family_id__in=families).select_related("plan__family")
