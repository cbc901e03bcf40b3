"""Key rotation and key checks over every encrypted value and blind index.

``rotate`` re-encrypts values whose key id is not the active one or that are not yet
row-bound (``e1``), recomputes blind indexes and person search terms made with an
inactive index key, in primary-key batches; a row already current is skipped, so an
interrupted run resumes where it stopped. Before writing
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

from privacy.cipher import crypto
from privacy.cipher.fields import BlindIndexField, EncryptedFieldMixin
from privacy.cipher.keys import blind_index_keyring, encryption_keyring

Progress = Callable[[str], None]


def encrypted_models() -> Iterator[tuple[type[models.Model], list[Any], list[BlindIndexField]]]:
    """Every model with encrypted fields, with those fields and its blind indexes."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
            yield model, fields, indexes


def one_value_per_column() -> Iterator[tuple[Any, Any, Any]]:
    """One stored, non-empty value of each encrypted column: (field, its row's key, the value).

    What the start-up and readiness checks decrypt to know the configured keys read the data.
    """
    quote = connection.ops.quote_name
    for model, fields, _indexes in encrypted_models():
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)  # type: ignore[union-attr]
        for f in fields:
            column = quote(f.column)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} "  # noqa: S608
                    f"WHERE length({column}) > 0 LIMIT 1"  # NULL and empty values hold nothing to check
                )
                row = cursor.fetchone()
            if row is not None:
                yield f, row[0], row[1]


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
    values_by_version: Counter[str] = field(default_factory=Counter)
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
                    if not value:  # NULL, or an empty string stored empty
                        continue
                    try:
                        report.values_by_key[crypto.key_id_of(value)] += 1
                        report.values_by_version[crypto.version_of(value)] += 1
                        f.open(value, pk=pk)
                    except crypto.DecryptionError as exc:
                        if len(report.failures) < max_failures:
                            report.failures.append(f"{model._meta.db_table}.{f.column} row {pk}: {exc}")
                for value in values[len(fields) :]:
                    if value:
                        report.indexes_by_key[str(value).split(":", 1)[0]] += 1
    terms = apps.get_model("casemgmt", "PersonSearchTerm")
    for kid, n in _count_by_prefix(terms._default_manager.values_list("value", flat=True)).items():
        report.indexes_by_key[kid] += n
    return report


def _count_by_prefix(values: Any) -> Counter[str]:
    return Counter(str(v).split(":", 1)[0] for v in values.iterator(chunk_size=5000))


@dataclass
class RotationResult:
    rows_rotated: int = 0
    rows_seen: int = 0
    per_model: dict[str, int] = field(default_factory=dict)


def _needs_rotation(values: tuple[Any, ...], n_fields: int, active: str, index_active: str) -> bool:
    for value in values[:n_fields]:
        if value and not crypto.is_current(value, kid=active):
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
                    # Decrypt through the ORM, write back with one bulk update per batch:
                    # indexes are recomputed from the plaintext, then values re-sealed for
                    # their row under the active key, without touching updated_at or
                    # writing audit noise for unchanged data.
                    objs = list(model._default_manager.filter(pk__in=stale).select_for_update(no_key=True))
                    for obj in objs:
                        computed = {ix.attname: ix.compute(obj) for ix in indexes}
                        sealed = {f.attname: f.seal(getattr(obj, f.attname), pk=obj.pk) for f in fields}
                        for attname, value in {**computed, **sealed}.items():
                            setattr(obj, attname, value)
                    model._default_manager.bulk_update(
                        objs, [f.attname for f in fields] + [ix.attname for ix in indexes], batch_size=batch
                    )
                done += len(stale)
                if progress:
                    progress(f"{model._meta.label}: {done} rows rotated so far")
        result.per_model[model._meta.label] = done
        result.rows_rotated += done
    _rotate_search_terms(index_active, batch=batch, result=result, progress=progress)
    return result


def _rotate_search_terms(
    index_active: str, *, batch: int, result: RotationResult, progress: Progress | None
) -> None:
    """Rebuild the search terms of persons with a term under an inactive index key, in batches."""
    terms = apps.get_model("casemgmt", "PersonSearchTerm")
    person_model = apps.get_model("casemgmt", "Person")
    done = 0
    while True:
        stale = list(
            terms._default_manager.exclude(value__startswith=f"{index_active}:")
            .values_list("person_id", flat=True)
            .distinct()[:batch]
        )
        if not stale:
            break
        with transaction.atomic():
            persons = list(person_model._default_manager.filter(pk__in=stale).select_related("family"))
            terms._default_manager.filter(person_id__in=stale).delete()
            terms._default_manager.bulk_create([t for p in persons for t in terms.terms_for(p)])
        done += len(stale)
        if progress:
            progress(f"casemgmt.PersonSearchTerm: terms of {done} persons rebuilt so far")
    result.per_model["casemgmt.PersonSearchTerm"] = done
