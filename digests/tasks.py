"""Thin Celery wrappers: an hourly beat task plans the due digests and fans out one task per
recipient; the per-recipient task claims its run before sending, so duplicates are harmless."""

from celery import shared_task
from django.utils import timezone

from . import scans, selectors, services


@shared_task(name="digests.plan_weekly_digests")
def plan_weekly_digests() -> int:
    """Snapshot client health, create the due runs and enqueue every claimable one."""
    now = timezone.now()
    scans.snapshot_client_health(now)
    weeks = services.digest_runs_plan(now=now)
    run_ids = selectors.claimable_run_ids(weeks=weeks, now=now)
    for run_id in run_ids:
        send_digest.delay_on_commit(run_id)
    return len(run_ids)


@shared_task(bind=True, name="digests.send_digest")
def send_digest(self, run_id: int) -> str | None:
    # The broker hands a message back only when the worker that held it died (acks_late,
    # reject_on_worker_lost): its claim on the run is dead too and may be taken over at once.
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return services.digest_send(run_id=run_id, take_over=redelivered)
