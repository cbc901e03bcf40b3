"""A family model identical to ``casemgmt.Family`` but with plain fields: the baseline that
shows what field encryption costs on a list."""

from __future__ import annotations

import uuid

from django.db import models


class PlainFamily(models.Model):
    PROCESSING_ACTIVITY = "case_management"  # as casemgmt.Family: its reads are audited the same way

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=32)
    organisation = models.ForeignKey("casemgmt.Organisation", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    case_manager = models.ForeignKey("casemgmt.User", null=True, on_delete=models.SET_NULL, related_name="+")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True)
    benefit_status_at_intake = models.CharField(max_length=10)
    benefit_status_at_closure = models.CharField(max_length=10, blank=True)
    closure_outcome = models.CharField(max_length=20, blank=True)
    preferred_languages = models.JSONField(default=list)
    interpreter_needed = models.BooleanField(default=False)
    family_name = models.TextField()
    address = models.TextField(blank=True)
    phone = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-opened_on", "reference")
        indexes = (models.Index(fields=("case_manager", "opened_on"), name="plainfamily_cm"),)

    def __str__(self) -> str:
        return self.reference
