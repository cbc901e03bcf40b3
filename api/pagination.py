"""Page-number pagination with the count/next/previous/results envelope, and cursor mode for large lists."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from casemgmt.db.late_rows import KeyedSlices, can_page_by_keys, page_by_keys, rows_are_model_rows


class CountWithPagePaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, but the page's statement also counts the whole list.

    The count rides on the page's rows as a window aggregate (``COUNT(*) OVER ()``, computed
    before the LIMIT), so a page costs one statement, not a ``COUNT(*)`` and then the page:
    the list's filter (for case work, the access rule) is evaluated once. Only an empty page
    past the first asks for the count on its own, to tell "no such page" from "empty list".
    Querysets the window cannot count row for row (DISTINCT, grouped, combined, sliced or
    ``values()``) and non-querysets take Django's way. Meant for lists of bounded size: the
    window needs every row of the list before the LIMIT.
    """

    _TOTAL = "_page_total"

    def _counts_with_page(self) -> bool:
        return rows_are_model_rows(self.object_list)

    def page(self, number: Any) -> Page:  # type: ignore[type-arg]
        if not self._counts_with_page():
            return super().page(number)
        number = self._positive_integer(number)
        bottom = (number - 1) * self.per_page
        queryset: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        if can_page_by_keys(queryset):
            rows = page_by_keys(queryset, bottom, bottom + self.per_page, total=self._TOTAL)
        else:
            rows = list(
                queryset.annotate(**{self._TOTAL: Window(Count("pk"))})[bottom : bottom + self.per_page]
            )
        if rows:
            self.__dict__["count"] = int(getattr(rows[0], self._TOTAL))  # the cached ``count``
        elif number > 1:
            return super().page(number)  # past the end: the count decides (EmptyPage)
        else:
            self.__dict__["count"] = 0
        return self._get_page(rows, number, self)  # type: ignore[attr-defined,no-any-return]

    def _positive_integer(self, number: Any) -> int:
        """``validate_number`` without its comparison with ``num_pages`` (which would count)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            page = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if page < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return page


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class _Cursor(CursorPagination):
    page_size = StandardPagination.page_size
    page_size_query_param = StandardPagination.page_size_query_param
    max_page_size = StandardPagination.max_page_size


class PageOrCursorPagination(StandardPagination):
    """Page numbers with a ``count`` by default; DRF's cursor pagination when ``cursor`` is sent.

    A page-number list pays for counting every visible row (on the page's own statement,
    ``CountWithPagePaginator``) and an ``OFFSET`` that grows with the page; on a large
    caseload a client that only walks the list (a sync, an export) sends ``cursor=`` (empty:
    the first page) and follows ``next``: no count, and each page is an index range seek on
    the list's own ordering, however deep. The ordering is the one the page-number mode uses
    (the model's), so both modes list the same rows in the same order.
    """

    cursor_query_param = "cursor"
    # The family list is bounded by the access rule (a caseload, its deputyships, emergency
    # openings): counting with the page pays there. Not for every list: over an unbounded
    # one (the audit trail) the window would read and sort every row, where ``COUNT(*)``
    # and an index-ordered LIMIT read one page.
    django_paginator_class = CountWithPagePaginator

    def _use_cursor(self, request: Request) -> bool:
        return self.cursor_query_param in request.query_params

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> Any:
        self._cursor: _Cursor | None = None
        if self._use_cursor(request):
            self._cursor = _Cursor()
            ordering = queryset.query.order_by or queryset.model._meta.ordering
            self._cursor.ordering = tuple(str(field) for field in ordering)
            if can_page_by_keys(queryset):
                # DRF slices the queryset itself: its page is then found by keys, as ours is.
                return self._cursor.paginate_queryset(KeyedSlices(queryset), request, view)  # type: ignore[arg-type]
            return self._cursor.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        if self._cursor is not None:
            return self._cursor.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["next", "previous", "results"]
        page["properties"]["count"]["description"] = "Rows in the whole list; left out in cursor mode."
        return page

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Cursor mode for large lists: send it empty for the first page, then follow `next`. "
                    "No `count` in the response and `page` is ignored; an invalid cursor is a 404."
                ),
                "schema": {"type": "string"},
            }
        )
        return parameters


class KnownCount:
    """A queryset, or the rows already loaded, whose row count is known (a search that matched in Python).

    The paginator asks ``count()``; answering from what the request already knows saves
    the ``COUNT(*)`` statement. Slicing and iteration go to the queryset (or the list).
    """

    def __init__(self, queryset: QuerySet[Any] | list[Any], count: int, *, model: Any = None) -> None:
        self.queryset = queryset
        self._count = count
        self.ordered = getattr(queryset, "ordered", True)
        self.model = model if model is not None else queryset.model  # type: ignore[union-attr]

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, item: Any) -> Any:
        return self.queryset[item]

    def __iter__(self) -> Any:
        return iter(self.queryset)
