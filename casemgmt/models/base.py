"""What every audited model tells the rest of the system about itself, declared once.

A model says, next to its fields, which processing activity it serves and, if it belongs
to a family's case, its path to the family and to the person it concerns and how it is
anonymised. The registry, erasure, retention, the Art. 15 export and the audit iterate
these declarations instead of keeping lists of their own (``family_owned_models``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.apps import apps
from django.db import models

#: Apps whose models carry declarations.
DECLARING_APPS = ("casemgmt", "privacy")


class AuditContextMixin:
    """Names the organisation an audit entry concerns, so each DPO sees their own tenant's log.

    ``ORGANISATION_PATH`` is an attribute path from the instance to an organisation id,
    e.g. ``"family.organisation_id"``; empty for objects of no single organisation.
    ``PROCESSING_ACTIVITY`` is the registry activity this model serves (reads of it are
    audited under it unless a view names another).
    """

    ORGANISATION_PATH: ClassVar[str] = ""
    PROCESSING_ACTIVITY: ClassVar[str] = ""
    #: For each further activity (``ALSO_PROCESSED_FOR``): the fields it actually uses. The
    #: record derives that activity's data categories from these fields only, not the whole
    #: model (statistics count goal statuses; they do not process the goal's notes).
    FIELD_USE: ClassVar[dict[str, tuple[str, ...]]] = {}

    def get_additional_data(self) -> dict[str, Any] | None:
        """Called by django-auditlog when it writes an entry for this object."""
        if not self.ORGANISATION_PATH:
            return None
        value: Any = self
        for part in self.ORGANISATION_PATH.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return {"organisation": str(value)}


@dataclass(frozen=True)
class ExportContext:
    """What a field of the Art. 15 export may depend on: language and whether it is the redacted copy."""

    lang: str = "en"
    redact: bool = False
    #: What stands in for household-level text in the copy for the subject (Art. 15(4)).
    marker: str = ""

    def household(self, text: str) -> str:
        """Household-level text, blacked out in the subject's copy (it may concern other members)."""
        return self.marker if self.redact and text else text


#: An export field: an attribute path from the record (dots follow relations; a missing
#: relation gives None), or a function of the record and the export context.
ExportField = str | Callable[[Any, ExportContext], Any]


def own(*names: str) -> dict[str, ExportField]:
    """Export fields under their own names."""
    return {name: name for name in names}


def field_of_action_label(record: Any, context: ExportContext) -> str:
    """The field of action of a goal or assessment as the organisation names it, in German if asked."""
    field_of_action = record.field_of_action
    return str((field_of_action.name_de if context.lang == "de" else "") or field_of_action.name)


@dataclass(frozen=True)
class SubjectExport:
    """How a family-owned record appears in the Art. 15 subject access export.

    ``privacy.exports`` iterates these declarations: which rows concern the person follows
    from the model's ``PERSON_PATH`` / ``FAMILY_PATH`` (the person's own rows, and the
    household's rows without a person), so a new record is exported by declaring this.

    ``section``: key of the rows in the export (a dotted key nests: ``"status.objections"``).
    ``label``: the section's heading per language, for the HTML document.
    ``fields``: output key -> ``ExportField``; ``id`` and ``household_level`` are added
    when ``with_id`` / ``household_flag``.
    ``household_text``: fields blacked out on household-level rows in the subject's copy.
    ``within`` / ``parent``: a child record listed inside its parent's rows (reviews of a
    goal): the parent's section and the name of the foreign key to it.
    ``concerns``: for household-level records, paths to persons of which one must be the
    subject (conferences: those they took part in or that decided their goals).
    ``covers``: paths to further persons a row is about, whose export lists it too (a consent
    given by one member that covers another member's data: ``members``).
    ``where``: further filters (documents: not yet anonymised).
    ``single``: the section is one object, not a list (the subject, the household).
    """

    section: str
    label: Mapping[str, str]
    fields: Mapping[str, ExportField]
    with_id: bool = True
    household_flag: bool = True
    household_text: tuple[str, ...] = ()
    within: str = ""
    parent: str = ""
    concerns: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    where: Mapping[str, Any] = field(default_factory=dict)
    single: bool = False


class FamilyOwned(AuditContextMixin):
    """A record of a family's case: declares its paths, activity and anonymisation rule.

    ``FAMILY_PATH``: ORM lookup from the record to its family's id (``"pk"`` for Family).
    ``PERSON_PATH``: lookup to the id of the member it concerns; empty for household-level
    records, which go with the family (erasure of one person leaves them).
    ``ALSO_PROCESSED_FOR``: further activities that use it (e.g. anonymised statistics).
    ``ANONYMISE``: per field, ``"clear"`` ("" or NULL) or ``"mark"`` (a fixed placeholder
    for required names); fields not named are kept as coarse facts.
    """

    FAMILY_PATH: ClassVar[str]
    PERSON_PATH: ClassVar[str] = ""
    #: Paths to every person whose Art. 18 restriction hides the record; by default the
    #: person it concerns (``PERSON_PATH``).
    RESTRICTION_PATHS: ClassVar[tuple[str, ...] | None] = None
    ALSO_PROCESSED_FOR: ClassVar[tuple[str, ...]] = ()
    ANONYMISE: ClassVar[dict[str, str]] = {}
    #: How the record appears in the Art. 15 export; None only for records without a person
    #: link that are not the subject's data (tests/casemgmt/test_declarations.py lists why).
    SUBJECT_EXPORT: ClassVar[SubjectExport | None] = None


class CaseRecord(FamilyOwned, models.Model):
    """The fields every case-work record has: id, who recorded it and when, last change.

    A case record has a ``family`` foreign key, so its paths to the family and the
    organisation are the defaults below; a record that differs (Family, Handover) says so.
    """

    ORGANISATION_PATH: ClassVar[str] = "family.organisation_id"
    FAMILY_PATH: ClassVar[str] = "family_id"
    #: The bookkeeping fields below: technical, classified once here for every record.
    RECORD_FIELDS: ClassVar[tuple[str, ...]] = ("id", "created_by", "created_at", "updated_by", "updated_at")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey("casemgmt.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        "casemgmt.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Who changed it last comes from the ``audited()`` scope, the same actor the audit names.

        Set here rather than by each service, so the admin, a command and the shell record it
        too; a system process (retention, key rotation) leaves no user, and says so as None.
        """
        from privacy.audit import current_scope

        scope = current_scope()
        # No scope: an unattributed write (refused in tests, logged in production); naming
        # the previous editor for it would misattribute the change, so nobody is named.
        actor = scope.actor if scope is not None and getattr(scope.actor, "is_authenticated", False) else None
        self.updated_by = actor
        if self._state.adding and self.created_by_id is None and actor is not None:
            self.created_by = actor
        update_fields = kwargs.get("update_fields")
        if update_fields:  # an empty list saves nothing, as in Django
            kwargs["update_fields"] = {*update_fields, "updated_by", "updated_at"}
        super().save(*args, **kwargs)


def declaring_models() -> Iterator[type[models.Model]]:
    """Every concrete model of the apps that declare (casemgmt, privacy)."""
    for label in DECLARING_APPS:
        yield from apps.get_app_config(label).get_models()


def family_owned_models() -> list[type[models.Model]]:
    """Every declared record of a family's case, in the apps' model order."""
    return [m for m in declaring_models() if issubclass(m, FamilyOwned)]


def person_link(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` name a person (its own ``PERSON_PATH`` or a restriction path)."""
    return bool(restriction_paths(model))


def restriction_paths(model: type[models.Model]) -> tuple[str, ...]:
    """ORM paths to the persons whose restriction hides rows of ``model`` (policies.not_restricted)."""
    explicit: tuple[str, ...] | None = getattr(model, "RESTRICTION_PATHS", None)
    if explicit is not None:
        return explicit
    path: str = getattr(model, "PERSON_PATH", "")
    return (path,) if path else ()


def processing_activity(model: type[models.Model]) -> str:
    """The activity a model declares; a model without one is a programming error."""
    activity: str = getattr(model, "PROCESSING_ACTIVITY", "")
    if not activity:
        raise LookupError(f"{model._meta.label} declares no PROCESSING_ACTIVITY.")
    return activity
