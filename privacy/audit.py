"""Audit: what django-auditlog records, how encrypted fields are masked,
the processing activity of every entry, and the read log (one entry per request).

django-auditlog records the *decrypted* value of a field; every encrypted field is
therefore registered as a masked field with a constant mask, so the log shows that the
field changed but holds neither its plaintext nor its ciphertext. Blind index columns
are excluded (they change with the name and would only repeat it as a pseudonym).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from auditlog.context import auditlog_disabled, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.signals import pre_save
from django.http import HttpRequest

from privacy.cipher.fields import BlindIndexField, EncryptedFieldMixin

logger = logging.getLogger(__name__)

MASK = "[encrypted]"
#: Fields never worth an audit row: secrets, bookkeeping that changes on every login, and
#: who changed a record last (the entry names its actor itself).
NEVER_LOGGED = ("password", "last_login", "updated_at", "updated_by")


def mask(value: str) -> str:
    """The mask for encrypted fields: the same constant whatever the value (AUDITLOG_MASK_CALLABLE)."""
    return MASK


#: Bookkeeping that is neither personal data nor a decision anyone is accountable for.
NOT_AUDITED = frozenset({"casemgmt.FamilyReferenceCounter", "casemgmt.PersonSearchTerm"})


#: Records of the privacy app whose changes are decisions someone answers for (the others
#: are themselves the record, e.g. a Restriction or an ErasureRequest).
AUDITED_PRIVACY_MODELS = (
    "ControllerProfile",
    "Rectification",
    "RecipientNotice",
    "Objection",
    "Breach",
    "RecordVersion",
    "RetentionPeriod",
)


def audited_models() -> Iterator[type[models.Model]]:
    """Every domain model: personal data, grants, tenants and the catalogue."""
    for model in apps.get_app_config("casemgmt").get_models():
        if model._meta.label not in NOT_AUDITED:
            yield model
    for name in AUDITED_PRIVACY_MODELS:
        yield apps.get_model("privacy", name)


def register_models() -> None:
    """Register the domain models with django-auditlog (called once from PrivacyConfig.ready)."""
    from auditlog.registry import auditlog

    from casemgmt.models.base import FamilyOwned

    for model in audited_models():
        fields = model._meta.concrete_fields
        auditlog.register(
            model,
            mask_fields=[f.name for f in fields if isinstance(f, EncryptedFieldMixin)],
            exclude_fields=[
                f.name for f in fields if isinstance(f, BlindIndexField) or f.name in NEVER_LOGGED
            ],
            # Links of case records (a consent's members, a conference's agenda) are logged as
            # "Person <id>": ids only. Services change them with set(), never clear() (auditlog
            # would list every row of the related table as removed). A staff account's groups
            # are not: caseloads and deputyships, which change them, are audited rows.
            m2m_fields=(
                {f.name for f in model._meta.many_to_many} if issubclass(model, FamilyOwned) else set()
            ),
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


# --- who writes, and for which processing activity: named by the write itself


class UnattributedWrite(RuntimeError):
    """An audited model was written outside any ``audited()`` scope (no named actor or activity)."""


#: What unattributed writes are filed under when ``AUDIT_REQUIRE_SCOPE`` is off (production).
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True)
class AuditScope:
    """The actor and processing activity of the writes inside one ``audited()`` block."""

    actor: Any
    activity: str
    system: str = ""


_scope: ContextVar[AuditScope | None] = ContextVar("privacy_audit_scope", default=None)


def current_scope() -> AuditScope | None:
    """The innermost ``audited()`` block running now, if any."""
    return _scope.get()


@contextlib.contextmanager
def audited(*, actor: Any, activity: str, system: str = "") -> Iterator[AuditScope]:
    """Attribute every audit entry written inside to ``actor`` under ``activity``, in one transaction.

    Nothing depends on a request being around: the API, the admin, a command and the shell
    write the same attributed entries. ``actor=None`` is allowed only for a named ``system``
    process (a management command), recorded as such.
    """
    from privacy.registry import activities_by_code

    if activity not in activities_by_code():
        raise ValueError(f"Unknown processing activity {activity!r}: declare it in privacy.registry.")
    if actor is None and not system:
        raise ValueError("Name the acting user, or the system process (system=...) that writes.")
    token = _scope.set(AuditScope(actor=actor, activity=activity, system=system))
    try:
        with transaction.atomic():
            yield _scope.get()  # type: ignore[misc]
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def acting_as_system(*, process: str, activity: str) -> Iterator[AuditScope]:
    """A management command or job names itself as the (system) actor of everything it writes.

    Unlike ``audited()`` it opens no transaction: a command spans many (rotation resumes
    batch by batch); each of its writes still audits inside its own.
    """
    from privacy.registry import activities_by_code

    if activity not in activities_by_code():
        raise ValueError(f"Unknown processing activity {activity!r}: declare it in privacy.registry.")
    token = _scope.set(AuditScope(actor=None, activity=activity, system=process))
    try:
        yield _scope.get()  # type: ignore[misc]
    finally:
        _scope.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def audited_write(activity: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a service in one transaction inside ``audited(actor=acting_user, activity=activity)``.

    The decorator form of ``audited()`` for services: one line replaces ``@transaction.atomic``,
    and the service's keyword argument ``acting_user`` is the actor of every entry it writes.
    """

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if "acting_user" not in kwargs:
                raise TypeError(f"{service.__name__}() needs acting_user=...")
            with audited(actor=kwargs["acting_user"], activity=activity):
                return service(*args, **kwargs)

        wrapper.audit_activity = activity  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _attribute(instance: Any) -> None:
    """Actor and activity from the ``audited()`` scope; explicit values on the entry win."""
    scope = _scope.get()
    if scope is None:
        if instance.activity:
            return
        label = _model_label(instance.content_type)
        if getattr(settings, "AUDIT_REQUIRE_SCOPE", False):
            raise UnattributedWrite(f"A write of {label} is not inside audited(actor=..., activity=...).")
        logger.error("Unattributed write of %s: no audited() scope names its actor and activity.", label)
        instance.activity = UNATTRIBUTED
        return
    if not instance.activity:
        instance.activity = scope.activity
    if instance.actor_id is None and getattr(scope.actor, "is_authenticated", False):
        instance.actor = scope.actor
    if scope.system:
        instance.additional_data = {**(instance.additional_data or {}), "system": scope.system}


# --- activity and organisation of each entry (ordering and sealing: privacy/transparency.py)


def _model_label(content_type: ContentType) -> str:
    model = content_type.model_class()
    return model._meta.label if model else f"{content_type.app_label}.{content_type.model}"


def fill_entry(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    """pre_save of an audit entry: activity, organisation and actor.

    The entry is then one INSERT and nothing else: no shared row is locked. The sealer
    (privacy/transparency.py) orders and signs it afterwards.
    """
    if instance.pk is not None:
        return
    _attribute(instance)
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
    tag_emergency_access(instance)


def tag_emergency_access(entry: Any) -> None:
    """Mark an entry made under break-the-glass with the emergency accesses it relied on.

    Reads and writes alike: ``additional_data["emergency_access"]`` lists the ids of the
    running emergency accesses through which alone the actor reaches the objects' family,
    so a reviewer finds every use of an opening. Set before the hash is computed.
    """
    from casemgmt.policies import emergency_accesses_behind

    if entry.actor_id is None:
        return
    ids = entry.object_ids if entry.object_ids else ([entry.object_pk] if entry.object_pk else [])
    accesses = emergency_accesses_behind(entry.actor, entry.content_type.model_class(), [str(i) for i in ids])
    if accesses:
        entry.additional_data = {**(entry.additional_data or {}), "emergency_access": sorted(accesses)}


def connect_signals() -> None:
    from privacy.models import AuditEntry

    pre_save.connect(fill_entry, sender=AuditEntry, dispatch_uid="privacy_audit_fill_entry")


# --- reads: one entry per request


@functools.cache
def _entry_insert() -> Any:
    from casemgmt.db.compiled import CompiledInsert
    from privacy.models import AuditEntry

    return CompiledInsert(AuditEntry)


def record_access(
    *,
    actor: Any,
    endpoint: str,
    filters: Iterable[str],
    remote_addr: str | None,
    model: type[models.Model],
    object_ids: Iterable[object],
    activity: str,
    personal_data: bool = True,
    organisation_id: object = None,
    during: Callable[[], object] | None = None,
) -> Any:
    """Record that ``actor`` read these objects (a list, a search, a detail, an export).

    Plain values, so that any caller (the API's ``api.audit.log_access``, a command, an export
    job) records reads the same way. ``filters``: the names of the filters used, never their
    values (searches carry names and dates of birth). ``personal_data=False`` records a read of
    anonymised aggregates (statistics) as such. The organisation is the one the objects
    belong to when the caller knows it, else the reader's (first) organisation, looked up
    inside the INSERT so the read costs no query. ``during``: work to run while the database
    commits the entry (the API renders its response there); the entry is committed before
    this returns (``CompiledInsert.insert_during``).
    """
    from django.db.models import Subquery

    from casemgmt.models import Membership
    from casemgmt.selectors.families import MEMBERSHIP_ORDER
    from privacy.models import AuditEntry

    if auditlog_disabled.get():
        return None  # auditlog's disable_auditlog() switches off the read log too (bench baselines)
    ids = [str(i) for i in object_ids]
    authenticated = getattr(actor, "is_authenticated", False)
    organisation: Any = organisation_id
    if organisation is None and authenticated:
        organisation = Subquery(
            Membership.objects.filter(user_id=actor.pk)
            .order_by(*MEMBERSHIP_ORDER)
            .values("organisation_id")[:1]
        )
    # One INSERT, which is atomic by itself: outside a transaction it needs no BEGIN and
    # COMMIT of its own (two round trips on every read; the sealer chains it later). Compiled
    # once per connection; the signals and field preparation of save() all run.
    entry = AuditEntry(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=ids[0] if len(ids) == 1 else "",
        object_repr=f"{len(ids)} {model._meta.verbose_name_plural}",
        object_ids=ids,
        action=AuditEntry.Action.ACCESS,
        actor=actor if authenticated else None,
        remote_addr=remote_addr,
        activity=activity,
        organisation_id=organisation,
        additional_data={
            "endpoint": endpoint,
            "filters": sorted(filters),
            "personal_data": personal_data,
        },
    )
    if during is None:
        _entry_insert().insert(entry)
    else:
        _entry_insert().insert_during(entry, during)
    return entry


def save_update(instance: models.Model, *, old: models.Model, update_fields: list[str]) -> None:
    """Save an update of ``instance`` and its audit entry, diffed against ``old``.

    django-auditlog's ``pre_save`` receiver re-selects the row to know its old values (one
    statement per save). Where the service has just read the row under a lock, ``old`` (a
    copy taken before the change) is that state: the entry is the one auditlog would write
    (same diff, masking and fields), made with auditlog's own ``model_instance_diff`` and
    ``log_create``, without asking the database again.
    """
    from auditlog.context import disable_auditlog
    from auditlog.diff import model_instance_diff

    from privacy.models import AuditEntry

    with disable_auditlog():
        instance.save(update_fields=update_fields)
    changes = model_instance_diff(
        old,
        instance,
        fields_to_check=update_fields,
        use_json_for_changes=getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False),
    )
    if changes:
        AuditEntry.objects.log_create(instance, action=AuditEntry.Action.UPDATE, changes=changes)


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
    """One audit entry for a bulk write or queryset update that auditlog does not see.

    Actor and activity are the ``audited()`` scope's unless given here.
    """
    from privacy.models import AuditEntry

    ids = [str(i) for i in object_ids]
    with transaction.atomic(savepoint=False):
        return AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk="",
            object_repr=f"{len(ids)} {model._meta.verbose_name_plural} ({note or 'bulk'})",
            object_ids=ids,
            action=action,
            actor=actor,
            activity=activity or "",
            organisation_id=organisation_id,
            additional_data={"bulk": True, "note": note},
        )
