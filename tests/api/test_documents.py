"""Encrypted documents: upload, sniffed type, size limit, ciphertext at rest, audited download."""

from __future__ import annotations

import datetime
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from casemgmt.models import Document
from casemgmt.services.conferences import conference_create
from casemgmt.services.consents import consent_create
from casemgmt.services.documents import document_storage
from casemgmt.services.plans import plan_create
from privacy.cipher import crypto
from privacy.models import AuditEntry
from tests.conftest import client_for
from tests.factories import make_family, make_person

URL = "/api/v1/documents/"
PDF = b"%PDF-1.7\n" + b"Unterschrift Amina Haddad " * 10000 + b"\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(500)


def _upload(
    api, kind, target, content=PDF, name="Einwilligung Haddad.pdf", content_type="application/pdf", **extra
):  # type: ignore[no-untyped-def]
    data = {
        "target_kind": kind,
        "target_id": str(target),
        "file": SimpleUploadedFile(name, content, content_type),
        **extra,
    }
    return api.post(URL, data, format="multipart")


@pytest.fixture
def consent(family, mother, case_manager):  # type: ignore[no-untyped-def]
    return consent_create(
        family=family,
        person=mother,
        recipient="jobcenter",
        purpose="Arbeit",
        given_on=timezone.localdate(),
        acting_user=case_manager,
    )


@pytest.mark.parametrize("kind", ["family", "person", "consent", "conference", "plan"])
def test_upload_and_download_each_target(api, family, mother, consent, case_manager, kind) -> None:  # type: ignore[no-untyped-def]
    targets = {
        "family": family.pk,
        "person": mother.pk,
        "consent": consent.pk,
        "conference": conference_create(
            family=family, scheduled_at=timezone.now() + datetime.timedelta(days=2), acting_user=case_manager
        ).pk,
        # the signed agreement to the plan
        "plan": plan_create(family=family, acting_user=case_manager).pk,
    }
    response = _upload(api, kind, targets[kind])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert body["family"] == str(family.pk)
    assert body["person"] == (str(mother.pk) if kind in ("person", "consent") else None)
    document = Document.objects.get(pk=body["id"])
    # at rest: no plaintext in the storage, no plaintext file name or key in the database
    with document_storage().open(document.storage_name, "rb") as handle:
        stored = handle.read()
    assert b"Amina" not in stored and b"%PDF" not in stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT filename, data_key FROM casemgmt_document WHERE id = %s", [document.pk.hex])
        filename, data_key = cursor.fetchone()
    assert crypto.version_of(bytes(filename)) == "e2" and crypto.version_of(bytes(data_key)) == "e2"
    assert b"Haddad" not in bytes(filename)
    download = api.get(f"{URL}{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert "Haddad" not in download["Content-Disposition"]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS, object_pk=body["id"]).latest("id")
    assert "download" in entry.additional_data["endpoint"]


def test_content_type_is_sniffed_not_trusted(api, family) -> None:  # type: ignore[no-untyped-def]
    assert (
        _upload(api, "family", family.pk, PNG, "scan.pdf", "application/pdf").json()["content_type"]
        == "image/png"
    )
    assert (
        _upload(api, "family", family.pk, JPEG, "a.png", "image/png").json()["content_type"] == "image/jpeg"
    )
    for content, name, claimed in [
        (b"<html><script>alert(1)</script>", "x.pdf", "application/pdf"),
        (b"MZ\x90\x00" + os.urandom(100), "x.png", "image/png"),
        (b"GIF89a" + os.urandom(100), "x.gif", "image/gif"),
    ]:
        response = _upload(api, "family", family.pk, content, name, claimed)
        assert response.status_code == 400 and "unsupported_type" in response.content.decode(), (
            response.content
        )


@override_settings(DOCUMENT_MAX_BYTES=1000)
def test_oversize_is_refused(api, family) -> None:  # type: ignore[no-untyped-def]
    response = _upload(api, "family", family.pk, PDF)
    assert response.status_code == 400 and "too_large" in response.content.decode()
    assert not Document.objects.exists()
    assert _upload(api, "family", family.pk, PNG).status_code == 201


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"target_kind": "goal"}, "invalid_choice"),
        ({"target_kind": 5}, "invalid_choice"),
        ({"target_id": "not-a-uuid"}, "invalid"),
        ({"target_id": "00000000-0000-0000-0000-000000000000"}, "does_not_exist"),
        ({"file": ""}, None),
    ],
)
def test_bad_input(api, family, data, code) -> None:  # type: ignore[no-untyped-def]
    body = {
        "target_kind": "family",
        "target_id": str(family.pk),
        "file": SimpleUploadedFile("a.pdf", PDF),
        **data,
    }
    response = api.post(URL, body, format="multipart")
    assert response.status_code == 400, response.content
    if code:
        assert code in response.content.decode()


def test_empty_file_and_json_body(api, family) -> None:  # type: ignore[no-untyped-def]
    assert _upload(api, "family", family.pk, b"").status_code == 400
    response = api.post(URL, {"target_kind": "family", "target_id": str(family.pk)}, format="json")
    assert response.status_code == 415


def test_foreign_targets_and_documents(
    api, family, mother, other_case_manager, other_district, case_manager
) -> None:  # type: ignore[no-untyped-def]
    foreign = make_family(other_case_manager, other_district)
    stranger = make_person(foreign, other_case_manager)
    for kind, target in [("family", foreign.pk), ("person", stranger.pk)]:
        response = _upload(api, kind, target)
        assert response.status_code == 400 and "does_not_exist" in response.content.decode()
    document = _upload(api, "person", mother.pk).json()
    other = client_for(other_case_manager)
    assert other.get(f"{URL}{document['id']}/").status_code == 404
    assert other.get(f"{URL}{document['id']}/download/").status_code == 404
    assert other.delete(f"{URL}{document['id']}/").status_code == 404
    assert other.get(URL).json()["count"] == 0


def test_delete_removes_the_file(api, family) -> None:  # type: ignore[no-untyped-def]
    body = _upload(api, "family", family.pk).json()
    name = Document.objects.get(pk=body["id"]).storage_name
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.delete(f"{URL}{body['id']}/").status_code == 204
    assert not document_storage().exists(name)


def test_list_filters(api, family, mother) -> None:  # type: ignore[no-untyped-def]
    _upload(api, "family", family.pk)
    _upload(api, "person", mother.pk)
    assert api.get(URL).json()["count"] == 2
    assert api.get(URL, {"target_kind": "person"}).json()["count"] == 1
    assert api.get(URL, {"target_id": str(mother.pk)}).json()["count"] == 1
    assert api.get(URL, {"target_kind": "nope"}).status_code == 400
    assert api.get(URL, {"family": "nope"}).status_code == 400


def test_list_query_count_is_flat(api, family, mother) -> None:  # type: ignore[no-untyped-def]
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import app_queries

    _upload(api, "family", family.pk)
    api.get(URL)
    with CaptureQueriesContext(connection) as small:
        assert api.get(URL).status_code == 200
    for _ in range(5):
        _upload(api, "person", mother.pk, PNG)
    with CaptureQueriesContext(connection) as large:
        assert api.get(URL).json()["count"] == 6
    assert len(app_queries(large.captured_queries)) == len(app_queries(small.captured_queries))


def test_every_document_target_is_a_choice_with_labels() -> None:
    """Declared once in DOCUMENT_TARGETS: the choice, the API enum and the export labels follow."""
    from casemgmt.models import DOCUMENT_TARGETS
    from privacy.rendering import DOCUMENT_TARGET_LABELS

    assert set(DOCUMENT_TARGETS) == set(Document.TargetKind.values)
    for lang in ("en", "de"):
        assert set(DOCUMENT_TARGET_LABELS[lang]) == set(DOCUMENT_TARGETS)


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_large_upload_never_lies_in_clear_in_a_temporary_file(api, family, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    """Above the in-memory limit Django spools uploads to disk: that file must be ciphertext."""
    import glob

    from casemgmt import uploads

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    seen: list[bytes] = []
    complete = uploads.EncryptedTemporaryUploadedFile.complete

    def spy(self, size):  # type: ignore[no-untyped-def]
        complete(self, size)
        for path in glob.glob(str(tmp_path / "*")):
            with open(path, "rb") as handle:
                seen.append(handle.read())

    content = PDF + b"Aufenthaltstitel Amina Haddad " * 5000  # > 64 KiB segments, not a multiple
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uploads.EncryptedTemporaryUploadedFile, "complete", spy)
        response = _upload(api, "family", family.pk, content)
    assert response.status_code == 201, response.content
    assert seen and all(b"Haddad" not in data and b"%PDF" not in data for data in seen)
    assert len(seen[0]) > len(content)  # the whole upload was there, encrypted
    assert not list(tmp_path.iterdir())  # and is gone after the request
    download = api.get(f"{URL}{response.json()['id']}/download/")
    assert b"".join(download.streaming_content) == content


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 3 * 65536, 200_000])
def test_segment_writer_writes_what_encrypt_stream_writes(size) -> None:  # type: ignore[no-untyped-def]
    import io

    from privacy.streaming import DecryptingReader, SegmentWriter, decrypt_stream, encrypt_stream

    data, key = os.urandom(size), os.urandom(32)
    sink = io.BytesIO()
    writer = SegmentWriter(sink, key=key, context="c")
    for start in range(0, size, 7000):
        writer.write(data[start : start + 7000])
    writer.close()
    assert len(sink.getvalue()) == len(b"".join(encrypt_stream([data], key=key, context="c")))
    sink.seek(0)
    assert b"".join(decrypt_stream(sink, key=key, context="c")) == data
    reader = DecryptingReader(sink, key=key, context="c")
    head = reader.read(5)
    reader.seek(0)
    assert head == data[:5] and reader.read() == data
