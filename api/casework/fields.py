"""Related fields whose choices are scoped to what the caller may touch."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND
from casemgmt import policies
from casemgmt.models import Course, FieldOfAction, Goal, Provider
from casemgmt.selectors.casework import case_records_for
from casemgmt.selectors.families import families_editable_by
from casemgmt.selectors.persons import persons_editable_by


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A primary-key field whose queryset depends on the requesting user.

    An object outside the scope is reported exactly like one that does not exist.
    """

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": NOT_FOUND,
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", self.model_queryset())
        super().__init__(**kwargs)

    def model_queryset(self) -> Any:
        raise NotImplementedError

    def scope(self, queryset: Any, user: Any) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        queryset = self.model_queryset()
        if request is None:
            return queryset.none()
        return self.scope(queryset, request.user)


class EditableFamilyField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        from casemgmt.models import Family

        return Family.objects.all()

    def scope(self, queryset: Any, user: Any) -> Any:
        # With its organisation: the services check the organisation's rules on it.
        return families_editable_by(user).select_related("organisation")


class EditablePersonField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        from casemgmt.models import Person

        return Person.objects.select_related("family")

    def scope(self, queryset: Any, user: Any) -> Any:
        return persons_editable_by(user).select_related("family", "family__organisation")


class EditableGoalField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        return Goal.objects.all()

    def scope(self, queryset: Any, user: Any) -> Any:
        return case_records_for(user, queryset, change=True)


class EditablePlanField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        from casemgmt.models import IntegrationPlan

        return IntegrationPlan.objects.all()

    def scope(self, queryset: Any, user: Any) -> Any:
        return case_records_for(user, queryset, change=True)


class CatalogueCourseField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        return Course.objects.select_related("provider")

    def scope(self, queryset: Any, user: Any) -> Any:
        return queryset.filter(organisation_id__in=policies.catalogue_visible_organisation_ids(user))


class CatalogueProviderField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        return Provider.objects.all()

    def scope(self, queryset: Any, user: Any) -> Any:
        return queryset.filter(organisation_id__in=policies.catalogue_visible_organisation_ids(user))


class FieldOfActionField(ScopedRelatedField):
    def model_queryset(self) -> Any:
        return FieldOfAction.objects.all()

    def scope(self, queryset: Any, user: Any) -> Any:
        from django.db.models import Q

        return queryset.filter(
            Q(organisation__isnull=True)
            | Q(organisation_id__in=policies.catalogue_visible_organisation_ids(user)),
            is_active=True,
        )
