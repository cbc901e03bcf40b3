"""Verify that every stored encrypted value decrypts; show which keys are in use."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from privacy.cipher.keys import blind_index_keyring, encryption_keyring
from privacy.rotation import check_keys


class Command(BaseCommand):
    help = (
        "Decrypt every encrypted value; report values per key id; --retired KID fails if KID is still used."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--retired",
            action="append",
            default=[],
            help="a key id you want to remove: fails while any value still uses it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_keys()
        self.stdout.write(
            f"encryption keys configured: {sorted(encryption_keyring().keys)} "
            f"(active {encryption_keyring().active})"
        )
        self.stdout.write(
            f"blind index keys configured: {sorted(blind_index_keyring().keys)} "
            f"(active {blind_index_keyring().active})"
        )
        for kid, n in sorted(report.values_by_key.items()):
            self.stdout.write(f"  values under encryption key {kid}: {n}")
        for kid, n in sorted(report.indexes_by_key.items()):
            self.stdout.write(f"  blind indexes under key {kid}: {n}")
        if not report.ok:
            for failure in report.failures:
                self.stderr.write(f"  FAILED {failure}")
            raise CommandError("Some values do not decrypt with the configured keys.")
        still_used = [k for k in options["retired"] if report.values_by_key[k] or report.indexes_by_key[k]]
        if still_used:
            raise CommandError(f"Key(s) {still_used} still protect stored values: run rotate_keys first.")
        self.stdout.write(self.style.SUCCESS("every stored value decrypts"))
