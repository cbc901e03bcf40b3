"""Every model declares what it is for privacy; family-owned records declare their paths.

Erasure, retention, the Art. 15 export, the registry's model lists and the audit iterate
these declarations, so a model that declares nothing would silently escape them: these
tests fail for such a model instead.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import models

from casemgmt.models import Family, Person
from casemgmt.models.base import FamilyOwned, declaring_models, family_owned_models, person_link
from privacy.audit import audited_models
from privacy.erasure import _declared_querysets
from privacy.registry import activities_by_code, anonymisation

#: Models that reach a family but are not records of its case, and why.
NOT_FAMILY_RECORDS = {
    "casemgmt.FamilyUserObjectPermission": "a grant of access (account management), not case content",
    "casemgmt.FamilyGroupObjectPermission": "a grant of access (account management), not case content",
}


#: Family records without a person link that the Art. 15 export leaves out, and why.
NOT_EXPORTED = {
    "casemgmt.AccessGrant": "staff's access to the case: each use of it is in the export's access log",
    "casemgmt.EmergencyAccess": "a staff member's emergency opening: its reads are in the access log",
    "casemgmt.EmergencyAccessRequest": "a staff request for emergency access, not data on the family",
}


def export_gaps(models_: list[type[models.Model]]) -> list[str]:
    """Family records the Art. 15 export would miss: a person link (or no stated reason) but no
    ``SUBJECT_EXPORT``, or a child declaration whose parent section is not exported."""
    specs = [getattr(m, "SUBJECT_EXPORT", None) for m in models_]
    sections = {spec.section for spec in specs if spec is not None}
    gaps = []
    for model in models_:
        spec = getattr(model, "SUBJECT_EXPORT", None)
        if spec is None:
            if person_link(model) or model._meta.label not in NOT_EXPORTED:
                gaps.append(model._meta.label)
        elif spec.within and spec.within not in sections:
            gaps.append(model._meta.label)
    return gaps


def test_every_family_record_with_a_person_link_is_in_the_art15_export() -> None:
    assert export_gaps(family_owned_models()) == []
    for label in NOT_EXPORTED:  # an exclusion names a real model without a person link
        model = next(m for m in family_owned_models() if m._meta.label == label)
        assert not person_link(model), f"{label} names a person: it must be exported"


def test_a_person_record_without_an_export_declaration_is_caught() -> None:
    """The check above is not vacuous: a new record of a person that declares no export is found."""

    class Certificate(FamilyOwned, models.Model):
        FAMILY_PATH = "person__family_id"
        PERSON_PATH = "person_id"
        PROCESSING_ACTIVITY = "case_management"
        person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "casemgmt_test_only"

        def __str__(self) -> str:
            return "certificate"

    assert export_gaps([*family_owned_models(), Certificate]) == ["casemgmt_test_only.Certificate"]


@pytest.mark.parametrize(
    "model",
    [m for m in family_owned_models() if getattr(m, "SUBJECT_EXPORT", None)],
    ids=lambda m: m._meta.label,
)
def test_export_declarations_name_real_fields(model: type[models.Model]) -> None:
    spec = model.SUBJECT_EXPORT  # type: ignore[attr-defined]
    for key, path in spec.fields.items():
        if callable(path):
            continue
        head = path.split(".", 1)[0]
        assert hasattr(model, head) or head in {f.name for f in model._meta.get_fields()}, (key, path)
    for name in spec.household_text:
        assert name in spec.fields
    if spec.within:
        assert model._meta.get_field(spec.parent).is_relation
    for path in spec.concerns:
        str(model._default_manager.filter(**{path: uuid.uuid4()}).query)


def reaches(model: type[models.Model], targets: tuple[type[models.Model], ...], depth: int = 3) -> bool:
    """Whether a chain of foreign keys leads from ``model`` to one of ``targets``."""
    if depth == 0:
        return False
    for field in model._meta.concrete_fields:
        related = field.related_model
        if not field.is_relation or related is None or related is model:
            continue
        if related in targets or reaches(related, targets, depth - 1):  # type: ignore[arg-type]
            return True
    return False


def declared_or_needs_declaring() -> list[type[models.Model]]:
    return [m for m in declaring_models() if m in set(audited_models()) or getattr(m, "PERSONAL_DATA", None)]


@pytest.mark.parametrize("model", declared_or_needs_declaring(), ids=lambda m: m._meta.label)
def test_every_audited_or_personal_model_declares_a_registry_activity(model: type[models.Model]) -> None:
    activity = getattr(model, "PROCESSING_ACTIVITY", "")
    assert activity in activities_by_code(), f"{model._meta.label}: PROCESSING_ACTIVITY = {activity!r}"
    for also in getattr(model, "ALSO_PROCESSED_FOR", ()):
        assert also in activities_by_code()


@pytest.mark.parametrize("model", list(declaring_models()), ids=lambda m: m._meta.label)
def test_every_model_that_reaches_a_family_is_a_declared_family_record(model: type[models.Model]) -> None:
    if model in (Family,) or model._meta.label in NOT_FAMILY_RECORDS:
        return
    if reaches(model, (Family, Person)):
        assert issubclass(model, FamilyOwned), (
            f"{model._meta.label} belongs to a family: declare it (FamilyOwned)"
        )


@pytest.mark.parametrize("model", family_owned_models(), ids=lambda m: m._meta.label)
def test_declared_paths_and_rules_resolve(model: type[models.Model], db: None) -> None:
    declared: FamilyOwned = model  # type: ignore[assignment]
    some_id = uuid.uuid4()
    str(model._default_manager.filter(**{declared.FAMILY_PATH: some_id}).query)  # a FieldError if wrong
    if declared.PERSON_PATH:
        str(model._default_manager.filter(**{declared.PERSON_PATH: some_id}).query)
    for name, rule in declared.ANONYMISE.items():
        model._meta.get_field(name)
        assert rule in ("clear", "mark")
    # anything holding free text or names must say how it is anonymised
    encrypted = [f.name for f in model._meta.concrete_fields if type(f).__name__.startswith("Encrypted")]
    assert set(encrypted) <= set(declared.ANONYMISE), f"{model._meta.label}: encrypted fields kept on erasure"


def test_erasure_and_the_registry_follow_the_declarations(db: None) -> None:
    labels = {m._meta.label for m in family_owned_models() if m.ANONYMISE}  # type: ignore[attr-defined]
    assert set(anonymisation()) == labels
    assert set(_declared_querysets("FAMILY_PATH", uuid.uuid4())) == labels
    person_records = {m._meta.label for m in family_owned_models() if m.PERSON_PATH and m.ANONYMISE}  # type: ignore[attr-defined]
    assert set(_declared_querysets("PERSON_PATH", uuid.uuid4())) == person_records
    for model in family_owned_models():
        activity = activities_by_code()[model.PROCESSING_ACTIVITY]  # type: ignore[attr-defined]
        assert model._meta.label in activity.models


def test_a_model_without_a_declaration_is_caught() -> None:
    """The check above is not vacuous: an undeclared record of a family is found."""

    class Note(models.Model):
        family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "casemgmt_test_only"

        def __str__(self) -> str:
            return "note"

    assert reaches(Note, (Family, Person)) and not issubclass(Note, FamilyOwned)


def test_the_art15_access_log_finds_reads_of_every_declared_record(case_manager) -> None:  # type: ignore[no-untyped-def]
    """Who read the household's contacts is in the export too (the hand list missed contacts)."""
    from django.utils import timezone

    from casemgmt.services.contacts import contact_create
    from privacy.exports import subject_export
    from tests.conftest import client_for
    from tests.factories import make_family, make_person

    family = make_family(case_manager)
    person = make_person(family, case_manager)
    contact = contact_create(
        family=family,
        occurred_on=timezone.localdate(),
        kind="home_visit",
        initiated_by="family",
        acting_user=case_manager,
    )
    assert client_for(case_manager).get(f"/api/v1/contacts/{contact.pk}/").status_code == 200
    log = subject_export(person)["access_log"]
    reads = [e for e in log if e["action"] == "access"]
    assert any("contact" in e["what"] for e in reads), log


def test_who_changed_a_record_last_comes_from_the_write_itself(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """``updated_by`` is the service's acting user, called from the shell as from the API; a
    system process leaves it empty rather than keeping the previous user's name."""
    from casemgmt.models import Role
    from casemgmt.services.access import family_assign
    from casemgmt.services.families import family_update
    from privacy.audit import acting_as_system
    from tests.factories import make_family, make_user

    family = make_family(case_manager)
    assert family.created_by == case_manager and family.updated_by == case_manager
    supervisor = make_user(district, role=Role.SUPERVISOR)
    colleague = make_user(district)
    family_assign(family=family, case_manager=colleague, acting_user=supervisor)
    family.refresh_from_db()
    assert family.updated_by_id == supervisor.pk
    family_update(family=family, acting_user=colleague, address="Neue Straße 1")
    family.refresh_from_db()
    assert family.updated_by_id == colleague.pk and family.created_by_id == case_manager.pk
    with acting_as_system(process="retention", activity="case_management"):
        family.save(update_fields=["updated_at"])
    family.refresh_from_db()
    assert family.updated_by_id is None and family.created_by_id == case_manager.pk
