"""Family input and output shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers import NOT_FOUND, StrictInputSerializer, StrictSerializer, update_input
from casemgmt import policies
from casemgmt.models import BenefitStatus, Family, Organisation, Role, User

#: Statuses a case manager may set directly; closing is its own action.
OPEN_FAMILY_STATUSES = [c for c in Family.Status.choices if c[0] != Family.Status.CLOSED]


class FamilyInputSerializer(StrictInputSerializer):
    """What a case manager may send when opening or editing a family."""

    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(),
        required=False,
        error_messages={"does_not_exist": NOT_FOUND},
        help_text="Needed only when the case manager works for several organisations.",
    )
    status = serializers.ChoiceField(choices=OPEN_FAMILY_STATUSES, required=False)
    preferred_languages = serializers.ListField(
        child=serializers.RegexField(r"^[a-z]{2,3}$", max_length=3), max_length=10, required=False
    )

    class Meta:
        model = Family
        fields = (
            "organisation",
            "family_name",
            "address",
            "phone",
            "notes",
            "status",
            "opened_on",
            "benefit_status_at_intake",
            "preferred_languages",
            "interpreter_needed",
        )
        extra_kwargs = {"opened_on": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "organisation" in self.fields:
            org_field = self.fields["organisation"]
            org_field.queryset = policies.organisations_with_role(request.user, Role.CASE_MANAGER)  # type: ignore[attr-defined]

    def validate_opened_on(self, value: Any) -> Any:
        from django.utils import timezone

        if value > timezone.localdate():
            raise serializers.ValidationError("A case cannot be opened in the future.", code="future_date")
        return value


# Organisation and opening date are fixed once a case exists.
FamilyUpdateInputSerializer = update_input(FamilyInputSerializer, "organisation", "opened_on")


class FamilyOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A family as the assigned case manager sees it."""

    # Empty until the case is closed: documented as such in the schema.
    benefit_status_at_closure = serializers.ChoiceField(
        choices=BenefitStatus.choices, allow_blank=True, read_only=True
    )
    closure_outcome = serializers.ChoiceField(
        choices=Family.ClosureOutcome.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Family
        fields = (
            "id",
            "reference",
            "organisation",
            "status",
            "family_name",
            "address",
            "phone",
            "notes",
            "case_manager",
            "opened_on",
            "closed_on",
            "benefit_status_at_intake",
            "benefit_status_at_closure",
            "closure_outcome",
            "preferred_languages",
            "interpreter_needed",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class FamilyOverviewSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Non-personal case fields for supervisors: no names, contact data, notes or members."""

    class Meta:
        model = Family
        fields = (
            "id",
            "reference",
            "organisation",
            "status",
            "case_manager",
            "opened_on",
            "closed_on",
            "updated_at",
        )
        read_only_fields = fields


class FamilyAssignInputSerializer(StrictSerializer):
    """The case manager to assign; checked against the family's organisation by the service."""

    case_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), error_messages={"does_not_exist": NOT_FOUND}
    )


class FamilyCloseInputSerializer(StrictSerializer):
    """Outcome and benefit status at closure: the statistics of success rest on them."""

    outcome = serializers.ChoiceField(choices=Family.ClosureOutcome.choices)
    benefit_status_at_closure = serializers.ChoiceField(choices=BenefitStatus.choices)
    closed_on = serializers.DateField(required=False)
