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

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler
from django.db.models.sql.subqueries import InsertQuery

_ATTR = "_casemgmt_compiled"
_T = TypeVar("_T")


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


class CompiledInsert:
    """``instance.save()`` of a new row of ``model``, with the ``INSERT`` compiled once per connection.

    For rows written on every request: the read audit's entry cost 0.90 ms through ``save()``
    and 0.84 ms compiled, with idle gaps between entries as between requests (issue 17). Everything
    ``save()`` does for such a row still happens, in the same order: the ``pre_save`` signal
    (the audit's receivers fill actor, address, organisation and emergency tags), each field's
    own ``pre_save`` and ``get_db_prep_save`` (defaults, JSON, UUIDs), the ``INSERT`` with the
    returned primary key set on the instance, the instance's state, and ``post_save``. Only
    building and compiling the ``InsertQuery`` is done once. A value that is an expression
    (a subquery) has no parameter of its own in the compiled SQL: such a row, a model with
    parents, and a backend that cannot return columns from an ``INSERT`` go through ``save()``.
    """

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        meta = model._meta
        if meta.parents:
            raise ValueError(f"{meta.label}: a model with parents is saved table by table.")
        self._fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        self._returning = meta.db_returning_fields

    def _compile(self, using: str) -> tuple[str, SQLInsertCompiler, dict[int, Any]]:
        # From a blank instance: compiling runs each field's pre_save, which must not touch
        # the row being inserted (an auto_now field would differ from the value sent).
        query = InsertQuery(self.model)
        query.insert_values(self._fields, [self.model()])
        compiler = cast(SQLInsertCompiler, query.get_compiler(using=using))
        compiler.returning_fields = self._returning
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(self._fields):  # a placeholder that is not one parameter per field
            raise ValueError(f"{self.model._meta.label}: the INSERT has no parameter slot for every field.")
        columns = [field.get_col(self.model._meta.db_table) for field in self._returning]
        return sql, compiler, compiler.get_converters(columns)  # type: ignore[arg-type]

    def _statement(
        self, values: list[Any], using: str
    ) -> tuple[str, list[Any], SQLInsertCompiler, dict[int, Any]]:
        connection = connections[using]
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(self._fields, values, strict=True)
        ]
        cache: dict[Any, Any] = connection.__dict__.setdefault(_ATTR, {})
        compiled = cache.get(self)
        if compiled is None:
            compiled = cache[self] = self._compile(using)
        sql, compiler, converters = compiled
        return sql, params, compiler, converters

    def _returned(
        self, cursor: Any, compiler: SQLInsertCompiler, converters: dict[int, Any], using: str
    ) -> tuple[Any, ...]:
        row = connections[using].ops.fetch_returned_insert_columns(cursor, compiler.returning_params)
        if converters:
            (row,) = compiler.apply_converters([row], converters)
        return tuple(row)

    def _run(self, values: list[Any], using: str) -> tuple[Any, ...]:
        sql, params, compiler, converters = self._statement(values, using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return self._returned(cursor, compiler, converters, using)

    def _prepare(self, instance: Model, using: str) -> list[Any]:
        """``save()``'s first steps: the ``pre_save`` signal, then each field's own ``pre_save``."""
        pre_save.send(sender=type(instance), instance=instance, raw=False, using=using, update_fields=None)
        return [field.pre_save(instance, True) for field in self._fields]

    def _insert_expression(self, instance: Model, using: str) -> tuple[Any, ...]:
        # An expression is compiled into the SQL: the ORM builds this one, as save() would
        # after its signal (which has run, and must not run twice).
        (returned,) = self.model._base_manager._insert(  # type: ignore[attr-defined]
            [instance], fields=self._fields, returning_fields=self._returning, using=using
        )
        return tuple(returned)

    def _saved(self, instance: Model, returned: tuple[Any, ...], using: str) -> None:
        """``save()``'s last steps: the returned columns, the instance's state, ``post_save``."""
        for value, field in zip(returned, self._returning, strict=True):
            setattr(instance, field.attname, value)
        instance._state.adding = False
        instance._state.db = using
        post_save.send(
            sender=type(instance), instance=instance, created=True, update_fields=None, raw=False, using=using
        )

    def insert(self, instance: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
        """Insert ``instance`` as ``instance.save()`` would (the row must be new)."""
        connection = connections[using]
        if instance.pk is not None or not connection.features.can_return_columns_from_insert:
            instance.save(using=using)
            return
        self._insert_prepared(instance, self._prepare(instance, using), using)

    def _insert_prepared(self, instance: Model, values: list[Any], using: str) -> None:
        """``insert()`` after ``_prepare``: the row, then ``save()``'s last steps."""
        with transaction.mark_for_rollback_on_error(using):
            if _has_expression(values):
                returned = self._insert_expression(instance, using)
            else:
                returned = self._run(values, using)
        self._saved(instance, returned, using)

    def insert_during(self, instance: Model, work: Callable[[], _T], *, using: str = DEFAULT_DB_ALIAS) -> _T:
        """``insert(instance)``, with ``work`` run while PostgreSQL executes and commits the row.

        For the read audit: its entry is a GET's only write, and its ``COMMIT`` waits for the
        WAL flush (0.26 ms of a 0.55 ms INSERT here), which the request waited for too
        (issue 17). On PostgreSQL the INSERT goes out in psycopg's pipeline mode, between
        ``BEGIN`` and ``COMMIT`` outside a transaction, so the server commits it without
        waiting for the client; ``work`` (rendering the response) runs meanwhile. Its result
        is returned only after the row is committed: an error of the INSERT or its
        ``COMMIT`` is raised instead, and nothing ``work`` produced leaves (also when ``work``
        queried the database and caught that error itself: the answers are checked). Inside a
        transaction the INSERT is pipelined alone and commits with the transaction. If
        ``work`` fails, the row may still be committed (an entry for a read that did not
        finish, never a read without one). On SQLite, with a pipeline already open, or for a
        value that is an expression, the row is inserted first and ``work`` runs after.
        """
        connection = connections[using]
        if instance.pk is not None or not _can_pipeline(connection):
            self.insert(instance, using=using)
            return work()
        values = self._prepare(instance, using)
        if _has_expression(values):
            self._insert_prepared(instance, values, using)
            return work()
        sql, params, compiler, converters = self._statement(values, using)
        own_transaction = not connection.in_atomic_block
        raw = connection.connection
        try:
            with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
                commit = None
                with connection.wrap_database_errors, raw.pipeline():
                    if own_transaction:
                        raw.execute("BEGIN", prepare=False)
                    cursor.execute(sql, params)
                    if own_transaction:
                        commit = raw.execute("COMMIT", prepare=False)
                    result = work()
                # The pipeline's end: the server's answers are in, its errors raised, unless
                # ``work`` queried the database and caught the error itself: ask the answers.
                _require_written(raw, cursor.cursor, commit)
                returned = self._returned(cursor, compiler, converters, using)
        except BaseException:
            if own_transaction:
                _end_failed_transaction(connection)
            raise
        self._saved(instance, returned, using)
        return result


def _has_expression(values: list[Any]) -> bool:
    return any(hasattr(value, "resolve_expression") for value in values)


def _can_pipeline(connection: Any) -> bool:
    """PostgreSQL through psycopg 3 with pipeline support, and no pipeline open already."""
    if connection.vendor != "postgresql" or not connection.features.can_return_columns_from_insert:
        return False
    try:
        from psycopg import Pipeline, pq
    except ImportError:  # psycopg2
        return False
    # What connection.cursor() would do first: a persistent connection that died while idle
    # is replaced now, before the pipeline is opened on it.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    return bool(
        Pipeline.is_supported()
        and hasattr(raw, "pipeline")
        and raw.pgconn.pipeline_status == pq.PipelineStatus.OFF
    )


def _require_written(raw: Any, insert: Any, commit: Any) -> None:
    """Raise unless the server answered the INSERT, and the COMMIT if one was sent, with success.

    A COMMIT of a failed transaction answers ``ROLLBACK``; an INSERT whose error was taken
    by someone else has no ``INSERT`` status.
    """
    from django.db import DatabaseError
    from psycopg import pq

    expected = pq.TransactionStatus.IDLE if commit is not None else pq.TransactionStatus.INTRANS
    if (
        not (insert.statusmessage or "").startswith("INSERT ")
        or (commit is not None and commit.statusmessage != "COMMIT")
        or raw.info.transaction_status != expected
    ):
        raise DatabaseError("the row was not written: the database refused it inside the pipeline")


def _end_failed_transaction(connection: Any) -> None:
    """After a failed pipelined INSERT outside a transaction: no ``BEGIN`` may stay open."""
    from psycopg import pq

    raw = connection.connection
    if raw is None or raw.closed:
        connection.errors_occurred = True  # Django discards it at the request's end
        return
    if raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
        try:
            raw.execute("ROLLBACK", prepare=False)
        except Exception:  # a broken connection: Django closes it at the request's end
            connection.errors_occurred = True


def inline_constants(
    sql: str, params: Sequence[Any], keep: Callable[[int, Any], bool], using: str = DEFAULT_DB_ALIAS
) -> tuple[str, list[Any]]:
    """``sql`` with the parameters ``keep`` refuses written in as literals (quoted by the driver).

    For prepared statements on PostgreSQL: a generic plan knows nothing of a parameter's
    value, so a constant of the statement (a permission id, a role, a list of statuses) sent
    as a parameter makes the generic plan guess, PostgreSQL then prefers planning every run
    afresh, or a forced generic plan runs on guesses. As literals, only the caller's values
    (the user, the time) stay parameters, and the generic plan is the custom plan's equal.
    Other databases, and SQL whose ``%`` signs are not all placeholders, are left as they are.
    """
    connection = connections[using]
    pieces = sql.split("%s")
    if connection.vendor != "postgresql" or "%%" in sql or len(pieces) != len(params) + 1:
        return sql, list(params)
    out, kept = [pieces[0]], []
    for position, (param, rest) in enumerate(zip(params, pieces[1:], strict=True)):
        if keep(position, param):
            out.append("%s")
            kept.append(param)
        else:
            out.append(connection.ops.compose_sql("%s", [param]).replace("%", "%%"))  # type: ignore[attr-defined]
        out.append(rest)
    return "".join(out), kept
