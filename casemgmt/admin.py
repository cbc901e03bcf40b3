"""Back office for administrators: organisations, users and memberships; no case content.

Families, persons and the permission tables are deliberately not registered. A staff user
who is not a superuser sees and edits only what their ``admin`` memberships cover (their
organisation and its member towns), by the same policies as the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from rest_framework.exceptions import ValidationError as ApiValidationError

from casemgmt import policies
from casemgmt.models import Membership, Organisation, Role, User
from casemgmt.services.accounts import password_change_require, set_password_token_issue
from casemgmt.services.administration import (
    account_create,
    membership_create,
    membership_delete,
    membership_update,
    users_managed_by,
)
from privacy.audit import audited
from privacy.registry import Activity


def _as_admin_error(exc: Exception) -> Exception:
    """A service refusal as the admin answers it: "no such object" 404, a broken rule 403."""
    if isinstance(exc, ObjectDoesNotExist):
        return Http404("No such object, or not one you administer.")
    return PermissionDenied(str(getattr(exc, "detail", exc)))


def _saved_as(obj: Membership, saved: Membership) -> None:
    """Let the admin's form object stand for the row the service wrote (redirects, history)."""
    obj.pk, obj.organisation, obj.role = saved.pk, saved.organisation, saved.role
    obj._state.adding, obj._state.db = False, saved._state.db


def membership_save(request: HttpRequest, obj: Membership, *, user: User, change: bool) -> Membership:
    """A membership form of the admin (inline or page) saved through the account services.

    So an admin role change is authorised and audited exactly as the API's: explicit actor,
    the account-management activity and the events ``role_granted`` / ``role_revoked``.
    """
    acting_user: User = request.user  # type: ignore[assignment]
    try:
        if change:
            saved = membership_update(
                membership=obj, organisation=obj.organisation, role=obj.role, acting_user=acting_user
            )
        else:
            saved = membership_create(
                user=user, organisation=obj.organisation, role=obj.role, acting_user=acting_user
            )
    except (ObjectDoesNotExist, ApiValidationError, DjangoValidationError) as exc:
        raise _as_admin_error(exc) from exc
    _saved_as(obj, saved)
    return saved


def membership_remove(request: HttpRequest, obj: Membership) -> None:
    """Delete a membership from the admin through ``membership_delete`` (audited as the API)."""
    try:
        membership_delete(membership=obj, acting_user=request.user)  # type: ignore[arg-type]
    except (ObjectDoesNotExist, ApiValidationError, DjangoValidationError) as exc:
        raise _as_admin_error(exc) from exc


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every write through the admin is attributed to the logged-in user, like an API write."""

    audit_activity = Activity.ACCOUNT_MANAGEMENT

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with audited(actor=request.user, activity=self.audit_activity):
            return super().changeform_view(request, *args, **kwargs)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with audited(actor=request.user, activity=self.audit_activity):
            return super().delete_view(request, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # bulk actions and list_editable write from the list page
        with audited(actor=request.user, activity=self.audit_activity):
            return super().changelist_view(request, *args, **kwargs)


class RoleScopedAdmin(AuditedAdmin):
    """Permissions from the ``admin`` role and its organisations, not Django model permissions."""

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        raise NotImplementedError

    def _is_admin(self, request: HttpRequest) -> bool:
        user = request.user
        # A required password change comes first: until then only the "change password" page works.
        if getattr(user, "must_change_password", False):
            return False
        return bool(user.is_active and (user.is_superuser or policies.has_role(user, Role.ADMIN)))  # type: ignore[arg-type]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scoped(request, queryset)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Out of scope answers 404 like the API (Django's default redirects with a message).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object, or not one you administer.")
        return obj

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


class UserCreationWithoutPasswordForm(forms.ModelForm):  # type: ignore[type-arg]
    """A new account has no usable password: the user sets one with a one-time token."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(RoleScopedAdmin, DjangoUserAdmin):  # type: ignore[misc,type-arg]
    """Accounts; nobody here sets another user's password (require a change or issue a token)."""

    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "must_change_password")
    add_form = UserCreationWithoutPasswordForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "first_name", "last_name", "email")}),
    )
    actions = ("require_password_change", "issue_set_password_token")

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Django's form to set any user's password is switched off for everyone.

        Whoever sets a password knows it and could act as that user; users change their own
        password (admin "Change password" link, API) or set it with a one-time token.
        """
        self.get_object(request, id)  # out of scope: 404, as everywhere else
        raise PermissionDenied("Nobody sets another user's password; issue a set-password token instead.")

    @admin.action(description="Require a new password at next login (revokes their tokens)")
    def require_password_change(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            password_change_require(user=user, acting_user=request.user)  # type: ignore[arg-type]
        self.message_user(
            request, f"{queryset.count()} user(s) must choose a new password.", messages.SUCCESS
        )

    @admin.action(description="Issue a one-time set-password token")
    def issue_set_password_token(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        # Shown once in this response, never stored in a message cookie or the session.
        issued = [
            (user.username, *set_password_token_issue(user=user, acting_user=request.user)[::-1])  # type: ignore[arg-type]
            for user in queryset
        ]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            ((u, t, r.expires_at) for u, t, r in issued),
        )
        html = format_html(
            "<!doctype html><title>Set-password tokens</title><h1>One-time set-password tokens</h1>"
            "<p>Hand each token to its user; they set their own password with "
            "<code>POST /api/v1/auth/password/set/</code>. This page is not shown again.</p>"
            "<table><tr><th>user</th><th>token</th><th>expires</th></tr>{}</table>",
            rows,
        )
        response = HttpResponse(html)
        response["Cache-Control"] = "no-store"
        return response

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=users_managed_by(request.user).values("pk"))  # type: ignore[arg-type]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new account is a ``user_created`` event with this administrator as its actor: the
        # only one who may then give it its first role (the memberships inline, saved next).
        # Filed under the top of the administrator's tree (superusers: the first district).
        managed = (
            Organisation.objects.all()
            if request.user.is_superuser
            else (
                policies.managed_organisations(request.user)  # type: ignore[arg-type]
            )
        )
        home = managed.order_by(F("parent_id").asc(nulls_first=True), "name").first()
        if home is None:
            raise PermissionDenied("Only an administrator of an organisation creates accounts here.")
        account_create(acting_user=request.user, user=obj, organisation=home)  # type: ignore[arg-type]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Membership rows go through the account services, not ``formset.save()``."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.deleted_forms:
            if row.instance.pk is not None and not row.instance._state.adding:
                membership_remove(request, row.instance)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            existing = not row.instance._state.adding
            membership_save(request, row.instance, user=form.instance, change=existing)
            if existing:
                formset.changed_objects.append((row.instance, row.changed_data))
            else:
                formset.new_objects.append(row.instance)

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
    # Autocomplete searches the scoped user admin, so no other district's usernames are listed.
    autocomplete_fields = ("user", "organisation")

    def scoped(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        orgs = policies.managed_organisations(request.user).values("pk")  # type: ignore[arg-type]
        return queryset.filter(organisation_id__in=orgs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = policies.managed_organisations(request.user)  # type: ignore[arg-type]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the service: a role for a user of another tree is "no such user" (404), as on
        # the API, and the change is an account event with the API's name.
        membership_save(request, obj, user=obj.user, change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        membership_remove(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for membership in queryset.select_related("user", "organisation"):
            membership_remove(request, membership)
