"""Periodic refresh of the stored health scores, registered in `finance_projects.scans.SCAN_REGISTRY`
so the beat and `run_scans` run it with the core scans.

Set-based: the scores of the whole live portfolio come from `health.compute_health` (a fixed number
of aggregate queries) and are written back with `bulk_update` in chunks (one UPDATE per chunk).
Idempotent: a second run at the same moment writes the same values.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from finance_projects.alerts import ScanResult
from finance_projects.models import FinancingProject

from .health import compute_health, live_projects

CHUNK = 500


def refresh_health(at: datetime | None = None) -> ScanResult:
    """Recompute and store every live project's health. Opens and resolves no alert: the result
    reports the refreshed rows as `kept`."""
    at = at or timezone.now()
    scores = compute_health(projects=live_projects(FinancingProject.objects.all()), at=at)
    rows = [
        FinancingProject(pk=pk, health=health.score, health_factors=health.factors, health_computed_at=at)
        for pk, health in scores.items()
    ]
    with transaction.atomic():
        FinancingProject.objects.bulk_update(
            rows, ["health", "health_factors", "health_computed_at"], batch_size=CHUNK
        )
    return ScanResult(opened=0, kept=len(rows), resolved=0)
