"""Read audit for DRF views: every successful GET (or HEAD) that returns personal data is logged once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import first_organisation
from casemgmt.models.base import processing_activity
from privacy.audit import client_address, record_access


def log_access(
    *,
    request: Any,
    model: type[Model],
    object_ids: Iterable[object],
    activity: str,
    personal_data: bool = True,
    organisation_id: object = None,
    during: Callable[[], object] | None = None,
) -> Any:
    """Record that ``request.user`` read these objects: the request's facts as plain values.

    The endpoint is the route pattern (no ids), the filters are their names only (never their
    values: searches carry names and dates of birth).
    """
    route = getattr(getattr(request, "resolver_match", None), "route", "") or request.path
    if organisation_id is None:  # the reader's own, from the memberships the request has read
        organisation_id = first_organisation(request)
    return record_access(
        actor=request.user,
        endpoint=f"{request.method} /{route}",
        filters=request.GET.keys(),
        remote_addr=client_address(request._request if hasattr(request, "_request") else request),
        model=model,
        object_ids=object_ids,
        activity=activity,
        personal_data=personal_data,
        organisation_id=organisation_id,
        during=during,
    )


def response_object_ids(data: Any) -> list[Any] | None:
    """The ids of the objects in a list, page or detail body (None if it holds no objects)."""
    if isinstance(data, dict):
        if isinstance(data.get("results"), list):
            return [item.get("id") for item in data["results"] if isinstance(item, dict)]
        if "id" in data:
            return [data["id"]]
        return None
    if isinstance(data, list):
        return [item.get("id") for item in data if isinstance(item, dict)]
    return None


def response_organisation(data: Any) -> str | None:
    """The one organisation every object in the body names, if there is exactly one."""
    items = data.get("results", [data]) if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    found = {
        str(item["organisation"]) for item in items if isinstance(item, dict) and item.get("organisation")
    }
    return found.pop() if len(found) == 1 else None


class ReadAuditMixin:
    """Log who read which objects, one audit entry per request (lists, searches, details)."""

    audit_activity: str | None = None

    def filter_queryset(self, queryset: Any) -> Any:
        # Lists and details pass their queryset through here: its model is what was read.
        self._audited_model = getattr(queryset, "model", None)
        return super().filter_queryset(queryset)  # type: ignore[misc]

    def get_audit_model(self) -> type[Model]:
        # The model of the queryset the request read, else the class attribute: building the
        # (access-filtered) queryset again only to read its model cost a measurable share of
        # every GET.
        model = getattr(self, "_audited_model", None)
        if model is not None:
            return model  # type: ignore[no-any-return]
        queryset = getattr(self, "queryset", None)
        if queryset is not None:
            return queryset.model  # type: ignore[no-any-return]
        return self.get_queryset().model  # type: ignore[attr-defined,no-any-return]

    def record_read(
        self,
        *,
        model: type[Model],
        object_ids: Iterable[object],
        activity: str,
        personal_data: bool = True,
    ) -> None:
        """Name what this request read, for a view whose body is not a list or detail of objects.

        The entry is written as ``finalize_response`` renders the response (as for lists),
        not here: the view may still fail, and the rendering overlaps the entry's commit.
        """
        self._read_facts = {
            "model": model,
            "object_ids": list(object_ids),
            "activity": activity,
            "personal_data": personal_data,
        }

    def _facts_from_body(self, data: Any) -> dict[str, Any] | None:
        ids = response_object_ids(data)
        if ids is None:
            return None
        model = self.get_audit_model()
        return {
            "model": model,
            "object_ids": ids,
            # The view may name the activity; otherwise the model's own declaration.
            "activity": self.audit_activity or processing_activity(model),
            "organisation_id": response_organisation(data),
        }

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """The response, rendered here while the database commits its read entry.

        Django would render it next anyway (no middleware of ours rewrites a template
        response); rendered here, its time overlaps the entry's ``COMMIT`` and its bytes
        exist only once the entry is committed (``privacy.audit.record_access``).
        """
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        # HEAD too: it runs the same read (and its Content-Length tells the size of the body).
        if (
            request.method in ("GET", "HEAD")
            and isinstance(response, Response)
            and 200 <= response.status_code < 300
        ):
            facts = getattr(self, "_read_facts", None) or self._facts_from_body(response.data)
            if facts is not None:
                try:
                    log_access(request=request, during=response.render, **facts)
                except Exception as exc:
                    # Outside dispatch's handler: answer as a failing view would (a database
                    # that went away is the schema's 503), and never with the unaudited page.
                    error = self.handle_exception(exc)  # type: ignore[attr-defined]
                    return super().finalize_response(request, error, *args, **kwargs)  # type: ignore[misc]
        return response
