"""Verify the audit log's hash chain; exit non-zero at the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from privacy.audit import verify_chain


class Command(BaseCommand):
    help = "Check that no audit entry was altered, deleted or inserted out of the chain."

    def handle(self, *args: Any, **options: Any) -> None:
        intact, message, _checked = verify_chain()
        if not intact:
            raise CommandError(f"Audit chain broken: {message}")
        self.stdout.write(self.style.SUCCESS(message))
