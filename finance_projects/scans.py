"""Periodic detection for the core domain: one rule per function, each one SQL candidate query.

Each rule's subjects carry the severity of their open alert of that kind (a `SeverityMirror`
column: the project's `update_alert_severity`, the commitment's `due_soon_alert_severity` and
`missed_alert_severity`, the stage transition's `overrun_alert_severity`). A beat first counts a
few index ranges where a stored severity no longer matches the rule (newly due, past due, closed,
renamed...): empty when nothing changed, and then the beat returns having read nothing else.
Otherwise only the subjects in those ranges go to `alerts.sync_changed_alerts`, which opens,
keeps and resolves their alerts set-based, so a beat costs what changed, not the portfolio's
size. The subjects' own services mark a stored severity "stale" when the alert's message must
be rewritten or the project's status changed; a subject the deadline reached while its project
does not run is stored "dormant", so no range lists it again until its project changes.

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

from .alerts import ScanResult, SeverityMirror, sync_changed_alerts
from .models import (
    CRITICAL_COMMITMENT_KINDS,
    STALE_SEVERITY,
    AlertKind,
    Commitment,
    FinancingProject,
    ProjectStatus,
    ScanRun,
    StageDefinition,
    StageTransition,
)

logger = logging.getLogger(__name__)

SCAN_REGISTRY: dict[str, Callable[[datetime], ScanResult]] = {}
# Registered scans that have a beat entry of their own (their app's schedule, editable in the
# admin). `run_scans` runs them too, but the early-warning beat leaves them out: otherwise
# switching their entry off, or setting it to once a day, would change nothing.
OWN_BEAT_SCANS: set[str] = set()

PROJECT = FinancingProject._meta.db_table
COMMITMENT = Commitment._meta.db_table
TRANSITION = StageTransition._meta.db_table
STAGE_DEFINITION = StageDefinition._meta.db_table

# Commitments of projects that still run; a closed or lost deal raises no alerts.
LIVE_PROJECT_STATUSES = (ProjectStatus.ACTIVE.value, ProjectStatus.ON_HOLD.value)


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


def _due_soon_hours() -> int:
    return settings.CEM.get("COMMITMENT_DUE_SOON_HOURS", 48)


def commitment_due_soon_candidates(at: datetime) -> tuple[str, list]:
    """Open commitments due within COMMITMENT_DUE_SOON_HOURS and not yet past due: info, and
    warning in the last half of that window."""
    hours = _due_soon_hours()
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


def _days_before(column: str, days: str, *, before: bool = True) -> str:
    """SQL for `_plus_days(column, days) < _moment()` (or `>=` when not `before`) with the column
    alone on one side, so an index on it serves the comparison on PostgreSQL."""
    operator = "<" if before else ">="
    if connection.vendor == "postgresql":
        return f"{column} {operator} timezone('UTC', timezone('UTC', %s) - ({days}) * interval '1 day')"
    return f"{_plus_days(column, days)} {operator} {_moment()}"


# A scan's change ranges: each a SELECT of subject ids with its parameters.
Ranges = list[tuple[str, list]]


def _mirrored_scan(
    kind: str,
    subject_type: str,
    candidates: Callable[[datetime], tuple[str, list]],
    mirror: SeverityMirror,
    changes: Callable[[datetime], Ranges],
    dormant: Callable[[datetime], tuple[str, list]] | None = None,
):
    def scan(at: datetime, *, count_kept: bool = True) -> ScanResult:
        sql, params = candidates(at)
        dormant_sql, dormant_params = dormant(at) if dormant else (None, [])
        return sync_changed_alerts(
            kind=kind,
            subject_type=subject_type,
            candidates_sql=sql,
            params=params,
            changes=changes(at),
            mirror=mirror,
            at=at,
            dormant_sql=dormant_sql,
            dormant_params=dormant_params,
            count_kept=count_kept,
        )

    scan.__name__ = kind
    scan.__doc__ = (
        f"{candidates.__doc__}\n\nReads the stored severities first: a beat where nothing changed "
        "compares and writes nothing; otherwise only the subjects that changed are."
    )
    # What a benchmark or a test needs to know of a scan: its rule, subjects and mirror.
    scan.candidates, scan.subject_type, scan.mirror = candidates, subject_type, mirror
    return scan


UPDATE_ALERT_MIRROR = SeverityMirror(PROJECT, "update_alert_severity")
DUE_SOON_ALERT_MIRROR = SeverityMirror(COMMITMENT, "due_soon_alert_severity")
MISSED_ALERT_MIRROR = SeverityMirror(COMMITMENT, "missed_alert_severity")
OVERRUN_ALERT_MIRROR = SeverityMirror(TRANSITION, "overrun_alert_severity")


def _update_alert_changes(at: datetime) -> Ranges:
    """Where a project's stored update-alert severity no longer matches the rule at `at`: newly
    overdue, closed or put on hold, updated since, past two cadences, given a longer cadence,
    renamed. Each is one partial index range, empty on a beat where none of that happened."""
    critical_from = _plus_days("next_update_due_at", "update_cadence_days")
    ranges = [
        ("status = 'active' AND update_alert_severity = '' AND next_update_due_at < %s", [_db(at)]),
        ("update_alert_severity <> '' AND NOT status = 'active'", []),
        ("update_alert_severity <> '' AND next_update_due_at >= %s", [_db(at)]),
        ("update_alert_severity <> '' AND next_update_due_at IS NULL", []),
        (f"update_alert_severity = 'warning' AND {critical_from} < {_moment()}", [_db(at)]),
        (f"update_alert_severity = 'critical' AND {critical_from} >= {_moment()}", [_db(at)]),
        (f"update_alert_severity = '{STALE_SEVERITY}'", []),
    ]
    return [(f"SELECT id FROM {PROJECT} WHERE {where}", values) for where, values in ranges]


def _commitment_alert_changes(column: str, *, newly: tuple[str, list], moved: Ranges) -> Ranges:
    """Where a commitment's stored severity in `column` no longer matches its rule: open ones the
    deadline newly reached (`newly`, a condition on the commitment with its values; those of a
    project that does not run are then stored dormant), alerted or dormant ones closed or marked
    stale (their project renamed, stopped or restarted, or the commitment renamed), and those
    whose due date or kind moved out of the stored severity (`moved`, likewise)."""
    condition, values = newly
    return [
        (f"SELECT id FROM {COMMITMENT} WHERE status = 'open' AND {column} = '' AND {condition}", values),
        (f"SELECT id FROM {COMMITMENT} WHERE {column} <> '' AND NOT status = 'open'", []),
        (f"SELECT id FROM {COMMITMENT} WHERE {column} = '{STALE_SEVERITY}'", []),
        *((f"SELECT id FROM {COMMITMENT} WHERE {where}", where_values) for where, where_values in moved),
    ]


def _due_soon_alert_changes(at: datetime) -> Ranges:
    """Commitments newly due soon, info ones now in the window's last half, warning ones past due,
    and any whose due date moved out of the window; then the ranges both commitment rules share."""
    hours = _due_soon_hours()
    now, half, end = _db(at), _db(at + timedelta(hours=hours / 2)), _db(at + timedelta(hours=hours))
    return _commitment_alert_changes(
        "due_soon_alert_severity",
        newly=("due_at >= %s AND due_at <= %s", [now, end]),
        moved=[
            ("due_soon_alert_severity = 'info' AND due_at > %s", [end]),
            ("due_soon_alert_severity = 'info' AND due_at <= %s", [half]),
            ("due_soon_alert_severity = 'warning' AND due_at > %s", [half]),
            ("due_soon_alert_severity = 'warning' AND due_at < %s", [now]),
        ],
    )


def _missed_alert_changes(at: datetime) -> Ranges:
    """Commitments newly past due, alerted ones given a later due date or another kind (the kind
    decides the severity); then the ranges both commitment rules share."""
    critical = _in(CRITICAL_COMMITMENT_KINDS)
    return _commitment_alert_changes(
        "missed_alert_severity",
        newly=("due_at < %s", [_db(at)]),
        moved=[
            ("missed_alert_severity = 'warning' AND due_at >= %s", [_db(at)]),
            ("missed_alert_severity = 'critical' AND due_at >= %s", [_db(at)]),
            # As the partial index `commitment_missed_kind_moved` states it, to be read from it.
            (
                f"(missed_alert_severity = 'critical' AND NOT kind IN ({critical})) "
                f"OR (missed_alert_severity = 'warning' AND kind IN ({critical}))",
                [],
            ),
        ],
    )


def _overrun_alert_changes(at: datetime) -> Ranges:
    """Stays newly past their stage's expected days (those of a project not active are then stored
    dormant); alerted or dormant ones left or marked stale (their project renamed, stopped or
    restarted), alerted ones past twice the days or back under them
    (the stage's expected days were raised). Each range reads one partial index range per stage,
    bounded by that stage's expected days."""

    def stays(where: str, times: str, *, before: bool) -> tuple[str, list]:
        deadline = _days_before("t.entered_at", f"{times}d.expected_days", before=before)
        condition = f"{where} AND t.stage = d.stage AND {deadline}"
        if connection.vendor == "postgresql":
            # Stage by stage, whether the range is read alone or in the union of all of them,
            # which a planner would otherwise read as a hash join over every stay (OFFSET 0 keeps
            # it from flattening the lateral subquery into one).
            stay = f"SELECT t.id FROM {TRANSITION} AS t WHERE {condition} OFFSET 0"
            return f"SELECT t.id FROM {STAGE_DEFINITION} AS d CROSS JOIN LATERAL ({stay}) AS t", [_db(at)]
        return f"SELECT t.id FROM {STAGE_DEFINITION} AS d JOIN {TRANSITION} AS t ON {condition}", [_db(at)]

    return [
        stays("t.left_at IS NULL AND t.overrun_alert_severity = ''", "", before=True),
        (f"SELECT id FROM {TRANSITION} WHERE overrun_alert_severity <> '' AND left_at IS NOT NULL", []),
        (f"SELECT id FROM {TRANSITION} WHERE overrun_alert_severity = '{STALE_SEVERITY}'", []),
        stays("t.overrun_alert_severity = 'warning'", "", before=False),
        stays("t.overrun_alert_severity = 'critical'", "", before=False),
        stays("t.overrun_alert_severity = 'warning'", "2 * ", before=True),
        stays("t.overrun_alert_severity = 'critical'", "2 * ", before=False),
    ]


# Dormant: the rule's deadline has reached the subject row `s`, but it is no candidate, which
# leaves only its project as the reason (see alerts.sync_changed_alerts).


def _due_soon_reached(at: datetime) -> tuple[str, list]:
    hours = _due_soon_hours()
    return "s.status = 'open' AND s.due_at >= %s AND s.due_at <= %s", [
        _db(at),
        _db(at + timedelta(hours=hours)),
    ]


def _missed_reached(at: datetime) -> tuple[str, list]:
    return "s.status = 'open' AND s.due_at < %s", [_db(at)]


def _overrun_reached(at: datetime) -> tuple[str, list]:
    past_once = _days_before("s.entered_at", "d.expected_days")
    return (
        f"s.left_at IS NULL AND EXISTS "
        f"(SELECT 1 FROM {STAGE_DEFINITION} AS d WHERE d.stage = s.stage AND {past_once})",
        [_db(at)],
    )


update_overdue = _mirrored_scan(
    AlertKind.UPDATE_OVERDUE, "project", update_overdue_candidates, UPDATE_ALERT_MIRROR, _update_alert_changes
)
commitment_due_soon = _mirrored_scan(
    AlertKind.COMMITMENT_DUE_SOON,
    "commitment",
    commitment_due_soon_candidates,
    DUE_SOON_ALERT_MIRROR,
    _due_soon_alert_changes,
    _due_soon_reached,
)
commitment_missed = _mirrored_scan(
    AlertKind.COMMITMENT_MISSED,
    "commitment",
    commitment_missed_candidates,
    MISSED_ALERT_MIRROR,
    _missed_alert_changes,
    _missed_reached,
)
stage_overrun = _mirrored_scan(
    AlertKind.STAGE_OVERRUN,
    "stage_transition",
    stage_overrun_candidates,
    OVERRUN_ALERT_MIRROR,
    _overrun_alert_changes,
    _overrun_reached,
)

MIRRORED_SCANS = {
    "update_overdue": update_overdue,
    "commitment_due_soon": commitment_due_soon,
    "commitment_missed": commitment_missed,
    "stage_overrun": stage_overrun,
}
SCAN_REGISTRY.update(MIRRORED_SCANS)


def run_scan(name: str, *, at: datetime | None = None, count_kept: bool = True) -> ScanResult:
    """Run one registered scan at `at` (now by default); KeyError for an unknown name.

    Scans are called as `scan(at=...)`. A scan that only creates rows (survey invitations, say)
    may return how many it created; that count is reported as `opened`. Without `count_kept`,
    the mirrored scans leave their kept alerts uncounted (None): the beat's way, as nothing reads
    the count there and it is most of what a beat where nothing changed reads.
    """
    at = at or timezone.now()
    scan = SCAN_REGISTRY[name]
    if not count_kept and MIRRORED_SCANS.get(name) is scan:
        result = scan(at=at, count_kept=False)
    else:
        result = scan(at=at)
    _record_run(name, at)
    if isinstance(result, int):
        return ScanResult(opened=result, kept=0, resolved=0)
    return ScanResult(*result)


def _record_run(name: str, at: datetime) -> None:
    """Note that the scan ran to the end at `at`, in one statement (never moving the record back
    in time: a late run of an earlier moment says nothing newer)."""
    table = connection.ops.quote_name(ScanRun._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, ran_at) VALUES (%s, %s) ON CONFLICT (name) "
            f"DO UPDATE SET ran_at = excluded.ran_at WHERE {table}.ran_at < excluded.ran_at",
            [name, connection.ops.adapt_datetimefield_value(at)],
        )


def beat_scans() -> list[str]:
    """The scans the early-warning beat runs: every registered one without a beat of its own."""
    return [name for name in SCAN_REGISTRY if name not in OWN_BEAT_SCANS]


def run_all(
    *, at: datetime | None = None, names: list[str] | None = None, count_kept: bool = True
) -> dict[str, ScanResult]:
    """Every registered scan (or those `names`) once, in registration order, each in its own
    transaction.

    A scan that fails on its own data is logged and left out of the result; the others still
    run, and the failed one catches up on the next run (its deadlines are stored on the rows).
    A lost database connection is raised instead, so the Celery task retries the whole run
    once the database is back rather than waiting for the next beat.
    """
    at = at or timezone.now()
    results = {}
    for name in list(SCAN_REGISTRY) if names is None else names:
        try:
            results[name] = run_scan(name, at=at, count_kept=count_kept)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("Scan %s failed; the other scans ran", name)
    return results
