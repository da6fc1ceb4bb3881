"""Celery wrappers; the work is in `scans`."""

from celery import shared_task

from . import scans


@shared_task(name="complaints.run_sla_scans")
def run_sla_scans() -> dict[str, list[int]]:
    """Every complaint rule once, then the escalation of what is overdue."""
    return {name: list(result) for name, result in scans.run_all().items()}
