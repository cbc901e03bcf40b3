"""The job worker: runs queued tasks (django-tasks database backend) and the periodic schedule."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks_db.management.commands.db_worker import Worker

from privacy.jobs import Scheduler


class Command(BaseCommand):
    help = (
        "Run the background worker: sealing of the audit log every few seconds, nightly retention, "
        "and any queued task. One per installation is enough; more are safe."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls of the task queue"
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="run queued tasks only, no periodic schedule"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] < 2:
            # one line per sealing run every few seconds is noise; failures are still logged
            logging.getLogger("django_tasks").setLevel(logging.WARNING)
        scheduler = None
        if not options["no_schedule"]:
            scheduler = Scheduler(settings.AUDIT_SEAL_INTERVAL_SECONDS)
            scheduler.start()
        worker = Worker(
            queue_names=["default"],
            interval=options["interval"],
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()  # SIGINT/SIGTERM: finish or abort the current task, then stop
        self.stdout.write(
            f"worker running: sealing every {settings.AUDIT_SEAL_INTERVAL_SECONDS:g} s, "
            f"retention nightly after {settings.RETENTION_HOUR}:00"
        )
        try:
            worker.run()
        finally:
            if scheduler is not None:
                scheduler.stop()
