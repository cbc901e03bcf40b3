"""The bytes an audit entry's Merkle leaf covers, computed from plain values (no Django, no database).

The sealer hashes model instances, the verifier hashes raw database rows, and verification of a
large log fans rows out to worker processes: all three must produce the same bytes, so the
encoding lives here once. It is, byte for byte,
``json.dumps(entry_dict, sort_keys=True, default=str, separators=(",", ":"))`` over the fields
below — written as a fixed template because the key order is fixed, which halves the cost per
entry (the verifier of a million entries spends most of its time here).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from privacy.merkle import leaf_hash

#: The columns of ``privacy_auditentry`` a leaf covers, plus its position and stored leaf hash.
ROW_FIELDS = (
    "id",
    "seq",
    "hash",
    "content_type_id",
    "object_pk",
    "object_repr",
    "object_ids",
    "action",
    "changes",
    "changes_text",
    "actor_id",
    "remote_addr",
    "timestamp",
    "activity",
    "organisation_id",
    "additional_data",
)

_NESTED = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))
_DECODER = json.JSONDecoder()


def _value(value: Any) -> str:
    """One value as ``json.dumps`` with the canonical options writes it."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        return encode_basestring_ascii(value)  # type: ignore[no-any-return]
    return _NESTED.encode(value)


def canonical(
    *,
    pk: int,
    model: str,
    object_pk: Any,
    object_repr: Any,
    object_ids: Any,
    action: Any,
    changes: Any,
    changes_text: Any,
    actor_id: Any,
    remote_addr: Any,
    timestamp: datetime.datetime,
    activity: Any,
    organisation_id: Any,
    additional_data: Any,
) -> bytes:
    """Everything an entry says, as the bytes its leaf hash covers (its position is the tree's)."""
    # The keys in sorted order, as sort_keys=True would put them.
    return (
        f'{{"action":{_value(action)},"activity":{_value(activity)},'
        f'"actor":{_value(str(actor_id) if actor_id else None)},'
        f'"additional_data":{_value(additional_data)},"changes":{_value(changes)},'
        f'"changes_text":{_value(changes_text)},"id":{_value(pk)},"model":{_value(model)},'
        f'"object_ids":{_value(object_ids)},"object_pk":{_value(str(object_pk))},'
        f'"object_repr":{_value(str(object_repr))},'
        f'"organisation":{_value(str(organisation_id) if organisation_id else None)},'
        f'"remote_addr":{_value(remote_addr)},'
        f'"timestamp":{_value(timestamp.astimezone(datetime.UTC).isoformat())}}}'
    ).encode()


class ModelNames(dict[int, str]):
    """content type id -> "app_label.model"; an id that names no content type hashes as such
    (a tampered ``content_type_id`` then fails as an altered entry instead of crashing)."""

    def __missing__(self, key: int) -> str:
        return f"unknown content type {key}"


def _json(value: Any) -> Any:
    """A JSON column as the model holds it: both backends hand the raw text to Django's JSONField."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        try:
            return _DECODER.raw_decode(value)[0]
        except ValueError:
            return json.loads(value)  # leading whitespace; a real error is raised here
    return value


def _aware(value: Any) -> datetime.datetime:
    """SQLite returns naive UTC (or text), PostgreSQL an aware datetime."""
    moment: datetime.datetime = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def row_leaf(
    values: Sequence[Any], model_names: Mapping[int, str], actor_uuid: bool = True
) -> tuple[int, int, bool, bytes]:
    """(pk, position, stored hash still right, leaf) for one raw row in ``ROW_FIELDS`` order.

    Raw values are normalised to what the model would hold (JSON parsed, UTC-aware time,
    canonical UUID text: SQLite stores UUIDs as 32 hex digits), so the leaf is the sealer's.
    ``actor_uuid``: the user model's primary key is a UUID.
    """
    (
        pk,
        seq,
        stored,
        content_type_id,
        object_pk,
        object_repr,
        object_ids,
        action,
        changes,
        changes_text,
        actor_id,
        remote_addr,
        timestamp,
        activity,
        organisation_id,
        additional_data,
    ) = values
    leaf = leaf_hash(
        canonical(
            pk=pk,
            model=model_names[content_type_id],
            object_pk=object_pk,
            object_repr=object_repr,
            object_ids=_json(object_ids),
            action=action,
            changes=_json(changes),
            changes_text=changes_text,
            actor_id=_uuid(actor_id) if actor_uuid else actor_id,
            remote_addr=remote_addr,
            timestamp=_aware(timestamp),
            activity=activity,
            organisation_id=_uuid(organisation_id),
            additional_data=_json(additional_data),
        )
    )
    return pk, seq, stored == leaf.hex(), leaf


def rows_leaves(
    rows: Iterable[Sequence[Any]], model_names: Mapping[int, str], actor_uuid: bool = True
) -> list[tuple[int, int, bool, bytes]]:
    """``row_leaf`` over a chunk: the unit of work a verifier process is sent."""
    return [row_leaf(values, model_names, actor_uuid) for values in rows]
