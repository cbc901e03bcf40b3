"""DPO endpoint: the controller details of an organisation (Art. 30(1)(a), Art. 26/28)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import dpo_organisations
from api.serializers import StrictSerializer
from casemgmt.models import Organisation
from privacy.models import ControllerProfile
from privacy.registry import ORGANISATIONAL_MEASURES


class ControllerProfileInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=500)
    representative = serializers.CharField(max_length=200)
    dpo_contact = serializers.CharField(max_length=500)
    arrangement = serializers.ChoiceField(
        choices=ControllerProfile.Arrangement.choices, default=ControllerProfile.Arrangement.SOLE
    )
    arrangement_partner = serializers.UUIDField(
        required=False, allow_null=True, help_text="The parent district or a town of this organisation."
    )
    arrangement_reference = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    processors = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    third_country_transfers = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    organisational_measures = serializers.DictField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        required=False,
        default=dict,
        help_text=f"Own text per measure ({', '.join(ORGANISATIONAL_MEASURES)}); left out: the default.",
    )
    activity_details = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(max_length=300, allow_blank=True)),
        required=False,
        default=dict,
        help_text="Per activity code: responsible_unit and dpia_reference (where the DPIA is filed).",
    )


class ControllerProfileOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null: not recorded yet"
    )

    class Meta:
        model = ControllerProfile
        fields = (
            "organisation",
            "name",
            "address",
            "representative",
            "dpo_contact",
            "arrangement",
            "arrangement_partner",
            "arrangement_reference",
            "processors",
            "third_country_transfers",
            "organisational_measures",
            "activity_details",
            "updated_at",
        )
        read_only_fields = fields


def _organisation(request: Request, organisation_id: str) -> Organisation:
    try:
        return Organisation.objects.get(pk=uuid.UUID(organisation_id), pk__in=dpo_organisations(request))
    except (ValueError, Organisation.DoesNotExist):
        raise exceptions.NotFound() from None


class ControllerProfileView(APIView):
    """The controller details the Art. 30 record of an organisation is generated from."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(responses={200: ControllerProfileOutputSerializer})
    def get(self, request: Request, organisation_id: str) -> Response:
        organisation = _organisation(request, organisation_id)
        profile = ControllerProfile.objects.filter(organisation=organisation).first()
        if profile is None:
            # Nothing recorded yet: the form to fill, with what is known (the record names the gaps).
            profile = ControllerProfile(organisation=organisation, name=organisation.name)
        return Response(ControllerProfileOutputSerializer(profile).data)

    @extend_schema(
        request=ControllerProfileInputSerializer, responses={200: ControllerProfileOutputSerializer}
    )
    def put(self, request: Request, organisation_id: str) -> Response:
        from privacy.controllers import controller_profile_set

        organisation = _organisation(request, organisation_id)
        serializer = ControllerProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        partner_id = data.pop("arrangement_partner", None)
        partner = None
        if partner_id is not None:
            # Only the district or its towns: one answer for foreign and missing ids (no oracle).
            partner = Organisation.objects.filter(
                Q(pk=organisation.parent_id) | Q(parent=organisation), pk=partner_id
            ).first()
            if partner is None:
                message = "The partner must be the parent district or one of its towns."
                raise exceptions.ValidationError(
                    {"arrangement_partner": [serializers.ErrorDetail(message, code="not_related")]}
                )
        profile = controller_profile_set(
            organisation=organisation, arrangement_partner=partner, acting_user=request.user, **data
        )
        return Response(ControllerProfileOutputSerializer(profile).data)
