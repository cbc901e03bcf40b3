"""Querysets compiled to SQL once per connection and run again with other parameter values.

Building and compiling a queryset costs Django more than PostgreSQL takes to run a small
indexed statement: the token statement of every request (a join through the user to the
memberships, ordered across the join) took about 1 ms of Python and 0.3 ms in the database
(issue 17). A statement whose shape never changes, only one value in its ``WHERE``, is
compiled once by the ORM, from the same queryset, and kept with its converters; each run
puts the new value into its parameter list. The SQL is the ORM's own, the value is a bound
parameter as before, and the database's converters (SQLite's datetimes and UUIDs) still run.

Only ``values_list()`` querysets: rows come back as tuples, and the caller builds model
instances where it needs them (``Model.from_db``). The compiled form lives on the
connection wrapper (one per thread and alias), so it never crosses threads, and like any
prepared statement it is rebuilt by a restart after a migration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

_ATTR = "_casemgmt_compiled"


class CompiledValuesQuery:
    """``build(value)``'s ``values_list()`` query, compiled once per connection.

    ``build`` is called once per connection with a marker string; the marker must reach the
    compiled parameters unchanged and exactly once (a ``CharField`` or text lookup does),
    so the compiled statement cannot silently run with the marker or with another value
    baked into its SQL.
    """

    def __init__(self, name: str, build: Callable[[str], QuerySet[Any]]) -> None:
        self.name = name
        self._build = build
        self._marker = f"\x00compiled:{name}\x00"

    def _compile(self, using: str) -> tuple[str, tuple[Any, ...], int, Any, Any, int]:
        queryset = self._build(self._marker)
        query = queryset.query
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        positions = [i for i, param in enumerate(params) if param == self._marker]
        if len(positions) != 1:
            found = len(positions)
            raise ValueError(f"{self.name}: the marker must be exactly one parameter, found {found}.")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        return sql, tuple(params), positions[0], compiler, converters, compiler.col_count

    def rows(self, value: str, *, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        """The statement's rows for ``value`` (a bound parameter, never part of the SQL)."""
        connection = connections[using]
        # Keyed by this object, not its name: two statements of the same name stay apart.
        cache: dict[CompiledValuesQuery, Any] = connection.__dict__.setdefault(_ATTR, {})
        compiled = cache.get(self)
        if compiled is None:
            compiled = cache[self] = self._compile(using)
        sql, template, position, compiler, converters, width = compiled
        params = list(template)
        params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if rows and len(rows[0]) != width:  # columns a backend added for the ordering, as Django drops them
            rows = [row[:width] for row in rows]
        if converters:
            return [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return [tuple(row) for row in rows]
