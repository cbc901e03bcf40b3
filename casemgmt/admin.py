"""Back office for administrators: organisations, users and memberships; no case content.

Families, persons and the permission tables are deliberately not registered. A staff user
who is not a superuser sees and edits only what their ``admin`` memberships cover (their
organisation and its member towns), by the same policies as the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from casemgmt import policies
from casemgmt.models import Membership, Organisation, Role, User
from casemgmt.services.administration import users_managed_by


class RoleScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Permissions from the ``admin`` role and its organisations, not Django model permissions."""

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        raise NotImplementedError

    def _is_admin(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or policies.has_role(user, Role.ADMIN)))  # type: ignore[arg-type]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scoped(request, queryset)

    def _allowed(self, request: HttpRequest, obj: Model | None) -> bool:
        if not self._is_admin(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser) and self._allowed(request, obj)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    autocomplete_fields = ("organisation",)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = policies.managed_organisations(request.user)  # type: ignore[arg-type]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(RoleScopedAdmin, DjangoUserAdmin):  # type: ignore[misc,type-arg]
    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff")

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=users_managed_by(request.user).values("pk"))  # type: ignore[arg-type]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if request.user.is_superuser:
            return ()
        # Only superusers hand out superuser status, staff status or Django permissions.
        return ("is_superuser", "is_staff", "groups", "user_permissions", "last_login", "date_joined")


@admin.register(Organisation)
class OrganisationAdmin(RoleScopedAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=policies.managed_organisations(request.user).values("pk"))  # type: ignore[arg-type]


@admin.register(Membership)
class MembershipAdmin(RoleScopedAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role",)
    autocomplete_fields = ("organisation",)

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        orgs = policies.managed_organisations(request.user).values("pk")  # type: ignore[arg-type]
        return queryset.filter(organisation_id__in=orgs)
