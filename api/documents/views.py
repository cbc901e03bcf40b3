"""Encrypted documents: upload (multipart), metadata, authorised and audited download, delete."""

from __future__ import annotations

import base64
from typing import Any

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import ReadAuditMixin, log_access
from api.permissions import CASE_WORK, ScopeMapPermission
from api.serializers import NOT_FOUND, StrictSerializer
from casemgmt.models import Document
from casemgmt.selectors.casework import case_records_for
from casemgmt.services.documents import document_create, document_delete, document_storage
from privacy.streaming import decrypt_stream

EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class DocumentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Document
        fields = (
            "id",
            "family",
            "person",
            "target_kind",
            "target_id",
            "content_type",
            "size",
            "filename",
            "created_by",
            "created_at",
        )
        read_only_fields = fields


class DocumentInputSerializer(StrictSerializer):
    """A file (PDF, PNG or JPEG; the type is read from the file) and the record it belongs to."""

    target_kind = serializers.ChoiceField(choices=Document.TargetKind.choices)
    target_id = serializers.UUIDField()
    file = serializers.FileField(
        allow_empty_file=False, help_text="PDF, PNG or JPEG, at most DOCUMENT_MAX_BYTES (default 20 MB)."
    )
    filename = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Defaults to the uploaded file's name."
    )


class DocumentFilter(django_filters.FilterSet):
    target_kind = django_filters.ChoiceFilter(choices=Document.TargetKind.choices)
    target_id = django_filters.UUIDFilter()
    family = django_filters.UUIDFilter(field_name="family_id")

    class Meta:
        model = Document
        fields = ("target_kind", "target_id", "family")


class DocumentViewSet(
    ReadAuditMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Documents on the records of the caller's families; the files are encrypted at rest."""

    serializer_class = DocumentOutputSerializer
    permission_classes = (ScopeMapPermission,)
    scope_map = {"*": CASE_WORK}
    filterset_class = DocumentFilter
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Document]:
        user = self.request.user
        if not user.is_authenticated:  # schema generation
            return Document.objects.none()
        change = self.action in ("destroy",)
        return case_records_for(user, Document.objects.filter(anonymised_at__isnull=True), change=change)  # type: ignore[arg-type,no-any-return]

    def get_parsers(self) -> list[Any]:
        if getattr(self, "action", None) == "create" or (
            self.request is not None and self.request.method == "POST"
        ):
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": DocumentInputSerializer}, responses={201: DocumentOutputSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DocumentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        try:
            document = document_create(
                target_kind=data["target_kind"],
                target_id=data["target_id"],
                upload=upload,
                filename=data.get("filename") or upload.name or "",
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except ObjectDoesNotExist:
            # Like any other foreign or unknown id in a request body: a 400 on the field.
            raise serializers.ValidationError(
                {"target_id": [serializers.ErrorDetail(str(NOT_FOUND), code="does_not_exist")]}
            ) from None
        return Response(DocumentOutputSerializer(document).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        document_delete(document=self.get_object(), acting_user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The decrypted file, with its sniffed Content-Type."
            )
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """The file, decrypted while it streams; every download is in the audit log."""
        document = self.get_object()
        log_access(
            request=request,
            model=Document,
            object_ids=[document.pk],
            activity="case_management",
            organisation_id=document.family.organisation_id,
        )
        key = base64.b64decode(document.data_key)
        handle = document_storage().open(document.storage_name, "rb")

        def stream() -> Any:
            try:
                yield from decrypt_stream(handle, key=key, context=f"document|{document.pk}")
            finally:
                handle.close()

        response = StreamingHttpResponse(stream(), content_type=document.content_type)
        response["Content-Length"] = str(document.size)
        # A generic name: the original one may name people and would end up in proxy logs.
        response["Content-Disposition"] = (
            f'attachment; filename="document-{document.pk}.{EXTENSIONS.get(document.content_type, "bin")}"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response
