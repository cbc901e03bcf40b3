"""Transparent encrypted model fields and blind index fields.

Models use these like ordinary fields; values are encrypted in ``get_db_prep_value`` and
decrypted on first access. The column is binary (``bytea``, ``BLOB``: the stored form of
``privacy.cipher.crypto``) whatever the plaintext's type; ``max_length`` still limits the
plaintext through validation.
"""

from __future__ import annotations

import datetime
import uuid
from functools import cached_property
from typing import Any

from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Exact
from django.db.models.query_utils import DeferredAttribute

from privacy.cipher import crypto
from privacy.cipher.blind_index import INDEX_MAX_LENGTH, blind_index
from privacy.cipher.normalise import normalise_name


class Sealed:
    """A stored ciphertext not yet opened: decrypted on first access, with its row's key.

    ``from_db_value`` does not know the row, so it hands this to the model instance; the
    field's descriptor opens it with the instance's primary key. ``values()`` queries get
    it unopened, and its ``repr`` never shows the ciphertext.
    """

    __slots__ = ("stored",)

    def __init__(self, stored: bytes | str) -> None:
        self.stored = stored

    def __repr__(self) -> str:
        return "<encrypted>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.stored)


class BoundCiphertext(bytes):
    """A ciphertext already bound to its row; ``get_prep_value`` passes it through."""

    __slots__ = ()


class EncryptedAttribute(DeferredAttribute):
    """Descriptor that opens a :class:`Sealed` value with the instance's primary key."""

    field: Any

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(value.stored, pk=instance.pk)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        # A data descriptor, so that reads always pass through __get__ (an instance
        # __dict__ entry would otherwise shadow a non-data descriptor).
        instance.__dict__[self.field.attname] = value


def row_key(model: type[models.Model], pk: Any) -> str:
    """The canonical text of a primary key in associated data (a UUID in its hyphenated form)."""
    if type(pk) is uuid.UUID:  # the common case, without the field's to_python
        return str(pk)
    return str(model._meta.pk.to_python(pk))  # type: ignore[union-attr]


class EncryptedFieldMixin:
    """Encrypt on the way to the database, decrypt on the way back; refuse value lookups.

    A lookup such as ``name="Ali"`` cannot work on randomised ciphertext, and silently
    returning no rows (as some libraries do) hides bugs: it raises instead. Search goes
    through blind indexes.

    Every value is bound to its row: the primary key is part of the associated data, so
    the model's primary key must be known before the first save (a UUID default; a test
    checks every model). Values are encrypted in ``pre_save`` (``save()`` and
    ``bulk_create()``); a queryset ``update()`` must pass :meth:`seal`-ed values, anything
    else raises. Empty strings are stored empty: the ciphertext length would show it anyway.
    """

    encrypted = True
    descriptor_class = EncryptedAttribute
    _allowed_lookups = frozenset({"isnull"})

    model: type[models.Model]
    column: str
    attname: str

    def get_internal_type(self) -> str:
        return "BinaryField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        return models.BinaryField().db_type(connection)

    @cached_property
    def encryption_context(self) -> str:
        # Read per value; the field's model and column do not change once the model is built.
        return f"{self.model._meta.db_table}.{self.column}"

    def serialise(self, value: Any) -> str:
        return str(value)

    def deserialise(self, value: str) -> Any:
        return value

    def seal(self, value: Any, *, pk: Any) -> Any:
        """The stored form of ``value`` in the row ``pk`` (for ``update()`` and rotation)."""
        if value is None:
            return None
        text = self.serialise(value)
        if text == "":
            return BoundCiphertext(b"")
        if pk is None:
            raise FieldError(
                f"Encrypted field {self.model.__name__}.{self.column} needs the primary key "
                "before saving: ciphertexts are bound to their row."
            )
        return BoundCiphertext(
            crypto.encrypt(text, context=self.encryption_context, row=row_key(self.model, pk))
        )

    def open(self, stored: bytes | memoryview | str, *, pk: Any) -> Any:
        """Decrypt a stored value of the row ``pk``; :class:`DecryptionError` if it was moved."""
        row = None if pk is None else row_key(self.model, pk)
        return self.deserialise(crypto.decrypt(stored, context=self.encryption_context, row=row))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return self.seal(getattr(model_instance, self.attname), pk=model_instance.pk)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, BoundCiphertext):
            return None if value is None else bytes(value)
        if isinstance(value, str | bytes) and not value:  # bytes: the schema editor's default
            return b""
        raise FieldError(
            f"Encrypted field {self.model.__name__}.{self.column} is written only through save(), "
            "bulk_create() or a value from field.seal(value, pk=...): ciphertexts are bound to their row."
        )

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        # Skip the parent's adaptation (e.g. DateField's adapt_datefield_value): the
        # database only ever sees the ciphertext string.
        if not prepared:
            value = self.get_prep_value(value)
        return value

    def from_db_value(self, value: bytes | memoryview | str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if not value:  # an empty string is stored empty
            return ""
        # bytes from both drivers; a memoryview from others; text from a column not yet converted
        return Sealed(bytes(value) if isinstance(value, memoryview) else value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            # ``filter(field=None)`` goes through "exact" before Django turns it into isnull.
            return _NoneOnlyExact
        if lookup_name not in self._allowed_lookups:
            raise FieldError(
                f"Encrypted field {self.model.__name__}.{self.column} supports only isnull "
                f"lookups, not {lookup_name!r}: search through its blind index."
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"Encrypted field {self.model.__name__}.{self.column} has no transforms.")

    def value_to_string(self, obj: models.Model) -> str:
        # dumpdata would write plaintext into fixtures: refuse loudly instead.
        raise FieldError(
            f"Encrypted field {self.model.__name__}.{self.column} is not serialisable: "
            "fixtures must never hold personal data."
        )


class _NoneOnlyExact(Exact):  # type: ignore[type-arg]
    """``exact`` on an encrypted field, allowed only as ``= None`` (which becomes isnull)."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs is not None:
            field = lhs.output_field
            raise FieldError(
                f"Encrypted field {field.model.__name__}.{field.column} supports only isnull "
                "lookups, not 'exact': search through its blind index."
            )
        super().__init__(lhs, rhs)


class EncryptedCharField(EncryptedFieldMixin, models.CharField):  # type: ignore[misc,type-arg]
    """A CharField stored as AES-GCM ciphertext; ``max_length`` limits the plaintext."""


class EncryptedTextField(EncryptedFieldMixin, models.TextField):  # type: ignore[misc,type-arg]
    """A TextField stored as AES-GCM ciphertext; unlike Django's, ``max_length`` is enforced."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))


class EncryptedDateField(EncryptedFieldMixin, models.DateField):  # type: ignore[misc,type-arg]
    """A DateField stored as AES-GCM ciphertext of its ISO form."""

    def serialise(self, value: Any) -> str:
        return str(self.to_python(value).isoformat())

    def deserialise(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """Truncated keyed HMAC of one or more source fields, recomputed on every save.

    The model provides ``blind_index_district()`` (the id of its top-level organisation):
    index keys are derived per district tree. The bit length comes from the plan of the
    index ``context`` in :data:`privacy.cipher.blind_index.PLANS`.

    ``sources`` name the fields whose normalised values are joined (with a space) before
    hashing, e.g. ``("given_name", "family_name")`` for a full-name index. ``context`` names
    the index space; two indexes that share it can be searched with the same terms.
    """

    def __init__(
        self,
        *args: Any,
        sources: tuple[str, ...] = (),
        context: str = "",
        normaliser: str = "name",
        **kwargs: Any,
    ) -> None:
        self.sources = tuple(sources)
        self.context = context
        self.normaliser = normaliser
        kwargs.setdefault("max_length", INDEX_MAX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        kwargs["context"] = self.context
        kwargs["normaliser"] = self.normaliser
        for key, default in (
            ("max_length", INDEX_MAX_LENGTH),
            ("editable", False),
            ("db_index", True),
            ("null", True),
            ("blank", True),
        ):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def normalise(self, value: Any) -> str:
        if value is None:
            return ""
        if self.normaliser == "date":
            return value.isoformat() if isinstance(value, datetime.date) else str(value)
        return normalise_name(str(value))

    def compute(self, instance: models.Model, *, kid: str | None = None) -> str | None:
        parts = [self.normalise(getattr(instance, source)) for source in self.sources]
        if not all(parts):
            return None
        # Keys per district tree: the model names its top-level organisation.
        district = instance.blind_index_district()  # type: ignore[attr-defined]
        return blind_index(" ".join(parts), context=self.context, district=district, kid=kid)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def blind_index_fields_for(model: type[models.Model], changed: set[str]) -> list[str]:
    """The blind index fields to re-save when ``changed`` fields are saved with ``update_fields``."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, BlindIndexField) and changed.intersection(f.sources)
    ]
