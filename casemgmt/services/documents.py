"""Writes of encrypted documents: upload (sniff, limit, encrypt while streaming) and erasure of files.

The upload is read in chunks and encrypted segment by segment on its way into the storage,
so memory stays flat whatever the file size. The content type is decided from the file's
first bytes (PDF, PNG, JPEG); what the client claims is ignored. Downloads are reads
(``casemgmt.selectors.documents``) and are audited there.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import models

from casemgmt import policies
from casemgmt.models import DOCUMENT_TARGETS, Document, Family, User
from casemgmt.services.common import invalid, require_not_restricted, require_open_family
from privacy.audit import audited_write
from privacy.registry import Activity
from privacy.streaming import EncryptingReader, new_data_key

#: File signatures accepted: the first bytes decide the type, never the client's header.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", Document.ContentType.PDF),
    (b"\x89PNG\r\n\x1a\n", Document.ContentType.PNG),
    (b"\xff\xd8\xff", Document.ContentType.JPEG),
)
SNIFF_BYTES = 8


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes, or None for anything else."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def max_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024))


def document_storage() -> Any:
    return storages["documents"]


def resolve_target(kind: str, target_id: Any) -> tuple[models.Model, Any, Any]:
    """The record a document is attached to, with its family id and person id (or None)."""
    target = DOCUMENT_TARGETS.get(kind)
    if target is None:
        raise invalid("target_kind", "Not a kind of record that carries documents.", "invalid_choice")
    model = apps.get_model(target.model)
    try:
        record = model._default_manager.get(pk=target_id)
    except (ValueError, TypeError, ValidationError):
        raise model.DoesNotExist("No such record.") from None  # type: ignore[attr-defined]
    family_id = record.pk if target.family_attr == "pk" else getattr(record, target.family_attr)
    person_id = (
        (record.pk if target.person_attr == "pk" else getattr(record, target.person_attr))
        if target.person_attr
        else None
    )
    return record, family_id, person_id


def _limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Pass chunks through, refusing as soon as more than ``limit`` bytes came."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise invalid("file", f"The file is larger than {limit} bytes.", "too_large")
        yield chunk


@audited_write(Activity.CASE_MANAGEMENT)
def document_create(
    *, target_kind: str, target_id: Any, upload: File[bytes], acting_user: User, filename: str = ""
) -> Document:  # type: ignore[type-arg]
    """Attach an uploaded file to a record of a case the caller works on, encrypted on its way in."""
    record, family_id, person_id = resolve_target(target_kind, target_id)
    family = Family.objects.get(pk=family_id)
    # Another tenant's, an unassigned or a restricted record: "not found", as if it did not exist.
    if target_kind == "family":
        policies.require_case_access(acting_user, family)
    else:
        policies.require_case_record(acting_user, record)
    require_open_family(family)
    if person_id is not None:
        require_not_restricted(family.members.get(pk=person_id))
    limit = max_bytes()
    size = upload.size or 0
    if size > limit:
        raise invalid("file", f"The file is larger than {limit} bytes.", "too_large")
    if size == 0:
        raise invalid("file", "The file is empty.", "empty")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    content_type = sniff(head)
    if content_type is None:
        raise invalid("file", "Only PDF, PNG and JPEG files are accepted.", "unsupported_type")
    upload.seek(0)
    key = new_data_key()
    document = Document(
        id=uuid.uuid4(),
        family=family,
        person_id=person_id,
        target_kind=target_kind,
        target_id=record.pk,
        content_type=content_type,
        size=size,
        filename=filename[:255],
        data_key=base64.b64encode(key).decode("ascii"),
        created_by=acting_user,
    )
    document.storage_name = f"{uuid.uuid4().hex}.bin"
    document.full_clean()
    reader = EncryptingReader(_limited(upload.chunks(), limit), key=key, context=f"document|{document.pk}")
    encrypted = File(reader, name=document.storage_name)  # type: ignore[arg-type]
    stored = document_storage().save(document.storage_name, encrypted)
    document.storage_name = stored
    try:
        document.save()
    except Exception:
        document_storage().delete(stored)
        raise
    return document


@audited_write(Activity.CASE_MANAGEMENT)
def document_delete(*, document: Document, acting_user: User) -> None:
    """Remove a wrongly attached document: the row, the wrapped key and the stored file."""
    policies.require_case_record(acting_user, document)
    require_open_family(document.family)
    name = document.storage_name
    document.delete()
    from django.db import transaction

    transaction.on_commit(lambda: delete_stored_files([name]))


def delete_stored_files(names: list[str]) -> None:
    """Delete stored files by name (after erasure or deletion has committed)."""
    storage = document_storage()
    for name in names:
        if name:
            storage.delete(name)
