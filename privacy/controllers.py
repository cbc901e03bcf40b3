"""Controller details per organisation (Art. 30(1)(a), Art. 26/28), kept by its DPO."""

from __future__ import annotations

from typing import Any

from casemgmt import policies
from casemgmt.models import Organisation, Role
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.models import ControllerProfile
from privacy.registry import ORGANISATIONAL_MEASURES, Activity


@audited_write(Activity.ACCOUNT_MANAGEMENT)
def controller_profile_set(
    *,
    organisation: Organisation,
    acting_user: Any,
    name: str,
    address: str,
    representative: str,
    dpo_contact: str,
    arrangement: str = ControllerProfile.Arrangement.SOLE,
    arrangement_partner: Organisation | None = None,
    arrangement_reference: str = "",
    processors: str = "",
    third_country_transfers: str = "",
    organisational_measures: dict[str, str] | None = None,
) -> ControllerProfile:
    """Create or replace the organisation's controller details; the DPO of that organisation only."""
    policies.require_role_in(acting_user, organisation, Role.DPO, obj=organisation)
    measures = dict(organisational_measures or {})
    unknown = sorted(set(measures) - set(ORGANISATIONAL_MEASURES))
    if unknown:
        raise invalid(
            "organisational_measures",
            f"Unknown measure; use {', '.join(ORGANISATIONAL_MEASURES)}.",
            "unknown_measure",
        )
    if arrangement == ControllerProfile.Arrangement.SOLE:
        arrangement_partner = None
    elif arrangement_partner is None:
        raise invalid("arrangement_partner", "Name the partner of the arrangement.", "required")
    elif arrangement_partner.pk not in {
        organisation.parent_id,
        *organisation.children.values_list("pk", flat=True),
    }:
        # A district and its towns agree on joint control or processing on behalf; nobody else.
        raise invalid(
            "arrangement_partner",
            "The partner must be the parent district or one of its towns.",
            "not_related",
        )
    profile = ControllerProfile.objects.filter(organisation=organisation).first() or ControllerProfile(
        organisation=organisation
    )
    profile.name = name.strip()
    profile.address = address.strip()
    profile.representative = representative.strip()
    profile.dpo_contact = dpo_contact.strip()
    profile.arrangement = arrangement
    profile.arrangement_partner = arrangement_partner
    profile.arrangement_reference = arrangement_reference.strip()
    profile.processors = processors.strip()
    profile.third_country_transfers = third_country_transfers.strip()
    profile.organisational_measures = {k: v.strip() for k, v in measures.items() if v.strip()}
    profile.full_clean()
    profile.save()
    return profile
