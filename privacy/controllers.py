"""Controller details per organisation (Art. 30(1)(a), Art. 26/28), kept by its DPO."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from casemgmt import policies
from casemgmt.models import Organisation, Role
from casemgmt.services.common import invalid
from privacy.audit import audited_write
from privacy.models import ControllerProfile, RecordVersion
from privacy.registry import (
    ORGANISATIONAL_MEASURES,
    Activity,
    activities_by_code,
    record_content,
    record_diff,
)

logger = logging.getLogger(__name__)


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
    activity_details: dict[str, dict[str, str]] | None = None,
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
    details = dict(activity_details or {})
    for code, item in details.items():
        if code not in activities_by_code() or not isinstance(item, dict):
            raise invalid("activity_details", f"Unknown processing activity: {code}.", "unknown_activity")
        if set(item) - {"responsible_unit", "dpia_reference"}:
            raise invalid(
                "activity_details", "Give responsible_unit and dpia_reference per activity.", "unknown_field"
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
    profile.activity_details = {
        code: {k: str(v).strip() for k, v in item.items() if str(v).strip()} for code, item in details.items()
    }
    profile.full_clean()
    profile.save()
    return profile


@audited_write(Activity.AUDIT_LOGGING)
def record_version_save(*, organisation: Organisation, acting_user: Any) -> tuple[RecordVersion, bool]:
    """Store the organisation's current record as a new version if it changed; (version, created)."""
    policies.require_role_in(acting_user, organisation, Role.DPO, obj=organisation)
    return _store_version(organisation, acting_user)


def record_versions_refresh() -> int:
    """Store a new version of every public body's record whose content changed; returns how many.

    Run nightly by the worker (as a system process): a record also changes without anyone
    editing it, when a deployment adds a field, a recipient or a retention period, and the
    DPO's history must show that change with its date, not only the ones they saved.
    """
    stored = 0
    for organisation in Organisation.objects.exclude(kind=Organisation.Kind.PROVIDER).order_by("pk"):
        try:
            with transaction.atomic():
                stored += _store_version(organisation, None)[1]
        except Exception:  # one organisation's record must not stop the others' (nor retention)
            logger.exception("Storing the Art. 30 record version of organisation %s failed.", organisation.pk)
    return stored


def _store_version(organisation: Organisation, acting_user: Any) -> tuple[RecordVersion, bool]:
    # The organisation's row serialises versioning (a DPO's save and the nightly run): the
    # latest version alone locks nothing before the first one exists.
    list(Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk", flat=True))
    content = record_content(organisation)
    latest = (
        RecordVersion.objects.select_for_update()
        .filter(organisation=organisation)
        .order_by("-number")
        .first()
    )
    diff = record_diff(latest.content if latest else None, content)
    if latest is not None and not diff:
        return latest, False
    version = RecordVersion.objects.create(
        organisation=organisation,
        number=(latest.number + 1) if latest else 1,
        created_at=timezone.now(),
        created_by=acting_user,
        content=content,
        diff=diff,
    )
    return version, True
