"""DPO endpoints: the retention periods of an organisation, the nightly reports and a dry run."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import DPO, ScopeMapPermission
from api.privacy.common import dpo_organisations
from api.serializers import StrictSerializer
from casemgmt.models import Organisation
from privacy.models import RetentionPeriod, RetentionReport
from privacy.retention import RULES, apply_retention, periods_for

#: How many stored reports the endpoint lists (newest first): about a month of nightly runs.
REPORTS_LISTED = 31


class TextSerializer(serializers.Serializer):  # type: ignore[type-arg]
    de = serializers.CharField()
    en = serializers.CharField()


class RetentionRuleOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    model = serializers.CharField(help_text="The table the rule applies to (app.Model).")
    # DRF takes declared fields off the class; the name only shadows Field.label for mypy.
    label = TextSerializer()  # type: ignore[assignment]
    reference = TextSerializer(help_text="The date the period runs from.")
    action = serializers.ChoiceField(choices=("anonymise_case", "anonymise", "delete", "prune_audit"))
    activity = serializers.CharField(help_text="The processing activity of the registry (Art. 30).")
    per_organisation = serializers.BooleanField(help_text="false: one period for all organisations.")
    default_days = serializers.IntegerField()
    min_days = serializers.IntegerField()
    max_days = serializers.IntegerField()
    period_days = serializers.IntegerField(help_text="The period that applies to this organisation.")
    own_period = serializers.BooleanField(help_text="true: set by this organisation, not the default.")
    updated_at = serializers.DateTimeField(allow_null=True)


class RetentionSettingsOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisation = serializers.UUIDField()
    rules = RetentionRuleOutputSerializer(many=True)


class RetentionSettingsInputSerializer(StrictSerializer):
    periods = serializers.DictField(
        child=serializers.IntegerField(min_value=1, allow_null=True),
        help_text="Days per rule code; a rule left out or null uses its default. Replaces all own periods.",
    )


class RetentionLineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule = serializers.CharField()
    period_days = serializers.IntegerField()
    due = serializers.IntegerField(help_text="Rows past their period.")
    kept = serializers.IntegerField(help_text="Of those, kept by a legal hold or a restriction.")
    applied = serializers.IntegerField(help_text="Rows deleted or anonymised (0 in a dry run).")


class RetentionReportOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    lines = RetentionLineSerializer(many=True)

    class Meta:
        model = RetentionReport
        fields = ("id", "run_id", "ran_at", "dry_run", "trigger", "lines")
        read_only_fields = fields


class RetentionPreviewOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ran_at = serializers.DateTimeField()
    dry_run = serializers.BooleanField()
    lines = RetentionLineSerializer(many=True)


def _organisation(request: Request, organisation_id: str) -> Organisation:
    """One of the DPO's organisations; another tenant's, a missing or a malformed id: 404."""
    try:
        return Organisation.objects.get(pk=uuid.UUID(organisation_id), pk__in=dpo_organisations(request))
    except (ValueError, Organisation.DoesNotExist):
        raise exceptions.NotFound() from None


def _settings(organisation: Organisation) -> dict[str, Any]:
    own = {p.rule: p for p in RetentionPeriod.objects.filter(organisation=organisation)}
    periods = periods_for(organisation.pk)
    return {
        "organisation": organisation.pk,
        "rules": [
            {
                "code": rule.code,
                "model": rule.model,
                "label": rule.label,
                "reference": rule.reference,
                "action": rule.action,
                "activity": str(rule.activity),
                "per_organisation": rule.per_organisation,
                "default_days": rule.default_days,
                "min_days": rule.min_days,
                "max_days": rule.max_days,
                "period_days": periods[rule.code],
                "own_period": rule.code in own,
                "updated_at": own[rule.code].updated_at if rule.code in own else None,
            }
            for rule in RULES
        ],
    }


class RetentionSettingsView(APIView):
    """The retention rules and the periods that apply to an organisation; the DPO may set its own."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(responses={200: RetentionSettingsOutputSerializer})
    def get(self, request: Request, organisation_id: str) -> Response:
        organisation = _organisation(request, organisation_id)
        return Response(RetentionSettingsOutputSerializer(_settings(organisation)).data)

    @extend_schema(
        request=RetentionSettingsInputSerializer, responses={200: RetentionSettingsOutputSerializer}
    )
    def put(self, request: Request, organisation_id: str) -> Response:
        from privacy.retention import retention_periods_set

        organisation = _organisation(request, organisation_id)
        serializer = RetentionSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        retention_periods_set(
            organisation=organisation, periods=serializer.validated_data["periods"], acting_user=request.user
        )
        return Response(RetentionSettingsOutputSerializer(_settings(organisation)).data)


class RetentionReportsView(APIView):
    """The stored reports of the nightly runs (and command runs) for an organisation, newest first."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(responses={200: RetentionReportOutputSerializer(many=True)})
    def get(self, request: Request, organisation_id: str) -> Response:
        organisation = _organisation(request, organisation_id)
        reports = RetentionReport.objects.filter(organisation=organisation).order_by("-ran_at", "id")
        return Response(RetentionReportOutputSerializer(reports[:REPORTS_LISTED], many=True).data)


class RetentionPreviewView(APIView):
    """A dry run for the organisation now: what the next run would delete or anonymise (counts only)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(responses={200: RetentionPreviewOutputSerializer})
    def get(self, request: Request, organisation_id: str) -> Response:
        organisation = _organisation(request, organisation_id)
        run = apply_retention(dry_run=True, organisations=[organisation])
        lines = [line.as_dict() for line in run.lines[organisation.pk]]
        return Response(
            RetentionPreviewOutputSerializer({"ran_at": run.ran_at, "dry_run": True, "lines": lines}).data
        )
