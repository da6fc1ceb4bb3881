"""Celery wrappers; the work is in `scans`."""

from celery import shared_task

from finance_projects import scans as core_scans
from finance_projects.tasks import RETRY, escalate_unacknowledged_alerts, notify_critical_alerts

from . import scans


@shared_task(name="complaints.run_sla_scans", **RETRY)
def run_sla_scans() -> dict[str, list[int]]:
    """Every complaint rule once (through the core runner, which notes each run for the alerts'
    "last seen"), the escalation of what is overdue, then the alert e-mails."""
    results = {name: list(result) for name, result in core_scans.run_all(names=list(scans.SCANS)).items()}
    notify_critical_alerts.delay()
    escalate_unacknowledged_alerts.delay()
    return results
