"""Person (family member) input and output shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import NOT_FOUND, OutputModelSerializer, StrictInputSerializer
from casemgmt.models import DuplicateReview, Person
from casemgmt.selectors.families import families_editable_by


class PersonInputSerializer(StrictInputSerializer):
    """What a case manager may send for a family member."""

    family = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.none(), error_messages={"does_not_exist": NOT_FOUND}
    )
    preferred_languages = serializers.ListField(
        child=serializers.RegexField(r"^[a-z]{2,3}$", max_length=3), max_length=10, required=False
    )

    class Meta:
        model = Person
        fields = (
            "family",
            "role",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "residence_status",
            "residence_valid_until",
            "country_of_origin",
            "preferred_languages",
            "interpreter_needed",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A family the caller cannot see is reported exactly like one that does not exist.
            self.fields["family"].queryset = families_editable_by(request.user)  # type: ignore[attr-defined]

    def validate_family(self, value: Any) -> Any:
        if self.instance is not None and value.pk != self.instance.family_id:
            raise serializers.ValidationError("A person cannot be moved to another family.", code="immutable")
        return value


class PersonOutputSerializer(OutputModelSerializer):
    """A family member as the assigned case manager sees them."""

    match = serializers.SerializerMethodField(
        help_text="With ?name=: 'exact' (every part of the query is a part of the name) or "
        "'possible' (sounds alike, Kölner Phonetik), exact ones listed first; null otherwise."
    )

    @extend_schema_field(
        serializers.ChoiceField(choices=DuplicateReview.Match.choices, allow_null=True)  # type: ignore[arg-type]
    )
    def get_match(self, obj: Person) -> str | None:
        return getattr(obj, "match", None)

    class Meta:
        model = Person
        fields = (
            "id",
            "family",
            "role",
            "given_name",
            "family_name",
            "date_of_birth",
            "birth_year",
            "sex",
            "residence_status",
            "residence_valid_until",
            "country_of_origin",
            "preferred_languages",
            "interpreter_needed",
            "created_at",
            "updated_at",
            "match",
        )
        read_only_fields = fields


class DuplicateWarningSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A possible duplicate in a family the caller can see (others go to the review list silently)."""

    code = serializers.CharField()
    message = serializers.CharField()
    match = serializers.ChoiceField(choices=DuplicateReview.Match.choices)
    family_reference = serializers.CharField()
    person = serializers.UUIDField()


class PersonCreatedSerializer(PersonOutputSerializer):
    """A new person, with warnings about possible duplicates in the organisation."""

    warnings = DuplicateWarningSerializer(many=True, read_only=True)

    class Meta(PersonOutputSerializer.Meta):
        fields = (*PersonOutputSerializer.Meta.fields, "warnings")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]
