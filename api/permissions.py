"""Role gates for endpoints: one permission, and per view a map from action to roles.

Each view says in one place which roles may call which action (Sentry's ``scope_map``):

    permission_classes = (ScopeMapPermission,)
    scope_map = {"assign": SUPERVISION, "*": CASE_WORK}

Keys are viewset actions (``list``, ``create``, ``assign``…) or, for plain API views, lower-case
HTTP methods; ``"*"`` covers the rest. An action the map does not cover is refused (fail
closed). A role gate answers 403 to a user who holds none of the roles anywhere (e.g. a DPO
on the case endpoints); which objects a user with the role may touch is decided in the
database by the same policy that filters lists, so another tenant's object is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from casemgmt.models import Role
from casemgmt.selectors.families import MEMBERSHIP_ORDER, MEMBERSHIP_TREE, districts_of

ROLE_REFUSED = _("Your role does not give access to this endpoint.")


@dataclass(frozen=True)
class Roles:
    """Who may call an action, and what a caller without the role is told."""

    roles: tuple[str, ...]
    message: str | StrPromise = ROLE_REFUSED
    #: Answer 404 instead of 403: the endpoint does not reveal that it exists.
    hidden: bool = False


CASE_WORK = Roles((Role.CASE_MANAGER,), _("Only case managers work with case content."))
SUPERVISION = Roles((Role.SUPERVISOR,), _("Only supervisors may do this."))
ADMINISTRATION = Roles((Role.ADMIN,), _("Only administrators manage organisations, users and memberships."))
DPO = Roles((Role.DPO,), _("Only the data protection officer may see the record of processing activities."))
DPO_HIDDEN = Roles((Role.DPO,), hidden=True)
SUPERVISION_OR_DPO = Roles(
    (Role.SUPERVISOR, Role.DPO),
    _("Only supervisors and the DPO review possible duplicates."),
)
CASE_WORK_OR_SUPERVISION = Roles((Role.CASE_MANAGER, Role.SUPERVISOR))
CASE_WORK_SUPERVISION_OR_DPO = Roles((Role.CASE_MANAGER, Role.SUPERVISOR, Role.DPO))
STAFF = Roles((Role.CASE_MANAGER, Role.SUPERVISOR, Role.DPO, Role.ADMIN))
CATALOGUE_EDITING = Roles(
    (Role.SUPERVISOR, Role.ADMIN), _("Only administrators and supervisors edit the catalogue.")
)


#: Per membership: the role, then the organisation tree (``MEMBERSHIP_TREE``).
MEMBERSHIP_COLUMNS = ("role", *MEMBERSHIP_TREE)
_MEMBERSHIPS_ATTR = "_casemgmt_memberships"


def remember_memberships(request: Request, rows: list[tuple[Any, ...]]) -> None:
    """Keep the caller's membership rows (``MEMBERSHIP_COLUMNS``, in ``MEMBERSHIP_ORDER``).

    The token authentication reads them in its own statement (``api.authentication``), so a
    request asks the database once for who the caller is and what they may do.
    """
    setattr(request, _MEMBERSHIPS_ATTR, rows)


def first_organisation(request: Request) -> Any:
    """The caller's first organisation (``MEMBERSHIP_ORDER``) if this request has read the
    memberships already, else None (the audit entry then looks it up inside its INSERT)."""
    rows: list[tuple[Any, ...]] | None = getattr(request, _MEMBERSHIPS_ATTR, None)
    return rows[0][1] if rows else None


def _memberships(request: Request) -> list[tuple[Any, ...]]:
    """The caller's memberships (role and organisation tree), read once per request.

    One statement serves both the role gate and the district keys of a name search; after a
    token authentication, none (it read them with the token).
    """
    rows: list[tuple[Any, ...]] | None = getattr(request, _MEMBERSHIPS_ATTR, None)
    if rows is None:
        user = request.user
        rows = (
            list(user.memberships.order_by(*MEMBERSHIP_ORDER).values_list(*MEMBERSHIP_COLUMNS))  # type: ignore[union-attr]
            if user.is_active
            else []
        )
        remember_memberships(request, rows)
    return rows


def user_roles(request: Request) -> set[str]:
    """The roles the caller holds anywhere, read once per request."""
    return {row[0] for row in _memberships(request)}


def request_districts(request: Request) -> list[str]:
    """The district trees of the caller's organisations (for blind-index search terms)."""
    return districts_of(row[1:] for row in _memberships(request))


def scope_for(request: Request, view: Any) -> Roles | None:
    """The entry of the view's ``scope_map`` for this request (None: not covered, refused)."""
    scope_map: dict[str, Roles] = getattr(view, "scope_map", {})
    action = getattr(view, "action", None) or request.method.lower()  # type: ignore[union-attr]
    return scope_map.get(action) or scope_map.get("*")


class ScopeMapPermission(BasePermission):
    """Allow an authenticated caller who holds one of the roles the view's ``scope_map`` names."""

    message = Roles(()).message

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        scope = scope_for(request, view)
        if scope is None:
            return False
        if user_roles(request).intersection(scope.roles):
            return True
        if scope.hidden:
            raise exceptions.NotFound()
        self.message = scope.message
        return False
