"""Page-number pagination with the count/next/previous/results envelope, and cursor mode for large lists."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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

    A page-number list pays a ``COUNT(*)`` over every visible row and an ``OFFSET`` that grows
    with the page; on a large caseload a client that only walks the list (a sync, an export)
    sends ``cursor=`` (empty: the first page) and follows ``next``: no count, and each page is
    an index range seek on the list's own ordering, however deep. The ordering is the one the
    page-number mode uses (the model's), so both modes list the same rows in the same order.
    """

    cursor_query_param = "cursor"

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
