"""Indicators and target values an organisation sets for its report to the Land (KIM reporting)."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from casemgmt.models.base import AuditContextMixin
from casemgmt.models.organisations import Organisation, User
from privacy.classification import DataCategory


class ReportIndicator(AuditContextMixin, models.Model):
    """A target value for one of the report's figures, per organisation and year."""

    PROCESSING_ACTIVITY = "outcome_statistics"
    ORGANISATION_PATH = "organisation_id"

    class Code(models.TextChoices):
        NEW_CASES = "new_cases", "New cases"
        CLOSED_CASES = "closed_cases", "Closed cases"
        CLOSED_SELF_SUFFICIENT = "closed_self_sufficient", "Cases closed as self-sufficient"
        GOALS_ACHIEVED = "goals_achieved", "Goals achieved"
        REFERRALS_COMPLETED = "referrals_completed", "Referrals completed"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    code = models.CharField(max_length=30, choices=Code.choices)
    target = models.PositiveIntegerField(validators=[MaxValueValidator(1_000_000)])
    set_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    PERSONAL_DATA: ClassVar[dict[str, DataCategory]] = {}
    NOT_PERSONAL: ClassVar[tuple[str, ...]] = (
        "id",
        "organisation",
        "year",
        "code",
        "target",
        "set_by",
        "updated_at",
    )

    class Meta:
        ordering = ("organisation", "year", "code")
        constraints = (
            models.UniqueConstraint(fields=("organisation", "year", "code"), name="report_indicator_unique"),
        )

    def __str__(self) -> str:
        return f"Indicator {self.code} {self.year}: {self.target}"
