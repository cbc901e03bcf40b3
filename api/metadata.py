"""OPTIONS bodies that describe what a write takes: the input serializer, with translated choice labels."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class InputMetadata(SimpleMetadata):
    """DRF describes the view's output serializer; a service-backed view takes its input serializer.

    So ``OPTIONS`` lists the fields a client may send and the choices with their labels
    (in German with ``Accept-Language: de``), not the read-only output fields.
    """

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        if not hasattr(view, "input_serializer_class"):
            return super().determine_actions(request, view)  # type: ignore[no-any-return]
        actions = super().determine_actions(request, view)
        if "POST" in actions:
            actions["POST"] = self.get_serializer_info(view.input())
        return actions  # type: ignore[no-any-return]
