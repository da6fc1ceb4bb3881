"""Celery wrappers around `scans` and `notifications`; no logic of their own.

Every scan is idempotent and safe to run twice at once, so the tasks acknowledge late (a task
whose worker died is redelivered) and retry with backoff when the database blinks.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import notifications, scans

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="finance_projects.run_scan", **RETRY)
def run_scan(name: str) -> list[int]:
    """One registered scan at the current moment: [opened, kept, resolved]."""
    return list(scans.run_scan(name, at=timezone.now()))


@shared_task(name="finance_projects.run_all_scans", **RETRY)
def run_all_scans() -> dict[str, list[int]]:
    """Every registered scan without a beat of its own once, then the e-mails about what they
    found. Kept alerts are not counted (null in the result): nothing reads that here."""
    at = timezone.now()
    ran = scans.run_all(at=at, names=scans.beat_scans(), count_kept=False)
    results = {name: list(result) for name, result in ran.items()}
    notify_critical_alerts.delay()
    escalate_unacknowledged_alerts.delay()
    return results


@shared_task(name="finance_projects.notify_critical_alerts", **RETRY)
def notify_critical_alerts() -> int:
    return notifications.notify_critical_alerts()


@shared_task(name="finance_projects.escalate_unacknowledged_alerts", **RETRY)
def escalate_unacknowledged_alerts() -> int:
    return notifications.escalate_unacknowledged_alerts()
