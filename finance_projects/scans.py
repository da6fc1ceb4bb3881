"""Periodic detection for the core domain: one rule per function, each one SQL candidate query
handed to `alerts.sync_alerts`, which opens, keeps and resolves the rule's alerts set-based.
`update_overdue`, the rule over the whole portfolio, also keeps each project's alert severity on
the project (`update_alert_severity`): a beat then finds the projects that changed from a few
index ranges and hands only those to `alerts.sync_changed_alerts`.

Upper apps register their own scans in `SCAN_REGISTRY` from their AppConfig.ready(), so
`run_scans` and the Celery beat run every scan without importing upward. A registered scan is
a callable taking the scan moment as the keyword `at` (an aware datetime) and returning a
`ScanResult`.

Every rule reads stored deadlines (`next_update_due_at`, `due_at`, a transition's `entered_at`)
through partial indexes over the open rows, so a scan is an index range scan, and a missed beat
catches up on the next run. Comparisons are strict: a deadline that falls exactly at the scan
moment is not yet passed.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from .alerts import ScanResult, SeverityMirror, sync_alerts, sync_changed_alerts
from .models import (
    STALE_SEVERITY,
    AlertKind,
    Commitment,
    CommitmentKind,
    FinancingProject,
    ProjectStatus,
    StageDefinition,
    StageTransition,
)

logger = logging.getLogger(__name__)

SCAN_REGISTRY: dict[str, Callable[[datetime], ScanResult]] = {}

PROJECT = FinancingProject._meta.db_table
COMMITMENT = Commitment._meta.db_table
TRANSITION = StageTransition._meta.db_table
STAGE_DEFINITION = StageDefinition._meta.db_table

# Commitments of projects that still run; a closed or lost deal raises no alerts.
LIVE_PROJECT_STATUSES = (ProjectStatus.ACTIVE.value, ProjectStatus.ON_HOLD.value)
# Broken schedule and pricing promises hurt the client most (DESIGN §1).
CRITICAL_COMMITMENT_KINDS = (CommitmentKind.SCHEDULE.value, CommitmentKind.PRICING.value)


def _plus_days(column: str, days: str) -> str:
    """SQL for `column + days` days of 24 hours, comparable with `_moment()`. On PostgreSQL in UTC
    time, which keeps the expression immutable, so an index can hold it (migration 0006)."""
    if connection.vendor == "postgresql":
        return f"(timezone('UTC', {column}) + ({days}) * interval '1 day')"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {column}, '+' || ({days}) || ' days')"


def _moment() -> str:
    """The placeholder for a moment compared with `_plus_days()` (SQLite compares text)."""
    if connection.vendor == "postgresql":
        return "timezone('UTC', %s)"
    return "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s)"


def _db(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def update_overdue_candidates(at: datetime) -> tuple[str, list]:
    """Active projects whose next client update is overdue: warning past one cadence without an
    update, critical past two."""
    sql = f"""
        SELECT p.id AS project_id, p.id AS subject_id,
               CASE WHEN {_plus_days("p.next_update_due_at", "p.update_cadence_days")} < {_moment()}
                    THEN 'critical' ELSE 'warning' END AS severity,
               p.code || ' ' || p.name AS message,
               p.relationship_manager_id AS assignee_id
        FROM {PROJECT} AS p
        WHERE p.status = 'active' AND p.next_update_due_at < %s
    """
    return sql, [_db(at), _db(at)]


def commitment_due_soon_candidates(at: datetime) -> tuple[str, list]:
    """Open commitments due within COMMITMENT_DUE_SOON_HOURS and not yet past due: info, and
    warning in the last half of that window."""
    hours = settings.CEM.get("COMMITMENT_DUE_SOON_HOURS", 48)
    sql = f"""
        SELECT c.project_id AS project_id, c.id AS subject_id,
               CASE WHEN c.due_at <= %s THEN 'warning' ELSE 'info' END AS severity,
               p.code || ' · ' || c.title AS message,
               p.relationship_manager_id AS assignee_id
        FROM {COMMITMENT} AS c JOIN {PROJECT} AS p ON p.id = c.project_id
        WHERE c.status = 'open' AND c.due_at >= %s AND c.due_at <= %s
          AND p.status IN ({_in(LIVE_PROJECT_STATUSES)})
    """
    return sql, [_db(at + timedelta(hours=hours / 2)), _db(at), _db(at + timedelta(hours=hours))]


def commitment_missed_candidates(at: datetime) -> tuple[str, list]:
    """Open commitments past due: critical for schedule and pricing promises, else warning."""
    sql = f"""
        SELECT c.project_id AS project_id, c.id AS subject_id,
               CASE WHEN c.kind IN ({_in(CRITICAL_COMMITMENT_KINDS)})
                    THEN 'critical' ELSE 'warning' END AS severity,
               p.code || ' · ' || c.title AS message,
               p.relationship_manager_id AS assignee_id
        FROM {COMMITMENT} AS c JOIN {PROJECT} AS p ON p.id = c.project_id
        WHERE c.status = 'open' AND c.due_at < %s
          AND p.status IN ({_in(LIVE_PROJECT_STATUSES)})
    """
    return sql, [_db(at)]


def stage_overrun_candidates(at: datetime) -> tuple[str, list]:
    """Active projects in their current stage longer than the stage's expected days: warning,
    critical past twice that. The subject is the current stage transition, so moving the
    project on resolves the alert and a later overrun of the next stage is a new one."""
    sql = f"""
        SELECT p.id AS project_id, t.id AS subject_id,
               CASE WHEN {_plus_days("t.entered_at", "2 * d.expected_days")} < {_moment()}
                    THEN 'critical' ELSE 'warning' END AS severity,
               p.code || ' ' || p.name AS message,
               p.relationship_manager_id AS assignee_id
        FROM {TRANSITION} AS t
        JOIN {PROJECT} AS p ON p.id = t.project_id
        JOIN {STAGE_DEFINITION} AS d ON d.stage = t.stage
        WHERE t.left_at IS NULL AND p.status = 'active'
          AND {_plus_days("t.entered_at", "d.expected_days")} < {_moment()}
    """
    return sql, [_db(at), _db(at)]


def _scan(kind: str, subject_type: str, candidates: Callable[[datetime], tuple[str, list]]):
    def scan(at: datetime) -> ScanResult:
        sql, params = candidates(at)
        return sync_alerts(kind=kind, subject_type=subject_type, candidates_sql=sql, params=params, at=at)

    scan.__name__ = kind
    scan.__doc__ = candidates.__doc__
    return _described(scan, candidates=candidates, subject_type=subject_type)


def _described(scan, *, candidates, subject_type: str, mirror: SeverityMirror | None = None):
    """What a benchmark or a test needs to know of a scan: its rule, subjects and mirror."""
    scan.candidates, scan.subject_type, scan.mirror = candidates, subject_type, mirror
    return scan


UPDATE_ALERT_MIRROR = SeverityMirror(PROJECT, "update_alert_severity")


def _update_alert_changes(at: datetime) -> list[tuple[str, list]]:
    """Where a project's stored update-alert severity no longer matches the rule at `at`: newly
    overdue, closed or put on hold, updated since, past two cadences, given a longer cadence,
    renamed. Each is one partial index range, empty on a beat where none of that happened."""
    critical_from = _plus_days("next_update_due_at", "update_cadence_days")
    return [
        ("status = 'active' AND update_alert_severity = '' AND next_update_due_at < %s", [_db(at)]),
        ("update_alert_severity <> '' AND NOT status = 'active'", []),
        ("update_alert_severity <> '' AND next_update_due_at >= %s", [_db(at)]),
        ("update_alert_severity <> '' AND next_update_due_at IS NULL", []),
        (f"update_alert_severity = 'warning' AND {critical_from} < {_moment()}", [_db(at)]),
        (f"update_alert_severity = 'critical' AND {critical_from} >= {_moment()}", [_db(at)]),
        (f"update_alert_severity = '{STALE_SEVERITY}'", []),
    ]


def _update_alerts_settled(at: datetime) -> bool:
    """Whether no project's stored severity needs a write at `at`: a few empty index ranges.

    Counts, not EXISTS: a planner expecting rows would pick a scan that stops at the first one,
    which reads everything when none is there."""
    ranges = _update_alert_changes(at)
    changes = " + ".join(f"(SELECT count(*) FROM {PROJECT} WHERE {where})" for where, _ in ranges)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {changes}", [value for _, values in ranges for value in values])
        return cursor.fetchone()[0] == 0


def update_overdue(at: datetime) -> ScanResult:
    """Active projects whose next client update is overdue (see `update_overdue_candidates`).

    Reads the projects' stored alert severities first: a beat where nothing changed writes and
    compares nothing else; otherwise only the projects that changed are compared and written."""
    if _update_alerts_settled(at):
        # Every stored severity stands for an open alert (an index-only count).
        alerted = FinancingProject.objects.exclude(update_alert_severity="").count()
        return ScanResult(opened=0, kept=alerted, resolved=0)
    sql, params = update_overdue_candidates(at)
    ranges = _update_alert_changes(at)
    changed = " UNION ".join(f"SELECT id FROM {PROJECT} WHERE {where}" for where, _ in ranges)
    return sync_changed_alerts(
        kind=AlertKind.UPDATE_OVERDUE,
        subject_type="project",
        candidates_sql=sql,
        params=params,
        changed_sql=changed,
        changed_params=[value for _, values in ranges for value in values],
        mirror=UPDATE_ALERT_MIRROR,
        at=at,
    )


_described(
    update_overdue, candidates=update_overdue_candidates, subject_type="project", mirror=UPDATE_ALERT_MIRROR
)
commitment_due_soon = _scan(AlertKind.COMMITMENT_DUE_SOON, "commitment", commitment_due_soon_candidates)
commitment_missed = _scan(AlertKind.COMMITMENT_MISSED, "commitment", commitment_missed_candidates)
stage_overrun = _scan(AlertKind.STAGE_OVERRUN, "stage_transition", stage_overrun_candidates)

SCAN_REGISTRY.update(
    {
        "update_overdue": update_overdue,
        "commitment_due_soon": commitment_due_soon,
        "commitment_missed": commitment_missed,
        "stage_overrun": stage_overrun,
    }
)


def run_scan(name: str, *, at: datetime | None = None) -> ScanResult:
    """Run one registered scan at `at` (now by default); KeyError for an unknown name.

    Scans are called as `scan(at=...)`. A scan that only creates rows (survey invitations, say)
    may return how many it created; that count is reported as `opened`.
    """
    result = SCAN_REGISTRY[name](at=at or timezone.now())
    if isinstance(result, int):
        return ScanResult(opened=result, kept=0, resolved=0)
    return ScanResult(*result)


def run_all(*, at: datetime | None = None) -> dict[str, ScanResult]:
    """Every registered scan once, in registration order, each in its own transaction.

    A scan that fails on its own data is logged and left out of the result; the others still
    run, and the failed one catches up on the next run (its deadlines are stored on the rows).
    A lost database connection is raised instead, so the Celery task retries the whole run
    once the database is back rather than waiting for the next beat.
    """
    at = at or timezone.now()
    results = {}
    for name in list(SCAN_REGISTRY):
        try:
            results[name] = run_scan(name, at=at)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("Scan %s failed; the other scans ran", name)
    return results
