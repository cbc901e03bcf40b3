"""The audit log as a transparency log: append-only entries, a background sealer, signed checkpoints.

Requests insert their audit entry and nothing else. The sealer (a job, ``seal``) takes the
entries nobody has sealed yet in the order it sees them committed, gives each its leaf
position once, extends the RFC 9162 Merkle tree and signs a checkpoint (size, root, time)
with the Ed25519 key from the environment. ``verify_log`` recomputes every leaf from the
entry's content and every root from the leaves and trusts only the public key (and,
optionally, a checkpoint exported earlier): the hashes stored in the database are a cache.
Retention removes only whole checkpointed ranges and leaves a signed pruning statement.
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import UUIDField
from django.utils import timezone

from privacy import signing
from privacy.leaf import ROW_FIELDS, ModelNames, rows_leaves
from privacy.leaf import canonical as leaf_bytes
from privacy.merkle import Frontier, Tree, leaf_hash, verify_consistency, verify_inclusion
from privacy.models import AuditCheckpoint, AuditEntry, AuditPruning

logger = logging.getLogger(__name__)
SEALER_LOCK_ID = 0x61756469740131  # "audit" + 1: the advisory lock key of the sealer


class AuditLogError(Exception):
    """The log cannot be sealed, proven or pruned as asked; the message says why."""


class CheckpointFileError(AuditLogError):
    """An exported checkpoint file is missing, unreadable or malformed."""


def origin() -> str:
    """The log's name in every checkpoint, so a checkpoint of one installation never fits another."""
    return str(getattr(settings, "AUDIT_LOG_ORIGIN", "casemgmt audit log"))


# --- leaves


def model_names() -> ModelNames:
    """Every content type's "app_label.model", read once (a verifier must not query per entry)."""
    return ModelNames((ct.pk, f"{ct.app_label}.{ct.model}") for ct in ContentType.objects.all())


def canonical(entry: AuditEntry) -> bytes:
    """Everything an entry says, as the bytes its leaf hash covers (its position is the tree's)."""
    content_type = ContentType.objects.get_for_id(entry.content_type_id)
    return leaf_bytes(
        pk=entry.pk,
        model=f"{content_type.app_label}.{content_type.model}",
        object_pk=entry.object_pk,
        object_repr=entry.object_repr,
        object_ids=entry.object_ids,
        action=entry.action,
        changes=entry.changes,
        changes_text=entry.changes_text,
        actor_id=entry.actor_id,
        remote_addr=entry.remote_addr,
        timestamp=entry.timestamp,
        activity=entry.activity,
        organisation_id=entry.organisation_id,
        additional_data=entry.additional_data,
    )


def entry_leaf(entry: AuditEntry) -> bytes:
    return leaf_hash(canonical(entry))


# --- checkpoints


def checkpoint_note(*, tree_size: int, root_hash: str, timestamp: datetime.datetime) -> bytes:
    """The signed text, in the style of the Go checksum database's checkpoints."""
    stamp = timestamp.astimezone(datetime.UTC).isoformat()
    return f"{origin()}\n{tree_size}\n{root_hash}\n{stamp}\n".encode()


def export_checkpoint(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The JSON an operator keeps outside the database (and passes to verify_audit --checkpoint)."""
    return {
        "origin": origin(),
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": checkpoint.timestamp.astimezone(datetime.UTC).isoformat(),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def parse_checkpoint_file(path: str | Path) -> dict[str, Any]:
    """Read an exported checkpoint; raise CheckpointFileError naming what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointFileError(f"checkpoint file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointFileError(f"checkpoint file {path} cannot be read ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise CheckpointFileError(f"checkpoint file {path} is not JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise CheckpointFileError(f"checkpoint file {path} must hold a JSON object")
    missing = [k for k in ("origin", "tree_size", "root_hash", "timestamp", "signature") if k not in data]
    if missing:
        raise CheckpointFileError(f"checkpoint file {path} lacks {', '.join(missing)}")
    if not isinstance(data["tree_size"], int) or isinstance(data["tree_size"], bool) or data["tree_size"] < 1:
        raise CheckpointFileError(f"checkpoint file {path}: tree_size must be a positive integer")
    root = data["root_hash"]
    if not isinstance(root, str) or len(root) != 64 or any(c not in "0123456789abcdef" for c in root):
        raise CheckpointFileError(f"checkpoint file {path}: root_hash must be 64 lowercase hex digits")
    try:
        data["timestamp"] = datetime.datetime.fromisoformat(str(data["timestamp"]))
    except ValueError:
        raise CheckpointFileError(f"checkpoint file {path}: timestamp is not an ISO 8601 time") from None
    if timezone.is_naive(data["timestamp"]):
        raise CheckpointFileError(f"checkpoint file {path}: timestamp needs a time zone")
    if not isinstance(data["signature"], str) or not isinstance(data["origin"], str):
        raise CheckpointFileError(f"checkpoint file {path}: origin and signature must be strings")
    return data


def checkpoint_signature_ok(public_key: Ed25519PublicKey, cp: Any) -> bool:
    note = checkpoint_note(tree_size=cp.tree_size, root_hash=cp.root_hash, timestamp=cp.timestamp)
    return signing.verify(public_key, note, cp.signature)


# --- sealing


def seal(*, batch_size: int = 5000, max_entries: int = 200_000) -> AuditCheckpoint | None:
    """Give unsealed entries their leaf positions and publish one signed checkpoint over them.

    Runs in the job worker every few seconds. Sealers take turns (``_sealer_lock``); should two
    ever overlap anyway, their positions or tree sizes collide (unique) and one rolls back.
    """
    try:
        with transaction.atomic():
            return _seal(batch_size=batch_size, max_entries=max_entries)
    except IntegrityError:
        logger.info("another sealer sealed these entries first")
        return None


def _sealer_lock() -> None:
    """One sealer (or pruner) at a time, so two can never order the same entries differently.

    Only the worker takes it, never a request. PostgreSQL: a transaction-scoped advisory lock;
    SQLite: the settings open every transaction IMMEDIATE, which already takes the write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_ID])


def _seal(*, batch_size: int, max_entries: int) -> AuditCheckpoint | None:
    _sealer_lock()
    last = AuditCheckpoint.objects.order_by("-tree_size").first()
    frontier = Frontier()
    if last is not None:
        frontier = Frontier.from_hex(last.tree_size, last.frontier)
        if frontier.root().hex() != last.root_hash or not checkpoint_signature_ok(
            signing.configured_public_key(), last
        ):
            raise AuditLogError(
                f"the latest checkpoint ({last.tree_size}) does not verify: not sealing on top of it; "
                "run manage.py verify_audit"
            )
    sealed = 0
    while sealed < max_entries:
        batch = list(
            AuditEntry.objects.filter(seq__isnull=True).order_by("id")[
                : min(batch_size, max_entries - sealed)
            ]
        )
        if not batch:
            break
        for entry in batch:
            leaf = entry_leaf(entry)
            entry.seq, entry.hash = frontier.size, leaf.hex()
            frontier.append(leaf)
        # The only update an entry ever gets: its position and leaf hash, once.
        AuditEntry.objects.bulk_update(batch, ["seq", "hash"], batch_size=1000)
        sealed += len(batch)
    if not sealed:
        return None
    now = timezone.now()
    root = frontier.root().hex()
    note = checkpoint_note(tree_size=frontier.size, root_hash=root, timestamp=now)
    return AuditCheckpoint.objects.create(
        tree_size=frontier.size,
        root_hash=root,
        timestamp=now,
        key_id=signing.key_id(signing.signing_key().public_key()),
        signature=signing.sign(note),
        frontier=frontier.hex(),
    )


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-tree_size").first()


def covering_checkpoint(seq: int) -> AuditCheckpoint | None:
    """The first checkpoint that includes leaf ``seq``."""
    return AuditCheckpoint.objects.filter(tree_size__gt=seq).order_by("tree_size").first()


# --- pruning statements


def pruning_message(statement: dict[str, Any]) -> bytes:
    return b"casemgmt audit pruning\n" + json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


def current_floor() -> tuple[int, Frontier]:
    """Leaves below the floor were pruned; the frontier stands in for them in proofs."""
    last = AuditPruning.objects.order_by("-floor").first()
    if last is None:
        return 0, Frontier()
    return last.floor, Frontier.from_hex(last.floor, last.statement.get("frontier", []))


def prune_sealed(*, before: datetime.datetime, retention_days: int, reason: str, dry_run: bool) -> int:
    """Delete the longest checkpointed prefix whose entries are all older than ``before``.

    The signed statement names the range, the newest entry it removed, the time and the
    reason, and keeps the perfect subtrees of the removed prefix so later proofs still work.
    """
    with transaction.atomic():
        _sealer_lock()
        floor, floor_frontier = current_floor()
        young = AuditEntry.objects.filter(seq__isnull=False, timestamp__gte=before).order_by("seq").first()
        latest = latest_checkpoint()
        if latest is None:
            return 0
        limit = young.seq if young is not None else latest.tree_size
        target = (
            AuditCheckpoint.objects.filter(tree_size__lte=limit, tree_size__gt=floor)
            .order_by("-tree_size")
            .first()
        )
        if target is None:
            return 0
        doomed = AuditEntry.objects.filter(seq__gte=floor, seq__lt=target.tree_size)
        count: int = doomed.count()
        if dry_run:
            return count
        frontier = Frontier(floor_frontier.size, floor_frontier.nodes)
        newest = None
        for entry in doomed.order_by("seq").iterator(chunk_size=2000):
            if entry.seq != frontier.size:
                raise AuditLogError(
                    f"position {frontier.size} is missing: not pruning a log that does not verify"
                )
            frontier.append(entry_leaf(entry))
            newest = entry.timestamp if newest is None else max(newest, entry.timestamp)
        if frontier.root().hex() != target.root_hash:
            raise AuditLogError(
                f"leaves up to {target.tree_size} do not match their checkpoint: not pruning; "
                "run verify_audit"
            )
        statement = {
            "origin": origin(),
            "previous_floor": floor,
            "floor": target.tree_size,
            "checkpoint_root": target.root_hash,
            "frontier": frontier.hex(),
            "entries": count,
            "newest_pruned": newest.astimezone(datetime.UTC).isoformat() if newest else None,
            "cutoff": before.astimezone(datetime.UTC).isoformat(),
            "retention_days": retention_days,
            "pruned_at": timezone.now().astimezone(datetime.UTC).isoformat(),
            "reason": reason,
            "key_id": signing.key_id(signing.signing_key().public_key()),
        }
        AuditPruning.objects.create(
            floor=target.tree_size, statement=statement, signature=signing.sign(pruning_message(statement))
        )
        # Retention is the only path that deletes leaves (README: grants).
        doomed.delete()
    return count


# --- proofs


def inclusion_proof(entry: AuditEntry, *, tree_size: int | None = None) -> dict[str, Any]:
    """An RFC 9162 inclusion proof of ``entry`` against a signed checkpoint (the latest by default)."""
    if entry.seq is None:
        raise AuditLogError("the entry is not sealed yet: try again after the next sealing run")
    checkpoints = AuditCheckpoint.objects.filter(tree_size__gt=entry.seq)
    checkpoint = (
        checkpoints.filter(tree_size=tree_size).first()
        if tree_size is not None
        else checkpoints.order_by("-tree_size").first()
    )
    if checkpoint is None:
        raise AuditLogError(f"no checkpoint of size {tree_size} covers this entry")
    floor, floor_frontier = current_floor()
    leaves = [
        bytes.fromhex(h)
        for h in AuditEntry.objects.filter(seq__gte=floor, seq__lt=checkpoint.tree_size)
        .order_by("seq")
        .values_list("hash", flat=True)
        .iterator(chunk_size=10000)
    ]
    if floor + len(leaves) != checkpoint.tree_size:
        raise AuditLogError("the log has gaps below this checkpoint: run manage.py verify_audit")
    tree = Tree(leaves, floor=floor_frontier)
    leaf = entry_leaf(entry)
    path = tree.inclusion_proof(entry.seq, checkpoint.tree_size)
    verified = checkpoint_signature_ok(signing.configured_public_key(), checkpoint) and verify_inclusion(
        leaf=leaf,
        index=entry.seq,
        size=checkpoint.tree_size,
        proof=path,
        root=bytes.fromhex(checkpoint.root_hash),
    )
    return {
        "entry": entry.pk,
        "leaf_index": entry.seq,
        "leaf_hash": leaf.hex(),
        "audit_path": [p.hex() for p in path],
        "checkpoint": export_checkpoint(checkpoint),
        "public_key": signing.public_key_b64(signing.configured_public_key()),
        "verified": verified,
    }


# --- verification


@dataclass
class Report:
    """What verify_log found: problems (the log does not verify) and facts for the operator."""

    problems: list[str] = field(default_factory=list)
    entries: int = 0
    checkpoints: int = 0
    floor: int = 0
    latest: AuditCheckpoint | None = None
    unsealed: int = 0
    oldest_unsealed: datetime.datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


#: Rows per unit of work: large enough that shipping a chunk to a process costs little.
VERIFY_CHUNK = 5000
#: Below this many sealed entries the verifier stays in one process (starting workers costs more).
PARALLEL_FROM = 200_000


def _sealed_rows(floor: int) -> Iterator[list[tuple[Any, ...]]]:
    """The sealed entries in leaf order, as chunks of raw rows (no ORM converters: they were half the time).

    ``chunked_cursor`` is a server-side cursor on PostgreSQL, so memory stays flat at 1M entries.
    """
    query = AuditEntry.objects.filter(seq__gte=floor).order_by("seq").values_list(*ROW_FIELDS).query
    sql, params = query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(VERIFY_CHUNK):
            yield rows


def _sealed_leaves(floor: int, jobs: int) -> Iterator[tuple[int, int, bool, bytes]]:
    """(pk, position, stored hash right, recomputed leaf) for every sealed entry, in leaf order.

    With ``jobs`` > 1 the leaves are computed by that many worker processes while this one reads
    the next rows; the workers get plain tuples and the content type names, never the database.
    """
    names = model_names()
    actor_uuid = isinstance(get_user_model()._meta.pk, UUIDField)
    if jobs <= 1:
        for rows in _sealed_rows(floor):
            yield from rows_leaves(rows, names, actor_uuid)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: collections.deque[Future[list[tuple[int, int, bool, bytes]]]] = collections.deque()
        try:
            for rows in _sealed_rows(floor):
                pending.append(pool.submit(rows_leaves, rows, names, actor_uuid))
                if len(pending) > 2 * jobs:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def default_jobs(floor: int, latest_size: int) -> int:
    """One process for a small log; for a large one, one worker per core (the reader needs little)."""
    if latest_size - floor < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _parse_time(value: Any) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _check_prunings(public_key: Ed25519PublicKey, report: Report, by_size: dict[int, Any]) -> Frontier:
    """Signed pruning statements, in order; returns the frontier standing in for the pruned prefix."""
    from privacy.registry import activities_by_code

    period = activities_by_code()["audit_logging"].retention_days
    floor, frontier = 0, Frontier()
    for pruning in AuditPruning.objects.order_by("floor"):
        st = pruning.statement if isinstance(pruning.statement, dict) else {}
        where = f"pruning statement up to position {pruning.floor}"
        if (
            not signing.verify(public_key, pruning_message(st), pruning.signature)
            or st.get("floor") != pruning.floor
        ):
            report.problems.append(
                f"{where}: signature does not verify: the retention floor was moved or forged"
            )
            continue
        if st.get("previous_floor") != floor:
            report.problems.append(f"{where}: starts at {st.get('previous_floor')}, expected {floor}")
        cutoff, pruned_at, newest = (_parse_time(st.get(k)) for k in ("cutoff", "pruned_at", "newest_pruned"))
        if cutoff is None or pruned_at is None or (newest is not None and newest >= cutoff):
            report.problems.append(f"{where}: removed entries younger than its own cutoff")
        elif period is not None and cutoff > pruned_at - datetime.timedelta(days=period):
            report.problems.append(
                f"{where}: removed entries younger than the audit retention period ({period} days)"
            )
        try:
            candidate = Frontier.from_hex(pruning.floor, st.get("frontier", []))
        except ValueError:
            report.problems.append(f"{where}: malformed subtree list")
            continue
        cp = by_size.get(pruning.floor)
        if (
            candidate.root().hex() != st.get("checkpoint_root")
            or cp is None
            or cp.root_hash != st.get("checkpoint_root")
        ):
            report.problems.append(f"{where}: does not match the signed checkpoint of size {pruning.floor}")
        floor, frontier = pruning.floor, candidate
    return frontier


def verify_log(
    *,
    public_key: Ed25519PublicKey | None = None,
    checkpoint: dict[str, Any] | None = None,
    jobs: int | None = None,
) -> Report:
    """Recompute every leaf and root and check them against the signed checkpoints.

    Trusts the public key (configured, or given) and ``checkpoint`` (exported earlier), nothing
    stored in the database: stored leaf hashes and subtree lists are recomputed, not read.
    ``jobs`` processes compute the leaves (default: ``default_jobs``).
    """
    key = public_key or signing.configured_public_key()
    kid = signing.key_id(key)
    report = Report()
    checkpoints = list(AuditCheckpoint.objects.order_by("tree_size"))
    report.checkpoints = len(checkpoints)
    report.latest = checkpoints[-1] if checkpoints else None
    previous_time = None
    for cp in checkpoints:
        if not checkpoint_signature_ok(key, cp):
            report.problems.append(
                f"checkpoint {cp.tree_size} ({cp.timestamp:%Y-%m-%d %H:%M:%S}): signature does not verify "
                f"with public key {kid}"
            )
        if previous_time is not None and cp.timestamp < previous_time:
            report.problems.append(f"checkpoint {cp.tree_size}: signed earlier than the checkpoint before it")
        previous_time = cp.timestamp
    by_size = {cp.tree_size: cp for cp in checkpoints}
    if checkpoint is not None:
        note = checkpoint_note(
            tree_size=checkpoint["tree_size"],
            root_hash=checkpoint["root_hash"],
            timestamp=checkpoint["timestamp"],
        )
        if checkpoint["origin"] != origin():
            report.problems.append(
                f"the exported checkpoint belongs to another log ({checkpoint['origin']!r})"
            )
        elif not signing.verify(key, note, checkpoint["signature"]):
            report.problems.append(
                f"the exported checkpoint's signature does not verify with public key {kid}"
            )
    floor_frontier = _check_prunings(key, report, by_size)
    report.floor = floor = floor_frontier.size
    frontier = Frontier(floor_frontier.size, floor_frontier.nodes)
    keep_leaves = checkpoint is not None
    leaves: list[bytes] = []
    roots: dict[int, bytes] = {}
    wanted = {cp.tree_size for cp in checkpoints if cp.tree_size > floor}
    if checkpoint is not None and checkpoint["tree_size"] > floor:
        wanted.add(checkpoint["tree_size"])
    previous_cp = floor
    broken = False
    latest_size = report.latest.tree_size if report.latest else 0
    if jobs is None:
        jobs = default_jobs(floor, latest_size)
    for pk, seq, stored_ok, leaf in _sealed_leaves(floor, jobs):
        if seq != frontier.size:
            if frontier.size == floor:
                report.problems.append(
                    f"positions {floor}..{seq - 1} are missing at the start of the log: entries were "
                    "deleted (or the retention floor moved) without a signed pruning statement"
                )
            else:
                report.problems.append(
                    f"positions {frontier.size}..{seq - 1} are missing: entries were deleted "
                    f"(next present: entry {pk} at position {seq})"
                )
            broken = True
            break
        if not stored_ok:
            report.problems.append(
                f"entry {pk} at position {seq} was altered after it was sealed "
                "(its content no longer matches its leaf hash)"
            )
        frontier.append(leaf)
        if keep_leaves:
            leaves.append(leaf)
        if frontier.size in wanted:
            root = frontier.root()
            roots[frontier.size] = root
            at_size = by_size.get(frontier.size)
            if at_size is not None and at_size.root_hash != root.hex():
                report.problems.append(
                    f"checkpoint {at_size.tree_size}: positions {previous_cp}..{at_size.tree_size - 1} "
                    "do not hash to its signed root: an entry in that range was altered, inserted, "
                    "removed or reordered"
                )
            if at_size is not None:
                previous_cp = at_size.tree_size
    report.entries = frontier.size - floor
    if not broken and frontier.size < latest_size:
        report.problems.append(
            f"the log ends at position {frontier.size - 1} but checkpoint {latest_size} signed {latest_size} "
            f"entries: positions {frontier.size}..{latest_size - 1} were deleted from the tail"
        )
    if not broken and frontier.size > latest_size:
        report.problems.append(
            f"positions {latest_size}..{frontier.size - 1} carry positions no signed checkpoint covers: "
            "they were inserted after sealing"
        )
    if checkpoint is not None:
        _check_exported(checkpoint, report, roots, leaves, floor_frontier, broken)
    unsealed = AuditEntry.objects.filter(seq__isnull=True)
    report.unsealed = unsealed.count()
    if report.unsealed:
        report.oldest_unsealed = unsealed.order_by("timestamp").values_list("timestamp", flat=True).first()
    return report


def _check_exported(
    checkpoint: dict[str, Any],
    report: Report,
    roots: dict[int, bytes],
    leaves: list[bytes],
    floor_frontier: Frontier,
    broken: bool,
) -> None:
    """The database must extend the checkpoint kept outside it (RFC 9162 consistency proof)."""
    size, root = checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"])
    latest = report.latest
    if latest is None or size > latest.tree_size:
        report.problems.append(
            f"the exported checkpoint covers {size} entries but the database's latest signed checkpoint only "
            f"{latest.tree_size if latest else 0}: entries and checkpoints were deleted from the tail"
        )
        return
    if size <= floor_frontier.size:
        report.notes.append(
            f"the exported checkpoint ({size}) lies within the pruned range; checked by signature"
        )
        return
    if broken:
        return
    if roots.get(size) != root:
        report.problems.append(
            f"the database's first {size} entries do not hash to the exported checkpoint's root: "
            "entries up to that checkpoint were altered, removed or rewritten"
        )
        return
    tree = Tree(leaves, floor=floor_frontier)
    if size < latest.tree_size:
        proof = tree.consistency_proof(size, latest.tree_size)
        if not verify_consistency(
            old_size=size,
            new_size=latest.tree_size,
            old_root=root,
            new_root=bytes.fromhex(latest.root_hash),
            proof=proof,
        ):
            report.problems.append(
                f"the latest checkpoint ({latest.tree_size}) is not an append-only extension "
                "of the exported one"
            )
    report.notes.append(
        f"the database extends the exported checkpoint of {size} entries (consistency proof checked)"
    )
