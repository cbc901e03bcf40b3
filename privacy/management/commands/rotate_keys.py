"""Re-encrypt every value and blind index under the active keys (resumable)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casemgmt.db import IN_LIST_BATCH
from privacy.audit import acting_as_system, log_bulk
from privacy.cipher.crypto import DecryptionError
from privacy.cipher.keys import blind_index_keyring, encryption_keyring
from privacy.registry import Activity
from privacy.rotation import rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt values not under the active encryption key and recompute blind indexes not "
        "under the active index key, in batches. Safe to interrupt and run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help=f"rows per batch, 1-{IN_LIST_BATCH} (a batch's ids are one statement's parameters)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch_size"] <= IN_LIST_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {IN_LIST_BATCH}.")
        self.stdout.write(
            f"active encryption key {encryption_keyring().active}, "
            f"active blind index key {blind_index_keyring().active}"
        )
        from casemgmt.models import Family
        from privacy.models import AuditEntry

        with acting_as_system(process="rotate_keys", activity=Activity.KEY_MANAGEMENT):
            try:
                result = rotate(batch=options["batch_size"], progress=self.stdout.write)
            except DecryptionError as exc:
                raise CommandError(str(exc)) from exc
            log_bulk(
                model=Family,
                action=AuditEntry.Action.UPDATE,
                object_ids=[],
                note=f"key rotation: {result.rows_rotated} rows re-encrypted",
            )
        for label, n in result.per_model.items():
            self.stdout.write(f"  {label}: {n} rows rotated")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rows_rotated} of {result.rows_seen} rows rotated; "
                "run check_keys --retired OLD_KID before removing an old key"
            )
        )
