"""Apply every retention rule to every organisation (the worker runs this nightly), or preview it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from privacy.audit import acting_as_system
from privacy.registry import Activity
from privacy.retention import apply_retention, report_text


class Command(BaseCommand):
    help = (
        "Delete or anonymise what each retention rule says is past its period, per organisation, "
        "and store the report; --dry-run prints the same report and changes nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print what would happen; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        from casemgmt.models import Organisation

        dry_run = options["dry_run"]
        with acting_as_system(process="apply_retention", activity=Activity.DATA_SUBJECT_RIGHTS):
            run = apply_retention(dry_run=dry_run)
            if not dry_run:
                run.save(trigger="command")
        names = dict(Organisation.objects.values_list("pk", "name"))
        for line in report_text(run, names):
            self.stdout.write(line)
        verb = "would anonymise" if dry_run else "anonymised"
        # Case references are not personal data on their own; they let the operator check a case.
        for reference in run.case_references:
            self.stdout.write(f"{verb} case {reference}")
        families = len(run.case_references)
        self.stdout.write(self.style.SUCCESS(f"{families} families {verb}; report {run.run_id}."))
