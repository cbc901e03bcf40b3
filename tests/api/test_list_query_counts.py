"""Every list outside case work: the number of queries does not grow with the rows listed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casemgmt.models import Role
from casemgmt.services.access import deputy_add, emergency_access_open
from casemgmt.services.catalogue import field_of_action_create
from casemgmt.services.handovers import handover_offer
from casemgmt.services.reporting import report_indicator_set
from privacy.breaches import breach_record
from privacy.models import RecipientNotice
from privacy.rights import erasure_request, objection_add
from tests.conftest import app_queries, client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user, setup_writes

REASON = "Kind in Gefahr, zuständige Kollegin nicht erreichbar"

LISTS = [
    ("/api/v1/case-overview/", Role.SUPERVISOR),
    ("/api/v1/deputies/", Role.SUPERVISOR),
    ("/api/v1/emergency-access/", Role.DPO),
    ("/api/v1/organisations/", Role.ADMIN),
    ("/api/v1/users/", Role.ADMIN),
    ("/api/v1/memberships/", Role.ADMIN),
    ("/api/v1/fields-of-action/", Role.CASE_MANAGER),
    ("/api/v1/audit/events/", Role.DPO),
    ("/api/v1/privacy/erasure-requests/", Role.DPO),
    ("/api/v1/privacy/objections/", Role.DPO),
    ("/api/v1/privacy/recipient-notices/", Role.DPO),
    ("/api/v1/privacy/breaches/", Role.DPO),
    ("/api/v1/handovers/", Role.SUPERVISOR),
    ("/api/v1/report-indicators/", Role.SUPERVISOR),
]


@pytest.mark.parametrize(("url", "role"), LISTS)
def test_query_count_flat(district, url, role) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user(district, role)
    dpo = make_user(district, Role.DPO)
    admin = make_user(district, Role.ADMIN)
    counter = iter(range(100))
    town = OrganisationFactory(name="Stadt Q", kind="town", parent=district, reference_prefix="Q")
    supervisor = viewer if role == Role.SUPERVISOR else make_user(district, Role.SUPERVISOR)

    def add(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            owner = make_user(district, Role.CASE_MANAGER)
            colleague = make_user(district, Role.CASE_MANAGER)
            family = make_family(owner, district, family_name=f"L{i}")
            deputy_add(principal=owner, deputy=colleague, acting_user=owner)
            stranger = make_user(district, Role.CASE_MANAGER)
            emergency_access_open(family=family, acting_user=stranger, reason=REASON)
            field_of_action_create(
                organisation=district, code=f"extra{i}", name=f"Extra {i}", acting_user=admin
            )
            erasure_request(subject=family, subject_type="family", dry_run=True, acting_user=dpo)
            person = make_person(family, owner)
            objection_add(person=person, reason="Widerspruch", acting_user=dpo)
            breach_record(
                organisation=district,
                description="Fehlversand",
                occurred_from=timezone.now(),
                occurred_to=timezone.now(),
                discovered_at=timezone.now(),
                acting_user=dpo,
            )
            with setup_writes("data_subject_rights"):
                RecipientNotice.objects.create(
                    person=person,
                    cause="restriction",
                    cause_id=person.pk,
                    recipient_kind="jobcenter",
                    recipient_name="Jobcenter Musterland",
                    received_via="case_conference",
                    created_at=timezone.now(),
                )
            handover_offer(
                family=family,
                to_organisation=town,
                reason="moved",
                legal_basis="statutory_task",
                acting_user=owner,
            )
            report_indicator_set(
                organisation=district, year=2000 + i, code="new_cases", target=i, acting_user=supervisor
            )

    client = client_for(viewer)
    add(2)
    client.get(url)  # warm up per-process caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(6)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(app_queries(large.captured_queries)) == len(app_queries(small.captured_queries)), [
        q[:120] for q in app_queries(large.captured_queries)
    ]
