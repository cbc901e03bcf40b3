"""Back office for administrators: organisations, users and memberships; no case content.

Families and persons are deliberately not registered: an administrator manages accounts
and the catalogue, never reads a case.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from casemgmt.models import Membership, Organisation, User


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "organisation", "role")
    list_filter = ("role", "organisation")
    autocomplete_fields = ("organisation",)
