"""Alert services: raising, resolving and handling alerts, and the set-based engine every scan uses.

Two ways an alert comes into being:

- **Event-driven**, `alert_raise(...)`: something just happened (a detractor answered a survey)
  and one alert is raised for it. Idempotent: an open alert for the same (kind, subject) is
  refreshed instead of duplicated.
- **Scan-driven**, `sync_alerts(...)`: a periodic scan hands over one SELECT listing every subject
  whose condition holds *now*; the engine opens, keeps and resolves alerts of that kind in a
  constant number of statements, whatever the number of rows.

Both rely on the database, not on Python checks, to stay correct when two workers run at once:
the conditional unique constraint `one_open_alert_per_subject` allows at most one open alert per
(kind, subject_type, subject_id), and inserts that lose the race are dropped by the database.

Messages: `Alert.message` holds the subject's own name (project code and name, commitment title),
which is data and reads the same in both languages. The sentence around it (the kind's label,
severity, dates) is translated where the alert is shown: the API's `kind_display`, the dashboard
and the e-mails, in the reader's language.

"Changes nothing": a scan run changes nothing when it opens no alert, resolves no alert and
finds every kept alert with the same severity and message. Such a run writes no row at all;
`last_seen_at` moves only when the scan opens an alert or changes its severity or message, and
when `alert_raise` raises the same alert again.

Set-based writes bypass django-simple-history (no historical rows for scan inserts/resolutions);
the alert's own timestamps (`opened_at`, `resolved_at`) carry that history. Actions taken by
people (acknowledge, snooze, assign) go through the ORM and are recorded.
"""

from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Alert, AlertSeverity, FinancingProject
from .selectors import portfolio_for

SEVERITY_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


class ScanResult(NamedTuple):
    """What one scan run did: alerts opened, open alerts whose condition still holds, resolved."""

    opened: int
    kept: int
    resolved: int


def _open_alert(*, kind: str, subject_type: str, subject_id: int, lock: bool = False) -> Alert | None:
    alerts = Alert.objects.filter(
        kind=kind, subject_type=subject_type, subject_id=subject_id, resolved_at__isnull=True
    )
    if lock:
        alerts = alerts.select_for_update()
    return alerts.first()


@transaction.atomic
def alert_raise(
    *,
    kind: str,
    severity: str,
    project: FinancingProject,
    subject_type: str,
    subject_id: int,
    message: str,
    assignee: User | None = None,
    at: datetime | None = None,
) -> Alert:
    """Raise an alert about one subject, or refresh the open one already raised about it.

    A refresh moves `last_seen_at`, raises the severity when the new one is higher (never
    lowers it) and keeps the message, assignee and the acknowledgement as they were.
    """
    at = at or timezone.now()
    if severity not in SEVERITY_RANK:
        raise ValidationError({"severity": _("Unknown severity.")})
    existing = _open_alert(kind=kind, subject_type=subject_type, subject_id=subject_id, lock=True)
    if existing is None:
        try:
            with transaction.atomic():
                return Alert.objects.create(
                    kind=kind,
                    severity=severity,
                    project=project,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    message=message,
                    opened_at=at,
                    last_seen_at=at,
                    assignee=assignee or project.relationship_manager,
                )
        except IntegrityError:
            # Another worker raised it between our read and our insert: theirs is the one.
            existing = _open_alert(kind=kind, subject_type=subject_type, subject_id=subject_id, lock=True)
            if existing is None:
                raise
    existing.last_seen_at = at
    fields = ["last_seen_at"]
    if SEVERITY_RANK[severity] > SEVERITY_RANK[existing.severity]:
        existing.severity = severity
        fields.append("severity")
    existing.save(update_fields=fields)
    return existing


def alerts_resolve(*, kind: str, subject_type: str, subject_id: int, at: datetime | None = None) -> int:
    """Resolve the open alert of this kind about this subject; returns how many were resolved."""
    return Alert.objects.filter(
        kind=kind, subject_type=subject_type, subject_id=subject_id, resolved_at__isnull=True
    ).update(resolved_at=at or timezone.now())


def _lock_open(alert: Alert) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.resolved_at is not None:
        raise ValidationError({"alert": _("This alert is already resolved.")})
    return locked


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, at: datetime | None = None) -> Alert:
    """Note that someone has seen the alert and is acting on it; stops the escalation."""
    locked = _lock_open(alert)
    if locked.acknowledged_at is None:
        locked.acknowledged_at = at or timezone.now()
        locked.acknowledged_by = by
        locked._history_user = by
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked


@transaction.atomic
def alert_snooze(*, alert: Alert, until: datetime, by: User) -> Alert:
    """Hide the alert from the attention lists until a moment in the future."""
    if until is None or until <= timezone.now():
        raise ValidationError({"until": _("Snooze until a moment in the future.")})
    locked = _lock_open(alert)
    locked.snoozed_until = until
    locked._history_user = by
    locked.save(update_fields=["snoozed_until"])
    return locked


@transaction.atomic
def alert_assign(*, alert: Alert, assignee: User, by: User) -> Alert:
    """Hand the alert to someone who can see its project."""
    if assignee is None or not assignee.is_active:
        raise ValidationError({"assignee": _("Choose an active user.")})
    if not portfolio_for(assignee).filter(pk=alert.project_id).exists():
        raise ValidationError({"assignee": _("This person cannot see the alert's project.")})
    locked = _lock_open(alert)
    locked.assignee = assignee
    locked._history_user = by
    locked.save(update_fields=["assignee"])
    return locked


# --- The set-based engine ------------------------------------------------------------------


def _table() -> str:
    return connection.ops.quote_name(Alert._meta.db_table)


# One statement. `d` pairs every candidate with the open alert about the same subject through a
# FULL JOIN, which PostgreSQL can only run as a hash or merge join: the cost stays linear even
# when the alert table's statistics are stale (a burst of new alerts, say), where an anti-join
# could fall back to a nested loop. The writes then touch alerts by primary key only.
_POSTGRES_SYNC = """
WITH c AS MATERIALIZED ({candidates}),
o AS MATERIALIZED (
    SELECT a.id, a.subject_id, a.severity, a.message FROM {table} AS a
    WHERE a.kind = %s AND a.subject_type = %s AND a.resolved_at IS NULL
),
d AS MATERIALIZED (
    SELECT c.project_id, c.subject_id, c.severity, c.message, c.assignee_id,
           o.id AS alert_id, o.severity AS old_severity, o.message AS old_message
    FROM c FULL JOIN o ON o.subject_id = c.subject_id
),
resolved AS (
    UPDATE {table} AS a SET resolved_at = %s
    FROM d WHERE d.subject_id IS NULL AND a.id = d.alert_id AND a.resolved_at IS NULL
    RETURNING 1
),
changed AS (
    UPDATE {table} AS a SET severity = d.severity, message = d.message, last_seen_at = %s
    FROM d
    WHERE d.subject_id IS NOT NULL AND a.id = d.alert_id AND a.resolved_at IS NULL
      AND (d.old_severity <> d.severity OR d.old_message <> d.message)
    RETURNING 1
),
opened AS (
    INSERT INTO {table} (kind, severity, project_id, subject_type, subject_id, message,
                         opened_at, last_seen_at, assignee_id)
    SELECT %s, d.severity, d.project_id, %s, d.subject_id, d.message, %s, %s, d.assignee_id
    FROM d WHERE d.alert_id IS NULL
    ORDER BY d.subject_id
    ON CONFLICT (kind, subject_type, subject_id) WHERE resolved_at IS NULL DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM opened),
       (SELECT count(*) FROM d WHERE d.alert_id IS NOT NULL AND d.subject_id IS NOT NULL),
       (SELECT count(*) FROM resolved)
"""


def _sync_postgres(cursor, *, kind, subject_type, candidates_sql, params, at) -> ScanResult:
    sql = _POSTGRES_SYNC.format(candidates=candidates_sql, table=_table())
    cursor.execute(sql, [*params, kind, subject_type, at, at, kind, subject_type, at, at])
    opened, kept, resolved = cursor.fetchone()
    return ScanResult(opened=opened, kept=kept, resolved=resolved)


def _sync_portable(cursor, *, kind, subject_type, candidates_sql, params, at) -> ScanResult:
    """Four statements for databases without data-modifying CTEs (SQLite >= 3.33)."""
    table = _table()
    key = [kind, subject_type]
    cursor.execute(
        f"UPDATE {table} SET resolved_at = %s "
        "WHERE kind = %s AND subject_type = %s AND resolved_at IS NULL "
        f"AND subject_id NOT IN (SELECT c.subject_id FROM ({candidates_sql}) AS c)",
        [at, *key, *params],
    )
    resolved = cursor.rowcount
    cursor.execute(
        f"UPDATE {table} SET severity = c.severity, message = c.message, last_seen_at = %s "
        f"FROM ({candidates_sql}) AS c "
        f"WHERE {table}.kind = %s AND {table}.subject_type = %s AND {table}.resolved_at IS NULL "
        f"AND {table}.subject_id = c.subject_id "
        f"AND ({table}.severity <> c.severity OR {table}.message <> c.message)",
        [at, *params, *key],
    )
    # After the resolution above, every open alert of this kind is about a current candidate.
    cursor.execute(
        f"SELECT count(*) FROM {table} WHERE kind = %s AND subject_type = %s AND resolved_at IS NULL", key
    )
    kept = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO {table} (kind, severity, project_id, subject_type, subject_id, message, "
        "opened_at, last_seen_at, assignee_id) "
        f"SELECT %s, c.severity, c.project_id, %s, c.subject_id, c.message, %s, %s, c.assignee_id "
        f"FROM ({candidates_sql}) AS c WHERE true ORDER BY c.subject_id "
        "ON CONFLICT (kind, subject_type, subject_id) WHERE resolved_at IS NULL DO NOTHING",
        [kind, subject_type, at, at, *params],
    )
    opened = cursor.rowcount
    return ScanResult(opened=opened, kept=kept, resolved=resolved)


@transaction.atomic
def sync_alerts(
    *, kind: str, subject_type: str, candidates_sql: str, params: list | tuple, at: datetime
) -> ScanResult:
    """Make the open alerts of `kind` match the subjects whose condition holds at `at`.

    `candidates_sql` is a SELECT (with `%s` placeholders for `params`) returning the columns
    `project_id, subject_id, severity, message, assignee_id`, one row per subject. In a constant
    number of statements (one on PostgreSQL, four elsewhere), and without a Python loop over
    rows, this:

    - opens an alert for each candidate without an open one (the partial unique index drops
      an insert that a concurrent run already made: `ON CONFLICT ... DO NOTHING`);
    - on open alerts still listed, updates severity and message when they changed (and then
      `last_seen_at`); unchanged rows are not written;
    - resolves the open alerts of this kind whose subject is no longer listed.

    Assignee, acknowledgement and snooze of a kept alert are never touched: they belong to
    the people handling it.
    """
    at = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        sync = _sync_postgres if connection.vendor == "postgresql" else _sync_portable
        return sync(
            cursor, kind=kind, subject_type=subject_type, candidates_sql=candidates_sql, params=params, at=at
        )
