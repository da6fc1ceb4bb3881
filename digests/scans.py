"""Weekly client-health snapshot: one INSERT ... SELECT per run, idempotent through the unique
(client, iso_year, iso_week) constraint, so two workers or a rerun never write a second row."""

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from finance_projects.alerts import ScanResult
from finance_projects.models import FinancingProject, ProjectStatus

from .models import ClientHealthSnapshot
from .weeks import IsoWeek, zone

# The projects that carry a health score (as in the dashboard): closed and lost deals are history.
LIVE_STATUSES = (ProjectStatus.ACTIVE.value, ProjectStatus.ON_HOLD.value)


def snapshot_week(now: datetime) -> IsoWeek:
    """Snapshots are labelled by the ISO week (in the site's time zone) in which they are taken."""
    return IsoWeek.of(now.astimezone(zone(settings.TIME_ZONE)).date())


def snapshot_client_health(at: datetime | None = None) -> ScanResult:
    """Record every client's health as the current week begins (the first run of the week wins).
    Registered in `finance_projects.scans.SCAN_REGISTRY`; the result counts written snapshots as
    `kept` (it opens and resolves no alert)."""
    now = at or timezone.now()
    week = snapshot_week(now)
    snapshot = ClientHealthSnapshot._meta
    project = FinancingProject._meta
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(snapshot.db_table)} "
        "(client_id, iso_year, iso_week, health, project_count, taken_at) "
        "SELECT client_id, %s, %s, CAST(ROUND(AVG(health)) AS INTEGER), COUNT(*), %s "
        f"FROM {quote(project.db_table)} "
        "WHERE status IN (%s, %s) AND health IS NOT NULL "
        "GROUP BY client_id "
        "ON CONFLICT (client_id, iso_year, iso_week) DO NOTHING"
    )
    params = [week.year, week.week, connection.ops.adapt_datetimefield_value(now), *LIVE_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = max(cursor.rowcount, 0)
    return ScanResult(opened=0, kept=written, resolved=0)
