"""Every audit entry names its actor and processing activity explicitly, whoever writes.

No request context is needed: a service called from plain Python, the Django admin and the
management commands write the same attributed entries as the API. A write outside any
``audited()`` scope is an error (in tests; production files it as "unattributed").
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from casemgmt.models import Family, Organisation, Provider, Role
from casemgmt.services.catalogue import provider_create, provider_update
from casemgmt.services.families import family_close, family_update
from privacy.audit import UNATTRIBUTED, UnattributedWrite, acting_as_system, audited, log_bulk
from privacy.models import AuditEntry
from tests.factories import make_family, make_user

TODAY = timezone.localdate()


def entries_for(obj: object) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_pk=str(obj.pk)).order_by("pk"))  # type: ignore[attr-defined]


def test_a_service_called_from_plain_python_names_its_actor(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    # no request, no middleware, no auditlog context: only the service's own attribution
    family_update(family=family, notes="Neue Notiz", acting_user=case_manager)
    update = entries_for(family)[-1]
    assert update.action == AuditEntry.Action.UPDATE
    assert update.actor_id == case_manager.pk
    assert update.activity == "case_management"


def test_provider_writes_are_catalogue_work_not_account_management(district) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN)
    provider = provider_create(organisation=district, name="VHS", acting_user=admin)
    provider_update(provider=provider, name="VHS Musterland", acting_user=admin)
    found = entries_for(provider)
    assert [e.action for e in found] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    assert {e.activity for e in found} == {"course_referrals"}
    assert {e.actor_id for e in found} == {admin.pk}


def test_a_write_outside_any_scope_is_an_error_and_writes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnattributedWrite, match=r"casemgmt\.Organisation"), transaction.atomic():
        Organisation.objects.create(name="Unbekannt", kind="district", reference_prefix="UB")
    assert not Organisation.objects.filter(name="Unbekannt").exists()
    assert AuditEntry.objects.count() == 0


def test_in_production_an_unattributed_write_is_filed_as_such(db, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_REQUIRE_SCOPE = False
    organisation = Organisation.objects.create(name="Unbekannt", kind="district", reference_prefix="UB")
    (entry,) = entries_for(organisation)
    assert entry.activity == UNATTRIBUTED and entry.actor_id is None
    assert "Unattributed write of casemgmt.Organisation" in caplog.text


def test_the_scope_names_only_declared_activities_and_real_actors(db) -> None:  # type: ignore[no-untyped-def]
    with (
        pytest.raises(ValueError, match="Unknown processing activity"),
        audited(actor=None, activity="marketing"),
    ):
        pass
    with (
        pytest.raises(ValueError, match="Name the acting user"),
        audited(actor=None, activity="case_management"),
    ):
        pass
    with pytest.raises(ValueError, match="Unknown processing activity"):  # noqa: SIM117
        with acting_as_system(process="x", activity="whatever"):
            pass


def test_the_scope_is_one_transaction(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), audited(actor=case_manager, activity="case_management"):
        Family.objects.get(pk=family.pk).save()
        raise RuntimeError("fails after the write")
    assert AuditEntry.objects.count() == before  # the entry went with the rolled-back write


def test_an_explicit_activity_on_a_bulk_entry_wins_over_the_scope(case_manager) -> None:  # type: ignore[no-untyped-def]
    with audited(actor=case_manager, activity="case_management"):
        entry = log_bulk(
            model=Family, action=AuditEntry.Action.UPDATE, object_ids=[], activity="data_subject_rights"
        )
        inherited = log_bulk(model=Family, action=AuditEntry.Action.UPDATE, object_ids=[])
    assert entry.activity == "data_subject_rights" and entry.actor_id == case_manager.pk
    assert inherited.activity == "case_management" and inherited.actor_id == case_manager.pk


def test_rotate_keys_records_itself_as_a_system_process(case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    call_command("rotate_keys")
    entry = AuditEntry.objects.order_by("-pk").first()
    assert entry is not None and "key rotation" in entry.object_repr
    assert entry.activity == "key_management"
    assert entry.actor_id is None and entry.additional_data["system"] == "rotate_keys"


def test_apply_retention_records_itself_as_a_system_process(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, opened_on=TODAY - datetime.timedelta(days=5 * 365))
    family_close(
        family=family,
        outcome="self_sufficient",
        benefit_status_at_closure="none",
        closed_on=TODAY - datetime.timedelta(days=4 * 365),
        acting_user=case_manager,
    )
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    call_command("apply_retention")
    tombstones = list(AuditEntry.objects.filter(pk__gt=before))
    assert tombstones, "retention wrote no audit entry"
    assert {e.activity for e in tombstones} == {"data_subject_rights"}
    assert {e.actor_id for e in tombstones} == {None}
    assert {e.additional_data.get("system") for e in tombstones} == {"apply_retention"}


def test_admin_writes_are_attributed_to_the_logged_in_administrator(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(district, Role.ADMIN, is_staff=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/casemgmt/organisation/{district.pk}/change/",
        {"name": "Landkreis Umbenannt", "kind": "district", "reference_prefix": "LK", "parent": ""},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    update = entries_for(district)[-1]
    assert update.action == AuditEntry.Action.UPDATE
    assert update.actor_id == admin.pk and update.activity == "account_management"


def test_reads_are_filed_under_the_models_declared_activity(case_manager) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import client_for

    district_admin = make_user(case_manager.memberships.get().organisation, Role.ADMIN)
    provider_create(
        organisation=case_manager.memberships.get().organisation, name="VHS", acting_user=district_admin
    )
    assert client_for(case_manager).get("/api/v1/families/").status_code == 200
    read = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).latest("pk")
    assert read.activity == "case_management"
    assert Provider.PROCESSING_ACTIVITY == "course_referrals"
