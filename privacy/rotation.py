"""Key rotation and key checks over every encrypted value and blind index.

``rotate`` re-encrypts values whose key id is not the active one and recomputes blind
indexes made with an inactive index key, in primary-key batches; a row already under the
active keys is skipped, so an interrupted run resumes where it stopped. Before writing
anything it checks that every stored value decrypts: a missing key stops the run with
nothing changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from privacy import crypto
from privacy.fields import BlindIndexField, EncryptedFieldMixin
from privacy.keys import blind_index_keyring, encryption_keyring

Progress = Callable[[str], None]


def encrypted_models() -> Iterator[tuple[type[models.Model], list[Any], list[BlindIndexField]]]:
    """Every model with encrypted fields, with those fields and its blind indexes."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
            yield model, fields, indexes


def _raw_batches(
    model: type[models.Model], columns: list[str], batch: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Stored (raw) values in primary-key order, never decrypted on the way."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    last: Any = None
    while True:
        with connection.cursor() as cursor:
            if last is None:
                cursor.execute(f"SELECT {pk}, {cols} FROM {table} ORDER BY {pk} LIMIT %s", [batch])  # noqa: S608
            else:
                cursor.execute(
                    f"SELECT {pk}, {cols} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s",  # noqa: S608
                    [last, batch],
                )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


@dataclass
class KeyReport:
    """Which key ids hold how many values, and what does not decrypt."""

    values_by_key: Counter[str] = field(default_factory=Counter)
    indexes_by_key: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_keys(*, batch: int = 1000, max_failures: int = 20) -> KeyReport:
    """Decrypt every stored value; count values per key id; list the first failures."""
    report = KeyReport()
    for model, fields, indexes in encrypted_models():
        columns = [f.column for f in fields] + [f.column for f in indexes]
        for rows in _raw_batches(model, columns, batch):
            for row in rows:
                pk, values = row[0], row[1:]
                for f, value in zip(fields, values[: len(fields)], strict=True):
                    if value is None:
                        continue
                    try:
                        report.values_by_key[crypto.key_id_of(value)] += 1
                        crypto.decrypt(value, context=f.encryption_context)
                    except crypto.DecryptionError as exc:
                        if len(report.failures) < max_failures:
                            report.failures.append(f"{model._meta.db_table}.{f.column} row {pk}: {exc}")
                for value in values[len(fields) :]:
                    if value:
                        report.indexes_by_key[str(value).split(":", 1)[0]] += 1
    return report


@dataclass
class RotationResult:
    rows_rotated: int = 0
    rows_seen: int = 0
    per_model: dict[str, int] = field(default_factory=dict)


def _needs_rotation(values: tuple[Any, ...], n_fields: int, active: str, index_active: str) -> bool:
    for value in values[:n_fields]:
        if value is not None and not str(value).startswith(f"{crypto.PREFIX}:{active}:"):
            return True
    return any(value and not str(value).startswith(f"{index_active}:") for value in values[n_fields:])


def rotate(*, batch: int = 500, progress: Progress | None = None) -> RotationResult:
    """Bring every value under the active keys; resumable, refuses to start if a value is unreadable."""
    report = check_keys()
    if not report.ok:
        raise crypto.DecryptionError(
            "Not rotating: some stored values do not decrypt with the configured keys "
            f"(first: {report.failures[0]}). Configure the missing key and run check_keys."
        )
    active, index_active = encryption_keyring().active, blind_index_keyring().active
    result = RotationResult()
    for model, fields, indexes in encrypted_models():
        columns = [f.column for f in fields] + [f.column for f in indexes]
        done = 0
        for rows in _raw_batches(model, columns, batch):
            stale = [row[0] for row in rows if _needs_rotation(row[1:], len(fields), active, index_active)]
            result.rows_seen += len(rows)
            if stale:
                with transaction.atomic():
                    # Decrypt through the ORM, write back through a queryset update: the
                    # values are re-encrypted under the active key and indexes recomputed,
                    # without touching updated_at or writing audit noise for unchanged data.
                    for obj in model._default_manager.filter(pk__in=stale).select_for_update(no_key=True):
                        changes = {f.attname: getattr(obj, f.attname) for f in fields}
                        changes.update({ix.attname: ix.compute(obj) for ix in indexes})
                        model._default_manager.filter(pk=obj.pk).update(**changes)
                done += len(stale)
                if progress:
                    progress(f"{model._meta.label}: {done} rows rotated so far")
        result.per_model[model._meta.label] = done
        result.rows_rotated += done
    return result
