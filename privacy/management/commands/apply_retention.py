"""Anonymise closed cases past their retention period (run daily from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from privacy.audit import acting_as_system
from privacy.registry import Activity
from privacy.retention import apply_audit_retention, apply_retention, case_retention_days


class Command(BaseCommand):
    help = "Anonymise closed families whose retention period has ended; --dry-run only lists them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be anonymised")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        with acting_as_system(process="apply_retention", activity=Activity.DATA_SUBJECT_RIGHTS):
            results = apply_retention(dry_run=dry_run)
            pruned = apply_audit_retention(dry_run=dry_run)
        verb = "would anonymise" if dry_run else "anonymised"
        for result in results:
            rows = sum(item["rows"] for item in result.summary["affected"])
            self.stdout.write(f"{verb} {result.reference} (closed {result.closed_on}): {rows} rows")
        self.stdout.write(
            f"audit entries past their retention period: {pruned} "
            f"({'would be pruned' if dry_run else 'pruned'})"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(results)} families {verb} (retention {case_retention_days()} days after closure)."
            )
        )
