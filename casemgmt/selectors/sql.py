"""Small SQL building blocks the ORM lacks: whole days between two dates."""

from __future__ import annotations

from typing import Any

from django.db.models import Func, IntegerField


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
