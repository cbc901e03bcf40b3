"""The audit transparency log: tampering made directly in the database must fail verification.

Every attack here writes the database the way someone with the application's credentials
(or a DBA) could; none of them has the Ed25519 signing key, which lives outside the database.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from casemgmt.models import Family, Role
from privacy import signing
from privacy.audit import log_bulk
from privacy.jobs import schedule_tick, worker_heartbeat
from privacy.merkle import Frontier, verify_inclusion
from privacy.models import AuditCheckpoint, AuditEntry, AuditPruning
from privacy.retention import apply_audit_retention
from privacy.transparency import (
    checkpoint_note,
    entry_leaf,
    export_checkpoint,
    latest_checkpoint,
    prune_sealed,
    seal,
    verify_log,
)
from tests.conftest import client_for
from tests.factories import make_family, make_user


def entries(n: int) -> None:
    for i in range(n):
        log_bulk(
            model=Family,
            action=AuditEntry.Action.UPDATE,
            object_ids=[str(i)],
            note=f"n{i}",
            activity="case_management",
        )


def problems() -> str:
    report = verify_log()
    assert not report.ok, "tampering was not detected"
    return "\n".join(report.problems)


@pytest.fixture
def sealed_log(db: None) -> list[AuditEntry]:
    """Three checkpoints over 12 entries."""
    for _ in range(3):
        entries(4)
        seal()
    return list(AuditEntry.objects.order_by("seq"))


def test_sealed_log_verifies(sealed_log, capsys) -> None:  # type: ignore[no-untyped-def]
    report = verify_log()
    assert report.ok, report.problems
    assert report.entries == 12 and report.checkpoints == 3 and report.unsealed == 0
    assert [e.seq for e in sealed_log] == list(range(12))
    call_command("verify_audit")
    assert "12 sealed entries verify against 3 signed checkpoints" in capsys.readouterr().out


def test_edit_of_any_entry_is_found_with_its_position(sealed_log) -> None:  # type: ignore[no-untyped-def]
    victim = sealed_log[5]
    AuditEntry.objects.filter(pk=victim.pk).update(object_repr="harmless")
    found = problems()
    assert f"entry {victim.pk} at position 5 was altered" in found
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit")


def test_reattributing_reads_and_rehashing_everything_is_found(sealed_log, district) -> None:  # type: ignore[no-untyped-def]
    """The attack the old chain missed: rewrite the actor and recompute every stored hash."""
    colleague = make_user(district, Role.CASE_MANAGER)
    AuditEntry.objects.filter(pk=sealed_log[2].pk).update(actor=colleague)
    # recompute every leaf hash and every checkpoint's root and subtree list ...
    frontier, leaves = Frontier(), []
    for entry in AuditEntry.objects.filter(seq__isnull=False).order_by("seq"):
        leaf = entry_leaf(entry)
        AuditEntry.objects.filter(pk=entry.pk).update(hash=leaf.hex())
        leaves.append(leaf)
    for cp in AuditCheckpoint.objects.order_by("tree_size"):
        while frontier.size < cp.tree_size:
            frontier.append(leaves[frontier.size])
        AuditCheckpoint.objects.filter(pk=cp.pk).update(
            root_hash=frontier.root().hex(), frontier=frontier.hex()
        )
    # ... which leaves no hash mismatch, but no key to sign the new roots with
    found = problems()
    assert "altered" not in found, found
    assert "checkpoint 4" in found and "signature does not verify" in found
    # signing with a key of one's own does not help either
    forged = Ed25519PrivateKey.generate()
    for cp in AuditCheckpoint.objects.all():
        note = checkpoint_note(tree_size=cp.tree_size, root_hash=cp.root_hash, timestamp=cp.timestamp)
        AuditCheckpoint.objects.filter(pk=cp.pk).update(
            signature=__import__("base64").b64encode(forged.sign(note)).decode()
        )
    assert "signature does not verify" in problems()


def test_deleting_an_entry_in_the_middle_is_found(sealed_log) -> None:  # type: ignore[no-untyped-def]
    AuditEntry.objects.filter(pk=sealed_log[6].pk).delete()
    assert "positions 6..6 are missing" in problems()


def test_truncating_the_tail_is_found(sealed_log) -> None:  # type: ignore[no-untyped-def]
    AuditEntry.objects.filter(seq__gte=9).delete()
    assert "positions 9..11 were deleted from the tail" in problems()


def test_truncating_tail_and_checkpoints_is_found_with_an_exported_checkpoint(sealed_log, tmp_path) -> None:  # type: ignore[no-untyped-def]
    exported = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--output", str(exported))
    assert json.loads(exported.read_text())["tree_size"] == 12
    # the attacker removes the tail and every checkpoint that mentions it: the database alone agrees
    AuditEntry.objects.filter(seq__gte=8).delete()
    AuditCheckpoint.objects.filter(tree_size__gt=8).delete()
    assert verify_log().ok
    with pytest.raises(CommandError, match="exported checkpoint covers 12 entries"):
        call_command("verify_audit", "--checkpoint", str(exported))


def test_exported_checkpoint_consistent_with_later_log(sealed_log, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    exported = tmp_path / "cp.json"
    exported.write_text(json.dumps(export_checkpoint(AuditCheckpoint.objects.get(tree_size=8))))
    entries(3)
    seal()
    call_command("verify_audit", "--checkpoint", str(exported))
    out = capsys.readouterr().out
    assert "extends the exported checkpoint of 8 entries (consistency proof checked)" in out
    # an earlier entry rewritten and everything below the latest checkpoint recomputed is caught
    # by the exported checkpoint even if the attacker had the key for the later ones
    AuditEntry.objects.filter(seq=1).update(object_repr="rewritten")
    with pytest.raises(CommandError, match="do not hash to the exported checkpoint's root"):
        call_command("verify_audit", "--checkpoint", str(exported))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"origin": "x"}', "lacks tree_size"),
        (
            '{"origin": "x", "tree_size": "12", "root_hash": "00", "timestamp": "t", "signature": "s"}',
            "tree_size must be a positive integer",
        ),
        (
            '{"origin": "x", "tree_size": 3, "root_hash": "zz", "timestamp": "t", "signature": "s"}',
            "root_hash must be 64",
        ),
        (
            '{"origin": "x", "tree_size": 3, "root_hash": "'
            + "a" * 64
            + '", "timestamp": "t", "signature": "s"}',
            "timestamp is not",
        ),
    ],
)
def test_malformed_checkpoint_file_is_a_clear_error(db, tmp_path, content, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cp.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("verify_audit", "--checkpoint", str(path))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("verify_audit", "--checkpoint", str(tmp_path / "missing.json"))


def test_checkpoint_of_another_key_or_log_is_rejected(sealed_log, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = export_checkpoint(latest_checkpoint())  # type: ignore[arg-type]
    path = tmp_path / "cp.json"
    path.write_text(json.dumps({**data, "root_hash": "0" * 64}))
    with pytest.raises(CommandError, match="exported checkpoint's signature does not verify"):
        call_command("verify_audit", "--checkpoint", str(path))
    path.write_text(json.dumps({**data, "origin": "another log"}))
    with pytest.raises(CommandError, match="belongs to another log"):
        call_command("verify_audit", "--checkpoint", str(path))


def test_wrong_public_key_fails(sealed_log, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = signing.public_key_b64(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(CommandError, match="signature does not verify with public key"):
        call_command("verify_audit", "--public-key", other)
    key_file = tmp_path / "audit.pub"
    key_file.write_text(signing.public_key_b64(signing.configured_public_key()))
    call_command("verify_audit", "--public-key", str(key_file))  # the right key, from a file
    with pytest.raises(CommandError, match=r"not valid base64|32 bytes"):
        call_command("verify_audit", "--public-key", "!!")


def test_worker_outage_entries_wait_unsealed_then_seal(db, capsys) -> None:  # type: ignore[no-untyped-def]
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    entries(3)
    seal()
    entries(4)  # the worker is down: requests still succeed, entries wait
    report = verify_log()
    assert report.ok and report.unsealed == 4 and report.oldest_unsealed is not None
    call_command("verify_audit")
    assert "4 entries are not sealed yet" in capsys.readouterr().out
    # the worker comes back: the schedule enqueues a seal, the worker runs it
    assert worker_heartbeat() is None
    assert "seal_audit_log" in schedule_tick()
    assert worker_heartbeat() is not None
    assert schedule_tick() == []  # a seal is already waiting: not enqueued twice
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    # what the worker's loop does, without its connection recycling (the test runs in a transaction)
    for result in DBTaskResult.objects.ready():
        result.claim("test")
        worker.run_task(result)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    report = verify_log()
    assert report.ok and report.unsealed == 0 and report.entries == 7 + 0 and report.checkpoints == 2


def test_nightly_retention_is_scheduled_once_a_day(db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RETENTION_HOUR = 2
    night = timezone.localtime().replace(year=2026, month=11, day=23, hour=3, minute=0)
    assert "run_retention" in schedule_tick(night)
    assert "run_retention" not in schedule_tick(night + datetime.timedelta(hours=1))
    assert "run_retention" in schedule_tick(night + datetime.timedelta(days=1))


# --- retention


def _age_unsealed(days: int) -> None:
    """Back-date entries before they are sealed (after sealing that would be tampering)."""
    AuditEntry.objects.filter(seq__isnull=True).update(
        timestamp=timezone.now() - datetime.timedelta(days=days)
    )


def test_retention_prunes_whole_sealed_ranges_with_a_signed_statement(db) -> None:  # type: ignore[no-untyped-def]
    entries(4)
    _age_unsealed(3 * 365)
    seal()
    entries(3)
    _age_unsealed(3 * 365)
    entries(2)  # young entries in the same checkpoint: that range is kept whole
    seal()
    entries(2)
    seal()
    assert apply_audit_retention(dry_run=True) == 4
    assert apply_audit_retention(dry_run=False) == 4
    statement = AuditPruning.objects.get().statement
    assert statement["previous_floor"] == 0 and statement["floor"] == 4 and statement["entries"] == 4
    assert statement["reason"].startswith("audit retention")
    assert not AuditEntry.objects.filter(seq__lt=4).exists()
    seal()  # the retention run's own bulk entry
    report = verify_log()
    assert report.ok, report.problems
    assert report.floor == 4
    assert apply_audit_retention(dry_run=False) == 0  # idempotent
    # proofs for what is left still work (the statement keeps the pruned subtrees)
    dpo_entry = AuditEntry.objects.get(seq=6)
    from privacy.transparency import inclusion_proof

    assert inclusion_proof(dpo_entry)["verified"]


def test_moving_the_floor_without_a_statement_is_found(sealed_log) -> None:  # type: ignore[no-untyped-def]
    AuditEntry.objects.filter(seq__lt=4).delete()
    assert "positions 0..3 are missing at the start of the log" in problems()
    assert "without a signed pruning statement" in problems()


def test_forged_or_edited_pruning_statement_is_found(sealed_log) -> None:  # type: ignore[no-untyped-def]
    AuditEntry.objects.filter(seq__lt=8).delete()
    statement = {"origin": "casemgmt audit log", "previous_floor": 0, "floor": 8, "frontier": []}
    AuditPruning.objects.create(floor=8, statement=statement, signature="AAAA")
    assert "pruning statement up to position 8: signature does not verify" in problems()


def test_statement_pruning_young_entries_is_rejected(sealed_log) -> None:  # type: ignore[no-untyped-def]
    """Even a signed statement must not cover entries younger than the retention period."""
    pruned = prune_sealed(before=timezone.now(), retention_days=730, reason="too early", dry_run=False)
    assert pruned == 12
    assert "younger than the audit retention period" in problems()


def test_retention_refuses_to_prune_a_log_that_does_not_verify(sealed_log) -> None:  # type: ignore[no-untyped-def]
    from privacy.transparency import AuditLogError

    AuditEntry.objects.filter(seq=1).update(object_repr="x")
    with pytest.raises(AuditLogError, match="do not match their checkpoint"):
        prune_sealed(
            before=timezone.now() + datetime.timedelta(days=1), retention_days=0, reason="t", dry_run=False
        )
    assert AuditEntry.objects.count() == 12


def test_sealer_refuses_to_build_on_a_forged_checkpoint(sealed_log) -> None:  # type: ignore[no-untyped-def]
    from privacy.transparency import AuditLogError

    AuditCheckpoint.objects.filter(tree_size=12).update(root_hash="0" * 64)
    entries(1)
    with pytest.raises(AuditLogError, match="does not verify"):
        seal()


# --- the DPO's inclusion proof


def test_inclusion_proof_against_a_checkpoint(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    seal()
    entries(5)
    seal()
    dpo = make_user(district, Role.DPO)
    client = client_for(dpo)
    entry = AuditEntry.objects.get(object_pk=str(family.pk), action=AuditEntry.Action.CREATE)
    first = AuditCheckpoint.objects.order_by("tree_size").first()
    listed = client.get("/api/v1/audit/events/", {"object": str(family.pk)}).json()["results"]
    assert {e["id"]: e["checkpoint"] for e in listed}[entry.pk] == first.tree_size  # the covering checkpoint
    for size in (first.tree_size, None):
        params = {"checkpoint": size} if size else {}
        response = client.get(f"/api/v1/audit/events/{entry.pk}/proof/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        cp = body["checkpoint"]
        # checked here with nothing but the response and the public key
        key = signing.public_key_from_b64(body["public_key"])
        note = checkpoint_note(
            tree_size=cp["tree_size"],
            root_hash=cp["root_hash"],
            timestamp=datetime.datetime.fromisoformat(cp["timestamp"]),
        )
        assert signing.verify(key, note, cp["signature"]) and body["verified"]
        assert verify_inclusion(
            leaf=bytes.fromhex(body["leaf_hash"]),
            index=body["leaf_index"],
            size=cp["tree_size"],
            proof=[bytes.fromhex(p) for p in body["audit_path"]],
            root=bytes.fromhex(cp["root_hash"]),
        )
        assert body["leaf_hash"] == entry_leaf(entry).hex()
    # an edited entry no longer has a valid proof
    AuditEntry.objects.filter(pk=entry.pk).update(object_repr="edited")
    assert client.get(f"/api/v1/audit/events/{entry.pk}/proof/").json()["verified"] is False


def test_inclusion_proof_bad_input(district, case_manager) -> None:  # type: ignore[no-untyped-def]
    dpo = make_user(district, Role.DPO)
    client = client_for(dpo)
    make_family(case_manager)
    entry = AuditEntry.objects.latest("id")
    response = client.get(f"/api/v1/audit/events/{entry.pk}/proof/")
    assert response.status_code == 409 and response.json()["code"] == "not_sealed"
    seal()
    for params, field in (
        ({"checkpoint": "abc"}, "checkpoint"),
        ({"checkpoint": "999"}, "checkpoint"),
        ({"checkpoint": "-1"}, "checkpoint"),
        ({"size": "1"}, "size"),
    ):
        response = client.get(f"/api/v1/audit/events/{entry.pk}/proof/", params)
        assert response.status_code == 400 and field in response.json()["errors"], (params, response.json())
    assert client.get("/api/v1/audit/events/999999999/proof/").status_code == 404
    assert client.get("/api/v1/audit/events/abc/proof/").status_code == 404


def test_audit_checkpoint_command(db, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="No checkpoint yet"):
        call_command("audit_checkpoint")
    entries(2)
    call_command("audit_checkpoint", "--seal")
    data = json.loads(capsys.readouterr().out)
    assert data["tree_size"] == 2 and set(data) >= {"origin", "root_hash", "timestamp", "key_id", "signature"}
    with pytest.raises(CommandError, match="cannot write"):
        call_command("audit_checkpoint", "--output", str(Path(tmp_path) / "no" / "such" / "dir.json"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sealers_and_writers_never_fork_the_tree() -> None:
    """Writers append while two sealers run at once: every checkpoint must still verify."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (threads with their own connections)")

    errors: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def write() -> None:
        entries(30)

    def sealing() -> None:
        for _ in range(15):
            seal()

    threads = [threading.Thread(target=run, args=(w,)) for w in (write, write, sealing, sealing)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    seal()
    report = verify_log()
    assert report.ok, report.problems
    assert report.entries == 60 and report.unsealed == 0


def reference_canonical(entry: AuditEntry) -> bytes:
    """The leaf encoding as first defined (json.dumps of a dict): the template must match it byte for byte."""
    return json.dumps(
        {
            "id": entry.pk,
            "model": f"{entry.content_type.app_label}.{entry.content_type.model}",
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
        },
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    ).encode()


def test_leaf_encoding_is_the_canonical_json_and_raw_rows_hash_like_instances(db, district) -> None:  # type: ignore[no-untyped-def]
    """Entries with nested, non-ASCII, empty and float values, an actor, an address and an organisation."""
    from privacy.leaf import ROW_FIELDS, rows_leaves
    from privacy.transparency import canonical, model_names

    user = make_user(district, Role.CASE_MANAGER)
    family = make_family(user)
    AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Family),
        object_pk=str(family.pk),
        object_repr='Beratungsgespräch – Übergabe "x" \u2028',
        object_ids=[str(family.pk), 7, None],
        action=AuditEntry.Action.UPDATE,
        changes={"z": [1, 2.5, "ä"], "a": {"y": None, "b": True}},
        changes_text="",
        actor=user,
        remote_addr="2001:db8::1",
        activity="case_management",
        organisation_id=district.pk,
        additional_data={"endpoint": "GET /x/", "filters": ["ß"], "n": 1e-7},
    )
    entries(3)
    seal()
    instances = list(AuditEntry.objects.order_by("seq"))
    for instance in instances:
        assert canonical(instance) == reference_canonical(instance)
    # the verifier's raw rows (no ORM converters) give the sealer's leaves on this backend
    with connection.cursor() as cursor:
        cursor.execute(*AuditEntry.objects.order_by("seq").values_list(*ROW_FIELDS).query.sql_with_params())
        raw = cursor.fetchall()
    assert len(raw) == len(instances) and any(e.organisation_id and e.remote_addr for e in instances)
    leaves = rows_leaves(raw, model_names(), actor_uuid=True)
    assert [(pk, seq, ok) for pk, seq, ok, _ in leaves] == [(e.pk, e.seq, True) for e in instances]
    assert [leaf for *_, leaf in leaves] == [entry_leaf(e) for e in instances]


def test_verification_in_worker_processes_finds_what_one_process_finds(sealed_log) -> None:  # type: ignore[no-untyped-def]
    """``verify_audit --jobs 2``: the leaves come back from other processes, in order."""
    assert verify_log(jobs=2).ok
    AuditEntry.objects.filter(pk=sealed_log[7].pk).update(changes_text="rewritten")
    AuditEntry.objects.filter(pk=sealed_log[10].pk).delete()
    one, two = verify_log(jobs=1), verify_log(jobs=2)
    assert not two.ok and two.problems == one.problems
    assert any(f"entry {sealed_log[7].pk} at position 7 was altered" in p for p in two.problems)
    assert any("positions 10..10 are missing" in p for p in two.problems)


def test_verify_audit_rejects_a_job_count_below_one(sealed_log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="--jobs must be at least 1"):
        call_command("verify_audit", "--jobs", "0")
