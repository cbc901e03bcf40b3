"""Print (or write to a file) the latest signed audit checkpoint, to keep a copy outside the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from privacy.transparency import export_checkpoint, latest_checkpoint, seal


class Command(BaseCommand):
    help = (
        "Export the latest signed checkpoint as JSON (keep copies in a ticket, a file, an e-mail to the DPO)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", "-o", metavar="FILE", help="write the JSON here instead of stdout")
        parser.add_argument("--seal", action="store_true", help="seal waiting entries first")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal"]:
            seal()
        checkpoint = latest_checkpoint()
        if checkpoint is None:
            raise CommandError("No checkpoint yet: nothing was sealed (is the worker running? try --seal).")
        text = json.dumps(export_checkpoint(checkpoint), indent=2) + "\n"
        if options["output"]:
            try:
                Path(options["output"]).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write {options['output']}: {exc.strerror}") from None
            self.stdout.write(f"checkpoint {checkpoint.tree_size} written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
