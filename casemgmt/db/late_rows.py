"""A page of whole rows found through narrow ones (a "late row lookup"), in one statement.

A counted page (``api.pagination.CountWithPagePaginator``) must see every row of the list
before its ``LIMIT``: the window count needs them all, and the sort picks the page from
them. Done on whole rows, PostgreSQL fetches each listed row from the table (for a case
manager's families: 500 heap pages of encrypted columns) to keep 50; done on the key and
the ordering columns only, an index that carries them answers without the table, and only
the page's rows are fetched whole (issue 17: 2.6 → 1.4 ms in PostgreSQL for the family
list's page). The statement::

    SELECT <the queryset's columns>, page."total"
      FROM family
      INNER JOIN (SELECT id, COUNT(*) OVER () AS total, ROW_NUMBER() OVER (ORDER BY …) AS n
                    FROM family WHERE <the queryset's filter> ORDER BY … LIMIT 50) page
              ON family.id = page.id
     ORDER BY page.n

The inner select is the queryset itself (its filter, joins and ordering, narrowed by
``values_list``); the outer one is the queryset's columns, ``select_related`` and deferred
fields, without its filter. Django has no join to a subquery: the compiler adds it to the
``FROM`` clause. django-cte builds the same statement, but building its CTE and join took
the request as long as the database saved (bench/RESULTS.md); this is one compiler method.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import BigIntegerField, Count, F, Model, QuerySet, Window
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Expression
from django.db.models.functions import RowNumber
from django.db.models.query import ModelIterable
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler

_ALIAS = "late_page"
_KEY = "late_key"
_ORDINAL = "late_ordinal"


def rows_are_model_rows(queryset: Any) -> bool:
    """Whether a window over ``queryset`` counts and numbers its rows one for one.

    A model queryset that is not DISTINCT, grouped, combined, sliced or ``values()``: the
    precondition of the window page and of the page by keys alike.
    """
    if not isinstance(queryset, QuerySet) or queryset._iterable_class is not ModelIterable:
        return False
    query = queryset.query
    return not (query.distinct or query.group_by is not None or query.combinator or query.is_sliced)


def can_page_by_keys(queryset: Any) -> bool:
    """Whether the outer select can stand for the queryset without its filter.

    It must count row for row (``rows_are_model_rows``). Annotations, filtered relations and
    ``extra()`` may read the filter's joins; an unordered or randomly ordered query has no
    order to carry into the window; and an order that Django expands when it compiles (a
    relation's own ordering, ``reverse()``, ``extra(order_by=)``) is not what the window's
    ``F()`` terms would sort by. Those take the plain page.
    """
    if not rows_are_model_rows(queryset):
        return False
    query = queryset.query
    ordering = _ordering(queryset)
    return bool(
        not query.annotations
        and not query._filtered_relations  # type: ignore[attr-defined]
        and not query.extra
        and not query.extra_tables
        and not query.extra_order_by
        and query.standard_ordering
        and ordering
        and not any(isinstance(term, str) and _expands(queryset.model, term) for term in ordering)
    )


def _expands(model: type[Model], term: str) -> bool:
    """Whether Django would order by more than the named column: "?" or a relation (its ordering)."""
    if term == "?":
        return True
    opts = model._meta
    field: Any = None
    for part in term.lstrip("-").split(LOOKUP_SEP):
        if field is not None and not field.is_relation:
            return False  # a transform of a plain column ("opened_on__day")
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return False  # a transform, or a name the compiler will refuse anyway
        if field.is_relation and field.related_model is not None:
            opts = field.related_model._meta
    return bool(field is not None and field.is_relation)


def _ordering(queryset: QuerySet[Any]) -> tuple[Any, ...]:
    """The terms the queryset orders by: its own, else the model's unless ``order_by()`` cleared it."""
    query = queryset.query
    if query.order_by:
        return tuple(query.order_by)
    return tuple(queryset.model._meta.ordering) if query.default_ordering else ()


def page_by_keys(queryset: QuerySet[Any], bottom: int, top: int, *, total: str | None = None) -> list[Any]:
    """Rows ``bottom:top`` of ``queryset``; with ``total``, each has the list's length as that attribute."""
    model = queryset.model
    ordering = [_order_expression(term) for term in _ordering(queryset)]
    counted = {total: Window(Count("pk"))} if total else {}
    keys = (
        queryset.annotate(**{_KEY: F("pk"), **counted, _ORDINAL: Window(RowNumber(), order_by=ordering)})
        .values_list(_KEY, *counted, _ORDINAL)
        .order_by(_ORDINAL)[bottom:top]
    )
    rows = model._base_manager.using(queryset.db).all()
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    rows._prefetch_related_lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    rows._known_related_objects = queryset._known_related_objects  # type: ignore[attr-defined]
    rows.query.__class__ = _JoinedPageQuery
    rows.query.page = keys.query  # type: ignore[attr-defined]
    if total:
        rows = rows.annotate(**{total: _PageColumn(total)})
    rows = rows.order_by(_PageColumn(_ORDINAL).asc())
    return list(rows)


def _order_expression(term: Any) -> Any:
    """A model ordering term ("-opened_on") as the expression a window's ``ORDER BY`` takes."""
    if isinstance(term, str):
        return F(term[1:]).desc() if term.startswith("-") else F(term).asc()
    return term


class KeyedSlices:
    """A queryset whose slices are pages found by keys, for code that slices it itself.

    DRF's cursor pagination orders, filters by the cursor's position and slices the queryset
    it is given; handed this instead, its slice is ``page_by_keys`` (no count: a cursor page
    has none). Anything else is the queryset's.
    """

    def __init__(self, queryset: QuerySet[Any]) -> None:
        self.queryset = queryset

    def order_by(self, *fields: Any) -> KeyedSlices:
        return KeyedSlices(self.queryset.order_by(*fields))

    def filter(self, *args: Any, **kwargs: Any) -> KeyedSlices:
        return KeyedSlices(self.queryset.filter(*args, **kwargs))

    def __getitem__(self, item: Any) -> Any:
        keyed = isinstance(item, slice) and item.step is None and item.stop is not None
        if keyed and can_page_by_keys(self.queryset):
            return page_by_keys(self.queryset, item.start or 0, item.stop)
        return self.queryset[item]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queryset, name)


class _PageColumn(Expression):
    """A column of the joined page of keys, as the outer select reads it."""

    def __init__(self, name: str) -> None:
        super().__init__(output_field=BigIntegerField())
        self.name = name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        quote = connection.ops.quote_name
        return f"{quote(_ALIAS)}.{quote(self.name)}", []


class _JoinedPageQuery(Query):
    """A query whose ``FROM`` also joins its page of keys (``page``, a sliced ``values_list`` query)."""

    page: Query

    def get_compiler(self, using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        compiler.__class__ = _JoinedPageCompiler
        return compiler


class _JoinedPageCompiler(SQLCompiler):
    def get_from_clause(self) -> tuple[list[str], list[Any]]:
        result, params = super().get_from_clause()
        inner_sql, inner_params = self.query.page.get_compiler(connection=self.connection).as_sql(  # type: ignore[attr-defined]
            with_col_aliases=True
        )
        quote = self.connection.ops.quote_name
        base = self.query.base_table
        pk = self.query.get_meta().pk.column
        join = (
            f"INNER JOIN ({inner_sql}) {quote(_ALIAS)} "
            f"ON ({quote(base)}.{quote(pk)} = {quote(_ALIAS)}.{quote(_KEY)})"
        )
        # The base table comes first and has no parameters: the join's go before the others'.
        return [result[0], join, *result[1:]], [*inner_params, *params]
