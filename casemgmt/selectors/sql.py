"""Small SQL building blocks the ORM lacks: whole days between dates, and a median aggregate."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.backends.signals import connection_created
from django.db.models import Aggregate, FloatField, Func, IntegerField


class DaysBetween(Func):
    """``end - start`` in whole days, computed by the database."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        if connection.vendor == "postgresql":
            return super().as_sql(
                compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra
            )
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Median(Aggregate):
    """The median, in SQL: ``percentile_cont`` on PostgreSQL, a registered aggregate on SQLite."""

    function = "MEDIAN"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Connections opened before this module was imported have no MEDIAN yet.
        register_sqlite_functions(None, connection)
        return self.as_sql(compiler, connection, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        clone = self.copy()
        clone.template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
        return clone.as_sql(compiler, connection, **extra)


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _SqliteMedian)


connection_created.connect(register_sqlite_functions, dispatch_uid="casemgmt_sqlite_median")
