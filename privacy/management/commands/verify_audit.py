"""Verify the audit log against its signed checkpoints; exit non-zero with what and where if it fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy import signing
from privacy.cipher.keys import KeyConfigurationError
from privacy.transparency import CheckpointFileError, parse_checkpoint_file, verify_log


class Command(BaseCommand):
    help = (
        "Recompute every audit leaf and Merkle root and check them against the Ed25519-signed "
        "checkpoints (and, with --checkpoint, against a checkpoint exported earlier)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--checkpoint", metavar="FILE", help="a checkpoint exported by audit_checkpoint")
        parser.add_argument(
            "--public-key",
            metavar="BASE64_OR_FILE",
            help="verify with this Ed25519 public key instead of the configured one",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="processes computing leaves (default: 1 below 200,000 entries, else one per core)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            exported = parse_checkpoint_file(options["checkpoint"]) if options["checkpoint"] else None
            key = None
            if options["public_key"]:
                value = options["public_key"]
                path = Path(value)
                key = signing.public_key_from_b64(path.read_text().strip() if path.is_file() else value)
        except (CheckpointFileError, KeyConfigurationError) as exc:
            raise CommandError(str(exc)) from None
        if options["jobs"] is not None and options["jobs"] < 1:
            raise CommandError("--jobs must be at least 1")
        report = verify_log(public_key=key, checkpoint=exported, jobs=options["jobs"])
        for note in report.notes:
            self.stdout.write(note)
        if report.unsealed:
            age = (timezone.now() - report.oldest_unsealed).total_seconds() if report.oldest_unsealed else 0
            self.stdout.write(
                f"{report.unsealed} entries are not sealed yet (oldest since "
                f"{report.oldest_unsealed:%Y-%m-%d %H:%M:%S %Z}, {age:.0f} s ago): is the worker running?"
            )
        if not report.ok:
            shown = report.problems[:20]
            more = f"\n... and {len(report.problems) - 20} more" if len(report.problems) > 20 else ""
            raise CommandError("Audit log does not verify:\n- " + "\n- ".join(shown) + more)
        latest = report.latest
        summary = (
            f"{report.entries} sealed entries verify against {report.checkpoints} signed checkpoints "
            f"(public key {signing.key_id(key or signing.configured_public_key())})"
        )
        if latest is not None:
            summary += f"; latest checkpoint {latest.tree_size} at {latest.timestamp:%Y-%m-%d %H:%M:%S %Z}"
        if report.floor:
            summary += f"; positions below {report.floor} pruned under signed statements"
        self.stdout.write(self.style.SUCCESS(summary))
