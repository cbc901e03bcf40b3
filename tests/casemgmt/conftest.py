"""Migration tests: move the test database to a migration and back to the latest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]] | None) -> None:
    """Migrate to ``target``; None: to the latest migrations (the schema the other tests use)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes() if target is None else target)


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Going back also unapplies every later migration: apply them again afterwards, or the
    other tests of this worker run against a schema without them."""
    yield
    migrate(None)
