"""Reads of handover offers: one rule for the list and for the single offer.

Three kinds of reader, decided in the database per row (``side``):
``case``     the sending case manager(s) with access to the family: the whole offer;
``sender``   a supervisor of the offering organisation: no note, no consent;
``receiver`` a supervisor of the receiving organisation: the offer only (no family,
             reference, names or free text) until it is accepted.
"""

from __future__ import annotations

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When

from casemgmt import policies
from casemgmt.models import Family, Handover, Role, User

CASE, SENDER, RECEIVER = "case", "sender", "receiver"


def handovers_for(user: User) -> QuerySet[Handover]:
    """Offers the user takes part in, each annotated with the side the user reads it from."""
    supervised = policies.organisation_ids_with_role(user, Role.SUPERVISOR)
    accessible = Family.objects.filter(policies.family_access(user, policies.CHANGE_FAMILY)).values("id")
    own_case = Q(family_id__in=accessible) & Q(family__organisation_id=F("from_organisation_id"))
    return (
        Handover.objects.filter(
            own_case | Q(from_organisation_id__in=supervised) | Q(to_organisation_id__in=supervised)
        )
        .annotate(
            side=Case(
                When(own_case, then=Value(CASE)),
                When(from_organisation_id__in=supervised, then=Value(SENDER)),
                default=Value(RECEIVER),
                output_field=CharField(),
            )
        )
        .select_related("from_organisation", "to_organisation")
        .order_by("-created_at", "id")
    )
