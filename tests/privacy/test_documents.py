"""Documents in the data subject rights: Art. 15 export (as a list), erasure and retention, restriction."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from casemgmt.models import Document, Family, Role
from casemgmt.services.documents import document_create, document_storage
from casemgmt.services.families import family_close
from privacy.rights import erasure_request, restriction_add
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user

PDF = b"%PDF-1.4\nsigned consent of Olena Kovalenko\n%%EOF"


@pytest.fixture
def dpo(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.DPO, username="dpo")


@pytest.fixture
def household(case_manager):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Kovalenko")
    mother = make_person(family, case_manager, given_name="Olena", family_name="Kovalenko")
    son = make_person(family, case_manager, given_name="Dmytro", family_name="Kovalenko", role="child")
    docs = {
        who: document_create(
            target_kind=kind,
            target_id=target.pk,
            upload=SimpleUploadedFile(f"{who}.pdf", PDF),
            filename=f"Scan {who} Kovalenko.pdf",
            acting_user=case_manager,
        )
        for who, kind, target in (
            ("family", "family", family),
            ("mother", "person", mother),
            ("son", "person", son),
        )
    }
    return family, mother, son, docs


def test_export_lists_the_persons_and_household_documents(dpo, household) -> None:  # type: ignore[no-untyped-def]
    _family, mother, _son, docs = household
    body = client_for(dpo).get(f"/api/v1/privacy/subjects/{mother.pk}/export/").json()
    listed = {d["id"] for d in body["documents"]}
    assert listed == {str(docs["family"].pk), str(docs["mother"].pk)}  # not the son's
    assert {d["filename"] for d in body["documents"]} == {
        "Scan family Kovalenko.pdf",
        "Scan mother Kovalenko.pdf",
    }
    html = (
        client_for(dpo)
        .get(f"/api/v1/privacy/subjects/{mother.pk}/export/", {"format": "html"})
        .content.decode()
    )
    assert "Scan mother Kovalenko.pdf" in html


def test_family_erasure_deletes_files_and_keys(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, _mother, _son, docs = household
    family = family_close(
        family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=case_manager
    )
    names = [d.storage_name for d in docs.values()]
    with TestCase.captureOnCommitCallbacks(execute=True):
        erasure_request(subject=family, subject_type="family", dry_run=False, acting_user=dpo)
    for doc in Document.objects.filter(family=family):
        assert doc.filename == "" and doc.data_key == "" and doc.storage_name == "" and doc.anonymised_at
        assert doc.size and doc.content_type == "application/pdf"  # coarse facts stay
    assert not any(document_storage().exists(n) for n in names)


def test_person_erasure_deletes_only_their_documents(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    family, _mother, son, docs = household
    family = family_close(
        family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=case_manager
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        son.refresh_from_db()
        erasure_request(subject=son, subject_type="person", dry_run=False, acting_user=dpo)
    assert not document_storage().exists(docs["son"].storage_name)
    assert document_storage().exists(docs["mother"].storage_name)
    assert Document.objects.get(pk=docs["mother"].pk).filename == "Scan mother Kovalenko.pdf"


def test_retention_covers_documents(case_manager, household) -> None:  # type: ignore[no-untyped-def]
    from privacy.retention import apply_retention

    family, _mother, _son, docs = household
    family = family_close(
        family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=case_manager
    )
    Family.objects.filter(pk=family.pk).update(
        closed_on=timezone.localdate() - datetime.timedelta(days=4 * 365),
        opened_on=timezone.localdate() - datetime.timedelta(days=5 * 365),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        apply_retention(dry_run=False)
    assert not any(document_storage().exists(d.storage_name) for d in docs.values())
    assert not Document.objects.filter(family=family, anonymised_at__isnull=True).exists()


def test_restricted_persons_documents_are_hidden(dpo, case_manager, household) -> None:  # type: ignore[no-untyped-def]
    _family, mother, _son, docs = household
    restriction_add(person=mother, reason="contested", acting_user=dpo)
    api = client_for(case_manager)
    assert api.get(f"/api/v1/documents/{docs['mother'].pk}/download/").status_code == 404
    ids = {d["id"] for d in api.get("/api/v1/documents/").json()["results"]}
    assert str(docs["mother"].pk) not in ids and str(docs["family"].pk) in ids
