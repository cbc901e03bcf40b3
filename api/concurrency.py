"""Optimistic concurrency: ETags on case objects, ``If-Match`` on updates.

Every detail response of a family, person, goal or conference carries an ``ETag`` derived
from the object's id and last change. An update that sends ``If-Match`` with an older ETag
gets 412 and changes nothing; an update without ``If-Match`` is accepted (last writer
wins), so simple clients keep working — clients that edit in forms should send it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object was changed by someone else since you read it; reload it and try again."
    default_code = "precondition_failed"


def etag_for(instance: Any) -> str:
    stamp = getattr(instance, "updated_at", None)
    digest = hashlib.sha256(f"{instance.pk}|{stamp.isoformat() if stamp else ''}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _matches(header: str, current: str) -> bool:
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or current in candidates or f"W/{current}" in candidates


class ETagMixin:
    """Adds ETag to detail responses and enforces If-Match on partial updates."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        response = Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]
        response["ETag"] = etag_for(instance)
        return response

    def check_if_match(self, request: Request, pk: Any) -> None:
        """412 when If-Match names another version; call inside the update's transaction."""
        header = request.headers.get("If-Match")
        if not header:
            return
        instance = self.get_queryset().select_for_update(no_key=True, of=("self",)).filter(pk=pk).first()  # type: ignore[attr-defined]
        if instance is not None and not _matches(header, etag_for(instance)):
            raise PreconditionFailed()

    def with_etag(self, response: Response) -> Response:
        if isinstance(response.data, dict) and response.data.get("id"):
            fresh = self.get_queryset().filter(pk=response.data["id"]).first()  # type: ignore[attr-defined]
            if fresh is not None:
                response["ETag"] = etag_for(fresh)
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            self.check_if_match(request, kwargs.get("pk"))
            response: Response = super().partial_update(request, *args, **kwargs)  # type: ignore[misc]
        return self.with_etag(response)
