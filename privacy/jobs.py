"""Background jobs (django-tasks, database backend) and the schedule that enqueues them.

``manage.py run_worker`` runs the worker and, in a thread beside it, the schedule: every
``AUDIT_SEAL_INTERVAL_SECONDS`` it writes the heartbeat and enqueues sealing (unless a seal is
already waiting), once a night after ``RETENTION_HOUR`` it enqueues retention, and once a day
after ``REMINDER_HOUR`` the deadline reminders. If the
worker is down nothing breaks: requests still append their entries, which wait unsealed.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks import task

from privacy.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT = "scheduler"
#: Finished task rows older than this are deleted by the schedule (sealing enqueues many).
TASK_RESULT_KEEP = datetime.timedelta(hours=6)


@task()
def seal_audit_log() -> int:
    """Seal what requests appended since the last run; returns the new tree size (0: nothing new)."""
    from privacy.transparency import seal

    checkpoint = seal()
    return checkpoint.tree_size if checkpoint else 0


@task()
def run_retention() -> dict[str, int]:
    """The nightly retention run: every rule for every organisation, its report stored (counts only).

    Returns totals per rule (rows handled), the lapsed handovers it marked expired and the
    Art. 30 record versions it stored.
    """
    from casemgmt.services.handovers import handover_expire_lapsed
    from privacy.audit import acting_as_system
    from privacy.controllers import record_versions_refresh
    from privacy.registry import Activity
    from privacy.retention import RULES, apply_retention

    with acting_as_system(process="run_retention", activity=Activity.DATA_SUBJECT_RIGHTS):
        run = apply_retention(dry_run=False)
        run.save(trigger="nightly")
        # Lapsed handover offers already read as expired; the nightly run records it in the table too.
        expired = handover_expire_lapsed()
    with acting_as_system(process="run_retention", activity=Activity.AUDIT_LOGGING):
        # The Art. 30 record's history gains a version whenever its content changed,
        # edited or not (a deployment's new field, recipient or period).
        versions = record_versions_refresh()
    totals = {rule.code: run.total(rule.code) for rule in RULES}
    return {
        **totals,
        "families": totals["closed_cases"] + totals["dormant_intake"],
        "audit_entries_pruned": totals["audit_log"],
        "handovers_expired": expired,
        "record_versions": versions,
    }


@task()
def send_deadline_reminders() -> dict[str, int]:
    """The daily reminder run: each case manager's deadlines due or overdue, e-mailed where configured.

    The message says how many deadlines are due and overdue and links to the dashboard; it
    names no family, person or date, because e-mail leaves the system's protection.
    """
    from django.core.mail import send_mail

    from casemgmt.models import Membership, Role, User
    from casemgmt.selectors.deadlines import deadline_summary

    managers = User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(role=Role.CASE_MANAGER).values("user_id"),
    ).order_by("pk")
    users = emails = 0
    for user in managers:
        # Counts only (aggregated in SQL); the items are not needed for the message.
        _items, counts = deadline_summary(user, limit=1)
        if not (counts["due"] or counts["overdue"]):
            continue
        users += 1
        if settings.REMINDER_EMAILS and user.email:
            send_mail(
                subject="Fristen / deadlines",
                message=reminder_text(counts["due"], counts["overdue"]),
                from_email=None,
                recipient_list=[user.email],
            )
            emails += 1
    return {"case_managers_with_deadlines": users, "emails_sent": emails}


def reminder_text(due: int, overdue: int) -> str:
    """The reminder's whole text: counts and a link, in German and English, no personal data."""
    link = settings.REMINDER_LINK
    return (
        f"Sie haben {overdue} überfällige und {due} anstehende Fristen. Übersicht: {link}\n\n"
        f"You have {overdue} overdue and {due} upcoming deadlines. Overview: {link}\n"
    )


def worker_heartbeat() -> datetime.datetime | None:
    """When the worker's scheduler last ran (None: never); a readiness check compares it to now."""
    return WorkerHeartbeat.objects.filter(name=HEARTBEAT).values_list("beat_at", flat=True).first()


def _pending(task_path: str) -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=task_path, status__in=("READY", "RUNNING")).exists()


def schedule_tick(now: datetime.datetime | None = None) -> list[str]:
    """One pass of the schedule: heartbeat, sealing, nightly retention. Returns what it enqueued."""
    now = now or timezone.now()
    beat, _ = WorkerHeartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"beat_at": now})
    enqueued = []
    if not _pending(seal_audit_log.module_path):
        seal_audit_log.enqueue()
        enqueued.append("seal_audit_log")
    local = timezone.localtime(now)
    if local.hour >= settings.RETENTION_HOUR and beat.last_retention_on != local.date():
        run_retention.enqueue()
        WorkerHeartbeat.objects.filter(name=HEARTBEAT).update(last_retention_on=local.date())
        enqueued.append("run_retention")
    if local.hour >= settings.REMINDER_HOUR and beat.last_reminders_on != local.date():
        send_deadline_reminders.enqueue()
        WorkerHeartbeat.objects.filter(name=HEARTBEAT).update(last_reminders_on=local.date())
        enqueued.append("send_deadline_reminders")
    return enqueued


def prune_task_results(now: datetime.datetime | None = None) -> int:
    """Delete finished task rows older than TASK_RESULT_KEEP (sealing adds one every few seconds)."""
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - TASK_RESULT_KEEP
    deleted, _ = DBTaskResult.objects.filter(
        status__in=("SUCCESSFUL", "FAILED"), finished_at__lt=cutoff
    ).delete()
    return deleted


def purge_expired_tokens(now: datetime.datetime | None = None) -> int:
    """Delete expired login tokens of every user.

    Knox deletes a user's expired tokens on each of their requests; that scan grows with
    the user's logins, so ``api.authentication`` checks only the presented token and the
    rest is this periodic job's work (an expired token is refused either way).
    """
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return int(deleted)


class Scheduler(threading.Thread):
    """The periodic schedule, as a daemon thread of the worker process."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="casemgmt-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        ticks = 0
        while not self.stopped.is_set():
            try:
                close_old_connections()
                schedule_tick()
                if ticks % 300 == 0:
                    prune_task_results()
                    purge_expired_tokens()
                ticks += 1
            except Exception:  # a database outage must not end the schedule
                logger.exception("schedule tick failed; retrying")
            self.stopped.wait(self.interval)

    def stop(self, *args: Any) -> None:
        self.stopped.set()
