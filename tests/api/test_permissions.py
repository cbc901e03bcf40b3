"""One permission per view: its ``scope_map`` names the roles per action, and nothing is left open."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from api.permissions import CASE_WORK, SUPERVISION, ScopeMapPermission, scope_for
from casemgmt.models import Role
from tests.factories import make_user

#: Views open to anonymous callers on purpose.
PUBLIC = {"LoginView"}


def api_views() -> list[Any]:
    """Every view class routed under /api/v1/ (viewsets with their actions)."""
    found: list[Any] = []

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                callback = pattern.callback
                view = getattr(callback, "cls", None)
                if view is not None and view.__module__.startswith("api."):
                    found.append((view, getattr(callback, "actions", None)))

    walk(get_resolver().url_patterns)
    return found


@pytest.mark.parametrize("view,actions", api_views(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_action_of_every_view_names_its_roles(view: Any, actions: dict[str, str] | None) -> None:
    if view.__name__ in PUBLIC:
        assert view.permission_classes == (AllowAny,)
        return
    if view.__module__.startswith("api.auth"):
        return  # the caller's own session (me, logout): any authenticated user
    assert tuple(view.permission_classes) == (ScopeMapPermission,), view.__name__
    methods = [m for m in ("get", "post", "patch", "put", "delete") if hasattr(view, m)]
    for method in methods:
        instance = view()
        instance.action = (actions or {}).get(method)
        request = APIRequestFactory().generic(method.upper(), "/")
        assert scope_for(request, instance) is not None, f"{view.__name__}.{instance.action or method}"


def test_an_action_the_map_does_not_cover_is_refused(case_manager) -> None:  # type: ignore[no-untyped-def]
    class View:
        scope_map = {"list": CASE_WORK}
        action = "destroy"

    request = APIRequestFactory().delete("/")
    request.user = case_manager
    assert ScopeMapPermission().has_permission(request, View()) is False  # type: ignore[arg-type]
    View.action = "list"
    assert ScopeMapPermission().has_permission(request, View()) is True  # type: ignore[arg-type]


def test_a_refusal_says_which_role_is_needed(district) -> None:  # type: ignore[no-untyped-def]
    class View:
        scope_map = {"assign": SUPERVISION, "*": CASE_WORK}
        action = "assign"

    request = APIRequestFactory().post("/")
    request.user = make_user(district, Role.CASE_MANAGER)
    permission = ScopeMapPermission()
    assert permission.has_permission(request, View()) is False  # type: ignore[arg-type]
    assert permission.message == SUPERVISION.message
