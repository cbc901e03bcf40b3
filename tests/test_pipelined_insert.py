"""``CompiledInsert.insert_during``: the read entry's INSERT and COMMIT overlap the response.

The promise it must keep against a failing database: the work's result (the rendered
response) is returned only once the row is committed; a failed INSERT or COMMIT is raised,
leaves no row and no open transaction behind, and the connection stays usable. These tests
run outside the test transaction (``transaction=True``) so that the COMMIT is real; a second
connection checks what another reader of the database would see.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from casemgmt.db.compiled import CompiledInsert

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _entry(actor: Any, repr_: str, **changes: Any) -> Any:
    from django.contrib.contenttypes.models import ContentType

    from casemgmt.models import Family
    from privacy.models import AuditEntry

    values: dict[str, Any] = {
        "content_type": ContentType.objects.get_for_model(Family),
        "object_repr": repr_,
        "object_ids": ["a"],
        "action": AuditEntry.Action.ACCESS,
        "actor": actor,
        "activity": "case_management",
        "additional_data": {"endpoint": "GET /x", "personal_data": True},
    }
    values.update(changes)
    return AuditEntry(**values)


def _rows_seen_by_another_connection(repr_: str) -> int:
    """Rows with this ``object_repr`` as a new session sees them: committed ones only."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:
        row = other.execute(
            "SELECT count(*) FROM privacy_auditentry WHERE object_repr = %s", [repr_]
        ).fetchone()
    assert row is not None
    return int(row[0])


def _assert_clean() -> None:
    """No transaction left open, no pipeline left on, and the connection answers."""
    from psycopg import pq

    raw = connection.connection
    assert raw.info.transaction_status == pq.TransactionStatus.IDLE
    assert raw.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert not connection.in_atomic_block and not connection.needs_rollback
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.fixture(autouse=True)
def _postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    if not psycopg.Pipeline.is_supported():
        pytest.skip("this libpq has no pipeline mode (before PostgreSQL 14): insert() is used")


def test_the_row_is_insert_s_row_and_committed_before_the_work_s_result_returns(case_manager) -> None:  # type: ignore[no-untyped-def]
    from django.db.models.signals import post_save, pre_save
    from psycopg import pq

    from privacy.models import AuditEntry

    seen: list[str] = []

    def pre(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        seen.append("pre")

    def post(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(f"post {created} {instance.pk is not None}")

    def work() -> str:
        # The overlap itself: the work runs while the pipeline holds the INSERT and COMMIT.
        seen.append(f"work pipelined={connection.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF}")
        return "rendered"

    compiled = CompiledInsert(AuditEntry)
    plain, overlapped = _entry(case_manager, "plain"), _entry(case_manager, "overlapped")
    pre_save.connect(pre, sender=AuditEntry, dispatch_uid="test-pre")
    post_save.connect(post, sender=AuditEntry, dispatch_uid="test-post")
    try:
        compiled.insert(plain)
        seen.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert compiled.insert_during(overlapped, work) == "rendered"
    finally:
        pre_save.disconnect(sender=AuditEntry, dispatch_uid="test-pre")
        post_save.disconnect(sender=AuditEntry, dispatch_uid="test-post")

    assert seen == ["pre", "work pipelined=True", "post True True"]
    # One statement as Django counts them: BEGIN and COMMIT are the connection's own.
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]
    assert isinstance(overlapped.pk, int) and overlapped.pk > plain.pk and not overlapped._state.adding
    assert _rows_seen_by_another_connection("overlapped") == 1
    rows = {}
    for row in AuditEntry.objects.filter(pk__in=[plain.pk, overlapped.pk]).values():
        del row["id"], row["timestamp"]
        rows[row.pop("object_repr")] = row
    assert rows["plain"] == rows["overlapped"]
    _assert_clean()


def test_the_work_reads_the_database_and_sees_the_row(case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.models import AuditEntry

    entry = _entry(case_manager, "seen by the work")
    count = CompiledInsert(AuditEntry).insert_during(
        entry, lambda: AuditEntry.objects.filter(object_repr="seen by the work").count()
    )
    assert count == 1
    _assert_clean()


def test_a_failed_commit_is_raised_and_leaves_no_row(case_manager) -> None:  # type: ignore[no-untyped-def]
    """An actor that does not exist fails the deferred foreign key at COMMIT, after the work ran."""
    from casemgmt.models import User
    from privacy.models import AuditEntry

    ran: list[bool] = []
    entry = _entry(User(pk=uuid.uuid4(), username="ghost"), "no such actor")
    with pytest.raises(IntegrityError):
        CompiledInsert(AuditEntry).insert_during(entry, lambda: ran.append(True))
    assert ran == [True]  # it ran, and its result did not leave
    assert entry._state.adding
    assert _rows_seen_by_another_connection("no such actor") == 0
    assert not AuditEntry.objects.filter(object_repr="no such actor").exists()
    _assert_clean()


def test_a_failed_insert_is_raised_and_rolls_the_transaction_back(case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.models import AuditEntry

    entry = _entry(case_manager, "no action", action=None)
    with pytest.raises(IntegrityError):
        CompiledInsert(AuditEntry).insert_during(entry, lambda: "rendered")
    assert _rows_seen_by_another_connection("no action") == 0
    _assert_clean()


def test_a_failing_work_still_leaves_its_entry_and_a_clean_connection(case_manager) -> None:  # type: ignore[no-untyped-def]
    """A read that failed half-way is still recorded: never a read without its entry."""
    from privacy.models import AuditEntry

    def work() -> None:
        raise ValueError("the renderer failed")

    with pytest.raises(ValueError, match="renderer"):
        CompiledInsert(AuditEntry).insert_during(_entry(case_manager, "half a read"), work)
    assert _rows_seen_by_another_connection("half a read") == 1
    _assert_clean()


def test_inside_a_transaction_the_row_commits_or_rolls_back_with_it(case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.models import AuditEntry

    compiled = CompiledInsert(AuditEntry)
    with transaction.atomic():
        compiled.insert_during(_entry(case_manager, "kept"), lambda: None)
        assert _rows_seen_by_another_connection("kept") == 0  # not before the transaction's COMMIT
    assert _rows_seen_by_another_connection("kept") == 1

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        compiled.insert_during(_entry(case_manager, "abandoned"), lambda: None)
        raise Abandon
    assert _rows_seen_by_another_connection("abandoned") == 0

    # A failed INSERT inside the transaction marks it for rollback, as insert() does.
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            compiled.insert_during(_entry(case_manager, "broken", action=None), lambda: None)
        assert connection.needs_rollback
    _assert_clean()


def test_an_open_pipeline_is_left_alone(case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.models import AuditEntry

    with connection.connection.pipeline():
        assert CompiledInsert(AuditEntry).insert_during(_entry(case_manager, "nested"), lambda: 7) == 7
    assert _rows_seen_by_another_connection("nested") == 1
    _assert_clean()


@pytest.mark.parametrize("url", ["/api/v1/families/", "/api/v1/dashboard/"])
def test_a_read_request_commits_its_one_entry_and_renders_the_body(case_manager, monkeypatch, url) -> None:  # type: ignore[no-untyped-def]
    """The family list (its ids from the page) and the dashboard (its ids named by the view)."""
    import datetime

    from casemgmt.db import compiled
    from privacy.models import AuditEntry
    from tests.conftest import client_for
    from tests.factories import make_family

    # Opened long ago and never contacted: a dormant case, the dashboard's one item.
    family = make_family(case_manager, opened_on=datetime.date(2020, 1, 1))
    before = AuditEntry.objects.count()
    checked: list[bool] = []
    real = compiled._require_written
    monkeypatch.setattr(compiled, "_require_written", lambda *a: checked.append(True) or real(*a))
    response = client_for(case_manager).get(url)
    assert checked == [True]  # the request's entry took the pipeline
    assert response.status_code == 200
    body = response.json()
    ids = [item["id"] for item in body["results"]] if "results" in body else [str(family.pk)]
    assert "items" not in body or [item["family"] for item in body["items"]] == [str(family.pk)]
    entry = AuditEntry.objects.order_by("-pk").first()
    assert entry is not None and AuditEntry.objects.count() == before + 1
    assert entry.object_ids == ids and entry.actor_id == case_manager.pk
    assert _rows_seen_by_another_connection(entry.object_repr) >= 1
    _assert_clean()


def test_a_work_that_catches_the_database_s_error_does_not_hide_it(case_manager) -> None:  # type: ignore[no-untyped-def]
    """A query inside ``work`` meets the failed COMMIT's error first; catching it there must
    not let the result out as if the row were written."""
    from django.db import DatabaseError

    from casemgmt.models import User
    from privacy.models import AuditEntry

    def work() -> str:
        try:
            list(User.objects.all()[:1])
        except DatabaseError:
            return "rendered anyway"
        return "rendered"

    entry = _entry(User(pk=uuid.uuid4(), username="ghost"), "caught by the work")
    with pytest.raises(DatabaseError):
        CompiledInsert(AuditEntry).insert_during(entry, work)
    assert entry._state.adding
    assert _rows_seen_by_another_connection("caught by the work") == 0
    _assert_clean()


def test_a_connection_that_died_while_idle_is_replaced_first(case_manager) -> None:  # type: ignore[no-untyped-def]
    """CONN_HEALTH_CHECKS: the persistent connection died between two requests and the entry
    is the request's first statement; insert() reconnected, and so must insert_during()."""
    import time

    from privacy.models import AuditEntry

    assert connection.health_check_enabled
    _entry(None, "warm")  # the content type is cached: the INSERT is the first statement
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    connection.close_if_unusable_or_obsolete()  # what request_started does
    # No actor: its emergency-access check would query, and so reconnect, before the INSERT.
    entry = _entry(None, "after a reconnect")
    result = CompiledInsert(AuditEntry).insert_during(entry, lambda: "ok")
    assert result == "ok"
    assert connection.connection.info.backend_pid != pid
    assert _rows_seen_by_another_connection("after a reconnect") == 1
    _assert_clean()
