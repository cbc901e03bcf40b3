"""Audit: what django-auditlog records, how encrypted fields are masked, the hash chain,
the processing activity of every entry, and the read log (one entry per request).

django-auditlog records the *decrypted* value of a field; every encrypted field is
therefore registered as a masked field with a constant mask, so the log shows that the
field changed but holds neither its plaintext nor its ciphertext. Blind index columns
are excluded (they change with the name and would only repeat it as a pseudonym).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest

from privacy.fields import BlindIndexField, EncryptedFieldMixin

MASK = "[encrypted]"
#: Fields never worth an audit row: secrets and bookkeeping that changes on every login.
NEVER_LOGGED = ("password", "last_login", "updated_at")


def mask(value: str) -> str:
    """The mask for encrypted fields: the same constant whatever the value (AUDITLOG_MASK_CALLABLE)."""
    return MASK


#: Bookkeeping that is neither personal data nor a decision anyone is accountable for.
NOT_AUDITED = frozenset({"casemgmt.FamilyReferenceCounter"})


def audited_models() -> Iterator[type[models.Model]]:
    """Every domain model: personal data, grants, tenants and the catalogue."""
    for model in apps.get_app_config("casemgmt").get_models():
        if model._meta.label not in NOT_AUDITED:
            yield model


def register_models() -> None:
    """Register the domain models with django-auditlog (called once from PrivacyConfig.ready)."""
    from auditlog.registry import auditlog

    for model in audited_models():
        fields = model._meta.concrete_fields
        auditlog.register(
            model,
            mask_fields=[f.name for f in fields if isinstance(f, EncryptedFieldMixin)],
            exclude_fields=[
                f.name for f in fields if isinstance(f, BlindIndexField) or f.name in NEVER_LOGGED
            ],
        )


def bind_actor(user: Any) -> None:
    """Name the authenticated user as the actor of this request's audit entries.

    The middleware runs before DRF authenticates a token, so it sees no user; DRF's
    authentication calls this once the token is checked.
    """
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["actor"] = user


class TrustedProxyAuditlogMiddleware(AuditlogMiddleware):
    """auditlog's middleware, but ``X-Forwarded-For`` is trusted only behind configured proxies."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request)

    def __call__(self, request: HttpRequest) -> Any:
        # auditlog leaves its context variable set after the response; reset it so that a
        # later write outside any request can never inherit this request's actor.
        token = auditlog_value.set({})
        try:
            return super().__call__(request)
        finally:
            auditlog_value.reset(token)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the address NUM_PROXIES hops back in X-Forwarded-For."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.headers.get("X-Forwarded-For")
    if not proxies or not forwarded:
        return remote
    hops = [part.strip() for part in forwarded.split(",") if part.strip()]
    return hops[-min(int(proxies), len(hops))] if hops else remote  # type: ignore[call-overload]


# --- activity and organisation of each entry, and the hash chain


def _model_label(content_type: ContentType) -> str:
    model = content_type.model_class()
    return model._meta.label if model else f"{content_type.app_label}.{content_type.model}"


def fill_entry(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    """pre_save of an audit entry: activity, organisation, actor, and its link in the hash chain.

    Inside a transaction the entry is chained before it is inserted (head locked, hash
    computed, one INSERT, head updated): three statements per entry. Outside one, the
    post_save fallback chains it afterwards.
    """
    from privacy.registry import activity_for_model

    if instance.pk is not None:
        return
    if not instance.activity:
        instance.activity = activity_for_model(_model_label(instance.content_type))
    extra = instance.additional_data or {}
    if instance.organisation_id is None and extra.get("organisation"):
        instance.organisation_id = extra["organisation"]
    # Apply the request context now (auditlog's own receiver runs after this one and would
    # set the same values), so that the hash covers actor and address.
    try:
        context = auditlog_value.get()
    except LookupError:
        context = {}
    if instance.actor_id is None and getattr(context.get("actor"), "is_authenticated", False):
        instance.actor = context["actor"]
    if instance.remote_addr is None and context.get("remote_addr"):
        instance.remote_addr = context["remote_addr"]
    if instance.seq is None and transaction.get_connection().in_atomic_block:
        from privacy.models import AuditChainHead

        head = AuditChainHead.objects.select_for_update(no_key=True).get(pk=1)
        instance.seq = head.seq + 1
        instance.prev_hash = head.hash
        instance.hash = link_hash(head.hash, instance)
        AuditChainHead.objects.filter(pk=1).update(seq=instance.seq, hash=instance.hash)


def canonical(entry: Any) -> bytes:
    """The content an entry's hash covers: everything but the chain fields themselves."""
    content_type = ContentType.objects.get_for_id(entry.content_type_id)
    data = {
        "seq": entry.seq,
        "model": f"{content_type.app_label}.{content_type.model}",
        "object_pk": str(entry.object_pk),
        "object_repr": str(entry.object_repr),
        "object_ids": entry.object_ids,
        "action": entry.action,
        "changes": entry.changes,
        "changes_text": entry.changes_text,
        "actor": str(entry.actor_id) if entry.actor_id else None,
        "remote_addr": entry.remote_addr,
        "timestamp": entry.timestamp.astimezone(datetime.UTC).isoformat(),
        "activity": entry.activity,
        "organisation": str(entry.organisation_id) if entry.organisation_id else None,
        "additional_data": entry.additional_data,
    }
    return json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()


def link_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(entry)).hexdigest()


def chain_entry(sender: type[models.Model], instance: Any, created: bool, **kwargs: Any) -> None:
    """post_save of an audit entry: append it to the hash chain in the same transaction."""
    if not created or instance.seq is not None:
        return
    from privacy.models import AuditChainHead, AuditEntry

    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update(no_key=True).get_or_create(pk=1)
        stored = AuditEntry.objects.get(pk=instance.pk)
        stored.seq = head.seq + 1
        digest = link_hash(head.hash, stored)
        AuditEntry.objects.filter(pk=instance.pk).update(seq=stored.seq, prev_hash=head.hash, hash=digest)
        instance.seq, instance.prev_hash, instance.hash = stored.seq, head.hash, digest
        head.seq = stored.seq
        head.hash = digest
        head.save(update_fields=["seq", "hash"])


def connect_signals() -> None:
    from privacy.models import AuditEntry

    pre_save.connect(fill_entry, sender=AuditEntry, dispatch_uid="privacy_audit_fill_entry")
    post_save.connect(chain_entry, sender=AuditEntry, dispatch_uid="privacy_audit_chain_entry")


def verify_chain() -> tuple[bool, str, int]:
    """Walk the chain; return (intact, message, entries checked). Finds edits, deletions, gaps.

    Links pruned by retention are below the head's floor; the walk starts from that anchor.
    """
    from privacy.models import AuditChainHead, AuditEntry

    unchained = AuditEntry.objects.filter(seq__isnull=True).order_by("pk").first()
    if unchained is not None:
        return False, f"entry {unchained.pk} is not in the chain", 0
    head = AuditChainHead.objects.filter(pk=1).first()
    floor_seq, floor_hash = (head.floor_seq, head.floor_hash) if head else (0, "0" * 64)
    prev_hash, expected_seq, checked = floor_hash, floor_seq + 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return (
                False,
                f"link {expected_seq} is missing (next entry found: seq {entry.seq}, id {entry.pk})",
                checked,
            )
        if entry.prev_hash != prev_hash:
            return False, f"link {entry.seq} (entry {entry.pk}) does not point to the previous link", checked
        if link_hash(prev_hash, entry) != entry.hash:
            return False, f"link {entry.seq} (entry {entry.pk}) was altered after it was written", checked
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    if head is not None and (head.seq != floor_seq + checked or head.hash != prev_hash):
        return (
            False,
            f"the chain ends at link {floor_seq + checked} but {head.seq} were written: entries were deleted",
            checked,
        )
    pruned = f" (links up to {floor_seq} pruned by retention)" if floor_seq else ""
    return True, f"{checked} entries, chain intact{pruned}", checked


def prune_chain(*, before: datetime.datetime, dry_run: bool) -> int:
    """Delete the oldest audit entries older than ``before`` (audit retention), moving the anchor.

    Only a contiguous prefix of the chain is pruned, so what remains still verifies.
    """
    from privacy.models import AuditChainHead, AuditEntry

    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update(no_key=True).get(pk=1)
        first_kept = (
            AuditEntry.objects.filter(timestamp__gte=before).order_by("seq").values_list("seq", flat=True)
        )
        limit = first_kept[0] - 1 if first_kept else head.seq
        doomed = AuditEntry.objects.filter(seq__gt=head.floor_seq, seq__lte=limit)
        count: int = doomed.count()
        if dry_run or not count:
            return count
        anchor = AuditEntry.objects.get(seq=limit)
        head.floor_seq, head.floor_hash = limit, anchor.hash
        head.save(update_fields=["floor_seq", "floor_hash"])
        doomed.delete()
    return count


# --- reads: one entry per request


def log_access(
    *,
    request: Any,
    model: type[models.Model],
    object_ids: Iterable[object],
    activity: str | None = None,
    personal_data: bool = True,
) -> Any:
    """Record that ``request.user`` read these objects (a list, a search, a detail, an export).

    ``personal_data=False`` records a read of anonymised aggregates (statistics) as such.
    """
    from privacy.models import AuditEntry
    from privacy.registry import activity_for_model

    ids = [str(i) for i in object_ids]
    route = getattr(getattr(request, "resolver_match", None), "route", "") or request.path
    with transaction.atomic(savepoint=False):
        return AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=ids[0] if len(ids) == 1 else "",
            object_repr=f"{len(ids)} {model._meta.verbose_name_plural}",
            object_ids=ids,
            action=AuditEntry.Action.ACCESS,
            actor=request.user if getattr(request.user, "is_authenticated", False) else None,
            remote_addr=client_address(request._request if hasattr(request, "_request") else request),
            activity=activity or activity_for_model(model._meta.label),
            # Filter names only, never their values: searches carry names and dates of birth.
            additional_data={
                "endpoint": f"{request.method} /{route}",
                "filters": sorted(request.GET.keys()),
                "personal_data": personal_data,
            },
        )


def log_bulk(
    *,
    model: type[models.Model],
    action: int,
    object_ids: Iterable[object],
    actor: Any = None,
    activity: str | None = None,
    organisation_id: object = None,
    note: str = "",
) -> Any:
    """One audit entry for a bulk write or queryset update that auditlog does not see."""
    from privacy.models import AuditEntry
    from privacy.registry import activity_for_model

    ids = [str(i) for i in object_ids]
    with transaction.atomic(savepoint=False):
        return AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk="",
            object_repr=f"{len(ids)} {model._meta.verbose_name_plural} ({note or 'bulk'})",
            object_ids=ids,
            action=action,
            actor=actor,
            activity=activity or activity_for_model(model._meta.label),
            organisation_id=organisation_id,
            additional_data={"bulk": True, "note": note},
        )
