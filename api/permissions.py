"""Role gates for endpoints. Object scoping is done by the selectors (404 for the rest).

A role gate answers 403 to a user who holds the role nowhere (e.g. a DPO on the case
endpoints); which objects a user with the role may touch is decided in the database by
the same policy that filters lists, so another tenant's object is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from casemgmt.models import Role


class _RoleGate(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not give access to this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        cache_attr = "_casemgmt_roles"
        roles = getattr(request, cache_attr, None)
        if roles is None:
            roles = set(user.memberships.values_list("role", flat=True)) if user.is_active else set()  # type: ignore[union-attr]
            setattr(request, cache_attr, roles)
        return bool(roles.intersection(self.roles))


class IsCaseManager(_RoleGate):
    roles = (Role.CASE_MANAGER,)
    message = "Only case managers work with case content."


class IsSupervisor(_RoleGate):
    roles = (Role.SUPERVISOR,)
    message = "Only supervisors may do this."


class IsCaseManagerOrSupervisor(_RoleGate):
    roles = (Role.CASE_MANAGER, Role.SUPERVISOR)


class IsCaseManagerSupervisorOrDpo(_RoleGate):
    roles = (Role.CASE_MANAGER, Role.SUPERVISOR, Role.DPO)


class IsAdministrator(_RoleGate):
    roles = (Role.ADMIN,)
    message = "Only administrators manage organisations, users and memberships."
