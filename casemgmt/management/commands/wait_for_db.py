"""Wait until the database answers (container start: PostgreSQL may still be starting)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.utils import OperationalError


class Command(BaseCommand):
    help = "Wait until the database accepts connections; fail after --timeout seconds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait at most")

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["timeout"]
        while True:
            try:
                connection.ensure_connection()
                connection.close()
                return
            except OperationalError as exc:
                connection.close()
                if time.monotonic() >= deadline:
                    # The type only: the message can name host, user and database.
                    raise CommandError(
                        f"database not reachable after {options['timeout']:g} s ({type(exc).__name__})"
                    ) from None
                time.sleep(1)
