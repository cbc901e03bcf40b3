"""DPO endpoints: the record of processing activities and the audit trail."""

from __future__ import annotations

import csv
import io
from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import (
    PERIOD_FROM,
    PERIOD_TO,
    OwnFormatParameter,
    check_params,
    choice,
    period,
    report_responses,
)
from api.permissions import DPO, DPO_HIDDEN, ScopeMapPermission
from api.serializers import StrictSerializer
from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import Role
from privacy import observed, registry
from privacy.models import AuditCheckpoint, AuditEntry

LABELS = {
    "en": {
        "title": "Record of processing activities (Art. 30 GDPR)",
        "generated": "Generated",
        "period": "Observed period",
        "controller": "Controller",
        "toms": "Technical and organisational measures",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "subjects": "Data subjects",
        "categories": "Categories of personal data (special categories in bold)",
        "aggregated": "used only in aggregated, anonymised form",
        "recipients": "Recipients",
        "transfers": "Transfers to third countries",
        "retention": "Retention",
        "risk": "Risk assessment",
        "observed": "Observed operations",
        "recipients_used": "Recipients actually used",
        "footer": "Generated from the running system: categories from the field classification, measures "
        "from the configuration, figures from the audit log.",
    },
    "de": {
        "title": "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)",
        "generated": "Erstellt",
        "period": "Beobachteter Zeitraum",
        "controller": "Verantwortlicher",
        "toms": "Technische und organisatorische Maßnahmen",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "subjects": "Betroffene Personen",
        "categories": "Datenkategorien (besondere Kategorien fett)",
        "aggregated": "nur aggregiert und anonymisiert verwendet",
        "recipients": "Empfänger",
        "transfers": "Übermittlung in Drittländer",
        "retention": "Löschfristen",
        "risk": "Risikobewertung",
        "observed": "Beobachtete Vorgänge",
        "recipients_used": "Tatsächliche Empfänger",
        "footer": "Aus dem laufenden System erzeugt: Kategorien aus der Feldklassifikation, Maßnahmen aus der "
        "Konfiguration, Zahlen aus dem Protokoll.",
    },
}
FORMATS = ("json", "csv", "html")


class RegistryView(OwnFormatParameter, APIView):
    """The Art. 30 record, generated from the running system, with observed figures for a period."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="json (default), csv or html"),
            OpenApiParameter("lang", str, enum=["en", "de"]),
            OpenApiParameter("from", OpenApiTypes.DATE, description=PERIOD_FROM),
            OpenApiParameter("to", OpenApiTypes.DATE, description=PERIOD_TO),
        ],
        responses=report_responses("text/csv", "text/html"),
    )
    def get(self, request: Request) -> Any:
        params = request.query_params
        check_params(params, {"format", "lang", "from", "to"})
        fmt = choice(params, "format", FORMATS, "json")
        lang = choice(params, "lang", ("en", "de"), "en")
        start, end = period(params)
        orgs = policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]
        entries = AuditEntry.objects.filter(observed.audit_scope(orgs), observed.period_filter(start, end))
        ops = observed.operations(entries)
        used = observed.recipients_used(orgs, start, end)
        data = registry.record(lang)
        for activity in data["activities"]:
            activity["observed"] = {
                "operations": ops.get(activity["code"], {}),
                "recipients_used": used.get(activity["code"], {}),
            }
        data["period"] = {"from": start.isoformat(), "to": end.isoformat()}
        data["generated"] = timezone.now().isoformat(timespec="seconds")
        if fmt == "csv":
            return self._csv(data)
        if fmt == "html":
            html = render_to_string(
                "privacy/registry.html",
                {
                    "record": data,
                    "t": LABELS[lang],
                    "lang": lang,
                    "period": data["period"],
                    "generated": data["generated"],
                },
            )
            return HttpResponse(html, content_type="text/html; charset=utf-8")
        return Response(data)

    def _csv(self, data: dict[str, Any]) -> HttpResponse:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "code",
                "name",
                "purpose",
                "legal_basis",
                "special_categories_basis",
                "data_subjects",
                "data_categories",
                "special_categories",
                "recipients",
                "third_country_transfers",
                "retention",
                "retention_days",
                "risk_assessment",
                "operations_create",
                "operations_update",
                "operations_delete",
                "operations_access",
                "recipients_used",
            ]
        )
        for a in data["activities"]:
            ops = a["observed"]["operations"]
            writer.writerow(
                [
                    a["code"],
                    a["name"],
                    a["purpose"],
                    a["legal_basis"],
                    a["special_categories_basis"] or "",
                    "; ".join(a["data_subjects"]),
                    "; ".join(c["code"] for c in a["data_categories"]),
                    "; ".join(c["code"] for c in a["data_categories"] if c["special"]),
                    "; ".join(r["code"] for r in a["recipients"]),
                    a["third_country_transfers"],
                    a["retention"],
                    a["retention_days"] if a["retention_days"] is not None else "",
                    a["risk_assessment"],
                    ops.get("create", 0),
                    ops.get("update", 0),
                    ops.get("delete", 0),
                    ops.get("access", 0),
                    "; ".join(f"{k}={v}" for k, v in a["observed"]["recipients_used"].items()),
                ]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="record-of-processing-activities.csv"'
        return response


class AuditEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    model = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    checkpoint = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Tree size of the first signed checkpoint that covers this entry (null: not sealed yet); "
        "GET …/proof/?checkpoint=<size> proves the entry against it.",
    )

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "timestamp",
            "action",
            "activity",
            "model",
            "object_pk",
            "object_repr",
            "object_ids",
            "changes",
            "actor",
            "remote_addr",
            "organisation_id",
            "additional_data",
            "seq",
            "hash",
            "checkpoint",
        )
        read_only_fields = fields

    def get_model(self, entry: AuditEntry) -> str:
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_id(entry.content_type_id)
        return f"{ct.app_label}.{ct.model}"

    def get_action(self, entry: AuditEntry) -> str:
        return observed.ACTION_NAMES.get(entry.action, str(entry.action))


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    object = django_filters.CharFilter(
        method="filter_object",
        max_length=64,
        help_text="An object id: entries about it, including reads that returned it.",
    )
    model = django_filters.CharFilter(method="filter_model", max_length=100, help_text="e.g. casemgmt.family")
    activity = django_filters.ChoiceFilter(choices=[(a.code, a.code) for a in registry.ACTIVITIES])
    action = django_filters.ChoiceFilter(
        method="filter_action", choices=[(v, v) for v in observed.ACTION_NAMES.values()]
    )
    from_ = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte", label="from")
    to = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ("actor", "object", "model", "activity", "action", "to")

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and "from" in data:
            data = data.copy()
            data["from_"] = data.get("from")
        super().__init__(data, *args, **kwargs)

    def filter_object(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        from django.db import connection
        from django.db.models import Q

        if connection.vendor == "postgresql":
            return queryset.filter(Q(object_pk=value) | Q(object_ids__contains=[value]))
        return queryset.filter(Q(object_pk=value) | Q(object_ids__icontains=f'"{value}"'))

    def filter_model(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        app_label, _, model = value.lower().partition(".")
        if not model:
            raise exceptions.ValidationError({"model": ["Use app_label.model, e.g. casemgmt.family."]})
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_action(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        codes = {v: k for k, v in observed.ACTION_NAMES.items()}
        return queryset.filter(action=codes[value])


class CheckpointSerializer(StrictSerializer):
    origin = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="hex SHA-256 Merkle tree root (RFC 9162)")
    timestamp = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(
        help_text="base64 Ed25519 signature of the note 'origin\\ntree_size\\nroot_hash\\ntimestamp\\n'"
    )


class InclusionProofSerializer(StrictSerializer):
    entry = serializers.IntegerField()
    leaf_index = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="hex SHA-256(0x00 || canonical entry)")
    audit_path = serializers.ListField(
        child=serializers.CharField(), help_text="hex node hashes, leaf to root"
    )
    checkpoint = CheckpointSerializer()
    public_key = serializers.CharField(help_text="base64 Ed25519 public key the checkpoint verifies with")
    verified = serializers.BooleanField(help_text="the server checked the proof and the signature itself")


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The audit trail of the DPO's organisations: read only, filterable, paginated."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    # The audit trail does not reveal that it exists to anyone but the DPO.
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO_HIDDEN}

    def get_queryset(self) -> QuerySet[AuditEntry]:
        user = self.request.user
        if not user.is_authenticated:
            return AuditEntry.objects.none()  # type: ignore[no-any-return]
        orgs = policies.organisation_ids_with_role(user, Role.DPO)  # type: ignore[arg-type]
        covering = AuditCheckpoint.objects.filter(tree_size__gt=OuterRef("seq")).order_by("tree_size")
        entries: QuerySet[AuditEntry] = AuditEntry.objects.filter(observed.audit_scope(orgs)).annotate(
            checkpoint=Subquery(covering.values("tree_size")[:1])
        )
        return entries.order_by("-timestamp", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "checkpoint",
                OpenApiTypes.INT,
                description="Tree size of the signed checkpoint to prove against (default: the latest).",
            )
        ],
        responses={200: InclusionProofSerializer},
    )
    @action(detail=True, methods=["get"], url_path="proof")
    def proof(self, request: Request, pk: str | None = None) -> Response:
        """RFC 9162 inclusion proof of one entry against a signed checkpoint, for checking outside the system."""
        from privacy.transparency import AuditLogError, inclusion_proof

        check_params(request.query_params, {"checkpoint"})
        raw = request.query_params.get("checkpoint")
        size = None
        if raw is not None:
            if not raw.isdigit() or not 0 < int(raw) < 2**62:
                raise exceptions.ValidationError(
                    {"checkpoint": ["A checkpoint's tree size: a positive integer."]}
                )
            size = int(raw)
        entry = self.get_object()
        try:
            data = inclusion_proof(entry, tree_size=size)
        except AuditLogError as exc:
            if entry.seq is None:
                raise Conflict(str(exc), code="not_sealed") from None
            raise exceptions.ValidationError({"checkpoint": [str(exc)]}) from None
        return Response(InclusionProofSerializer(data).data)


# --- data subject rights (DPO)


def _dpo_organisations(request: Request) -> Any:
    return policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]


def _subject_person(request: Request, person_id: str) -> Any:
    """A person of one of the DPO's organisations, or 404 (also for malformed ids)."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from casemgmt.models import Person

    try:
        return Person.objects.select_related("family").get(
            pk=person_id, family__organisation_id__in=_dpo_organisations(request)
        )
    except (Person.DoesNotExist, ValueError, DjangoValidationError):
        raise exceptions.NotFound() from None


def _subject_family(request: Request, family_id: str) -> Any:
    from django.core.exceptions import ValidationError as DjangoValidationError

    from casemgmt.models import Family

    try:
        return Family.objects.get(pk=family_id, organisation_id__in=_dpo_organisations(request))
    except (Family.DoesNotExist, ValueError, DjangoValidationError):
        raise exceptions.NotFound() from None


EXPORT_LABELS = {
    "en": {
        "title": "Information on your personal data (Art. 15 GDPR)",
        "generated": "Generated",
        "household_hint": "Highlighted rows are household records that may mention other members.",
        "subject": "Your record",
        "family": "Your household",
        "goals": "Goals",
        "field": "Field",
        "description": "Description",
        "status": "Status",
        "dates": "Agreed → target",
        "referrals": "Referrals",
        "consents": "Consents",
        "withdrawn": "withdrawn",
        "conferences": "Case conferences",
        "contacts": "Contacts",
        "documents": "Documents (files on request)",
        "handovers": "Handovers between offices",
        "processing": "Purposes and legal bases",
        "activity": "Processing activity",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "recipients": "Recipients",
        "retention": "Retention",
        "disclosed": "Disclosed to",
        "access": "Who accessed your data",
        "when": "When",
        "action": "Action",
        "by": "By",
    },
    "de": {
        "title": "Auskunft über Ihre personenbezogenen Daten (Art. 15 DSGVO)",
        "generated": "Erstellt",
        "household_hint": "Hervorgehobene Zeilen betreffen den ganzen Haushalt und können andere Mitglieder nennen.",
        "subject": "Ihre Angaben",
        "family": "Ihr Haushalt",
        "goals": "Ziele",
        "field": "Handlungsfeld",
        "description": "Beschreibung",
        "status": "Stand",
        "dates": "Vereinbart → Ziel",
        "referrals": "Vermittlungen",
        "consents": "Einwilligungen",
        "withdrawn": "widerrufen",
        "conferences": "Fallkonferenzen",
        "contacts": "Kontakte",
        "documents": "Dokumente (Dateien auf Anfrage)",
        "handovers": "Übergaben zwischen Stellen",
        "processing": "Zwecke und Rechtsgrundlagen",
        "activity": "Verarbeitungstätigkeit",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "recipients": "Empfänger",
        "retention": "Speicherdauer",
        "disclosed": "Übermittelt an",
        "access": "Wer auf Ihre Daten zugegriffen hat",
        "when": "Wann",
        "action": "Vorgang",
        "by": "Durch",
    },
}


class SubjectExportView(OwnFormatParameter, APIView):
    """Art. 15 export of everything held on a person (JSON or a readable HTML document)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "html"]),
            OpenApiParameter("lang", str, enum=["en", "de"]),
        ],
        responses=report_responses("text/html"),
    )
    def get(self, request: Request, person_id: str) -> Any:
        from privacy.audit import log_access
        from privacy.exports import subject_export

        check_params(request.query_params, {"format", "lang"})
        fmt = choice(request.query_params, "format", ("json", "html"), "json")
        lang = choice(request.query_params, "lang", ("en", "de"), "en")
        person = _subject_person(request, person_id)
        data = subject_export(person, lang)
        from casemgmt.models import Person

        log_access(
            request=request,
            model=Person,
            object_ids=[person.pk],
            activity="data_subject_rights",
            organisation_id=person.family.organisation_id,
        )
        if fmt == "html":
            html = render_to_string(
                "privacy/subject_export.html", {"e": data, "t": EXPORT_LABELS[lang], "lang": lang}
            )
            return HttpResponse(html, content_type="text/html; charset=utf-8")
        return Response(data)


class ReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class RestrictionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    person = serializers.UUIDField(source="person_id")
    restricted_at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)


class RestrictionView(APIView):
    """Restrict processing of a person (POST) or lift the restriction (DELETE)."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(request=ReasonInputSerializer, responses={201: RestrictionOutputSerializer})
    def post(self, request: Request, person_id: str) -> Response:
        from privacy.rights import restriction_add

        person = _subject_person(request, person_id)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        restriction = restriction_add(
            person=person, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return Response(RestrictionOutputSerializer(restriction).data, status=201)

    @extend_schema(request=None, responses={200: RestrictionOutputSerializer})
    def delete(self, request: Request, person_id: str) -> Response:
        from privacy.rights import restriction_lift

        restriction = restriction_lift(person=_subject_person(request, person_id), acting_user=request.user)
        return Response(RestrictionOutputSerializer(restriction).data)


class LegalHoldInputSerializer(StrictSerializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class LegalHoldOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    family = serializers.UUIDField(source="pk")
    reference = serializers.CharField()
    legal_hold_until = serializers.DateField(allow_null=True)


class LegalHoldView(APIView):
    """Set (POST) or clear (DELETE) a legal hold that keeps a family from erasure and retention."""

    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    @extend_schema(request=LegalHoldInputSerializer, responses={200: LegalHoldOutputSerializer})
    def post(self, request: Request, family_id: str) -> Response:
        from privacy.rights import legal_hold_set

        family = _subject_family(request, family_id)
        serializer = LegalHoldInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        family = legal_hold_set(family=family, acting_user=request.user, **serializer.validated_data)
        return Response(LegalHoldOutputSerializer(family).data)

    @extend_schema(request=None, responses={200: LegalHoldOutputSerializer})
    def delete(self, request: Request, family_id: str) -> Response:
        from privacy.rights import legal_hold_clear

        family = legal_hold_clear(family=_subject_family(request, family_id), acting_user=request.user)
        return Response(LegalHoldOutputSerializer(family).data)


class ErasureRequestInputSerializer(StrictSerializer):
    person = serializers.UUIDField(required=False)
    family = serializers.UUIDField(required=False)
    dry_run = serializers.BooleanField(default=True, help_text="Defaults to true: say false to erase.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("person" in attrs) == ("family" in attrs):
            raise serializers.ValidationError(
                {"person": [serializers.ErrorDetail("Name either a person or a family.", code="required")]}
            )
        return attrs


class ErasureRequestSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        from privacy.models import ErasureRequest

        model = ErasureRequest
        fields = (
            "id",
            "subject_type",
            "subject_id",
            "requested_by",
            "requested_at",
            "outcome",
            "refusal_code",
            "summary",
        )
        read_only_fields = fields


class ErasureRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Erasure requests (Art. 17): dry run first, then execute; refusals are recorded with their reason."""

    serializer_class = ErasureRequestSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": DPO}

    def get_queryset(self) -> Any:
        from privacy.models import ErasureRequest

        if not self.request.user.is_authenticated:
            return ErasureRequest.objects.none()
        return ErasureRequest.objects.filter(organisation_id__in=_dpo_organisations(self.request))

    @extend_schema(
        request=ErasureRequestInputSerializer,
        responses={200: ErasureRequestSerializer, 201: ErasureRequestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from privacy.rights import erasure_request

        serializer = ErasureRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "person" in data:
            subject, subject_type = _subject_person(request, str(data["person"])), "person"
        else:
            subject, subject_type = _subject_family(request, str(data["family"])), "family"
        record, _summary = erasure_request(
            subject=subject, subject_type=subject_type, dry_run=data["dry_run"], acting_user=request.user
        )
        body = ErasureRequestSerializer(record).data
        if record.outcome == "refused":
            return Response(
                {"code": record.refusal_code, "detail": record.summary["reason"], "request": body}, status=409
            )
        return Response(body, status=201 if record.outcome == "executed" else 200)
