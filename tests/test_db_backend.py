"""PostgreSQL with server-side binding: bulk writes stay under the protocol's 65,535 parameters."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from casemgmt.db.postgresql.base import MAX_PARAMETERS, DatabaseOperations
from privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_bulk_update_batch_stays_under_the_limit() -> None:
    """Django hands ``["pk", "pk", *fields]`` to size a ``bulk_update`` batch, which sends two
    parameters per field and object plus the key: the batch must fit that count."""
    for fields in range(1, 40):
        batch = DatabaseOperations.bulk_batch_size(None, ["pk", "pk", *range(fields)], [None] * 10**6)  # type: ignore[arg-type]
        assert batch * (2 * fields + 1) <= MAX_PARAMETERS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's protocol limit")
def test_bulk_writes_above_the_parameter_limit_are_batched() -> None:
    assert connection.settings_dict["OPTIONS"].get("server_side_binding") is True
    content_type = ContentType.objects.get_for_model(AuditEntry)
    rows = [
        AuditEntry(content_type=content_type, object_repr="x", action=0, activity="t") for _ in range(7000)
    ]
    created = AuditEntry.objects.bulk_create(rows)
    for row in created:
        row.object_repr, row.hash, row.activity, row.object_pk, row.changes_text = (
            "y",
            "h" * 64,
            "u",
            "p",
            "c",
        )
    # 7,000 rows x (5 fields x 2 + 1) = 77,000 parameters in one UPDATE without the batching
    fields = ["object_repr", "hash", "activity", "object_pk", "changes_text"]
    assert AuditEntry.objects.bulk_update(created, fields) == 7000
    assert AuditEntry.objects.filter(object_repr="y", activity="u", changes_text="c").count() == 7000
