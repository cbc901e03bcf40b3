"""Who may do what. One rule per question, used both to filter lists and to check objects.

Until per-family object permissions arrive, case access follows the case manager role
in the family's organisation. Being a member with another role (supervisor, DPO, admin)
grants no access to case content: the same office may also be the immigration or
benefits authority.
"""

from __future__ import annotations

from django.db.models import QuerySet

from casemgmt.models import Membership, Organisation, Role, User


def case_manager_organisation_ids(user: User) -> QuerySet[Membership, object]:
    """Ids of organisations in which ``user`` is a case manager (a subquery, not a list)."""
    return Membership.objects.filter(user=user, role=Role.CASE_MANAGER).values("organisation_id")


def case_manager_organisations(user: User) -> QuerySet[Organisation]:
    """Organisations in which ``user`` may open and work on families."""
    return Organisation.objects.filter(id__in=case_manager_organisation_ids(user))


def is_case_manager_in(user: User, organisation: Organisation) -> bool:
    """Whether ``user`` works cases in ``organisation``."""
    return Membership.objects.filter(user=user, organisation=organisation, role=Role.CASE_MANAGER).exists()
