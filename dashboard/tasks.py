"""Celery wrappers; the work is in `scans`."""

from celery import shared_task

from . import scans


@shared_task(name="dashboard.refresh_health")
def refresh_health() -> int:
    return scans.refresh_health().kept
