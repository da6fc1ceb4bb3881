"""Alert services: raising, resolving and handling alerts, and the set-based engine every scan uses.

Two ways an alert comes into being:

- **Event-driven**, `alert_raise(...)`: something just happened (a detractor answered a survey)
  and one alert is raised for it. Idempotent: an open alert for the same (kind, subject) is
  refreshed instead of duplicated.
- **Scan-driven**, `sync_alerts(...)`: a periodic scan hands over one SELECT listing every subject
  whose condition holds *now*; the engine opens, keeps and resolves alerts of that kind in a
  constant number of statements, whatever the number of rows.
  `sync_changed_alerts(...)` does the same for scans whose subjects store the severity of their
  open alert (`SeverityMirror`): only the subjects a few index ranges list are compared and
  written, so a beat costs what changed.

All rely on the database, not on Python checks, to stay correct when two workers run at once:
the conditional unique constraint `one_open_alert_per_subject` allows at most one open alert per
(kind, subject_type, subject_id); an insert that loses the race fails on it and is retried (the
retry sees the winner's alert and keeps it). Beats of a mirrored kind run one at a time, under
an advisory lock that the services marking stored severities stale take too (`hold_scan_locks`).

Messages: `Alert.message` holds the subject's own name (project code and name, commitment title),
which is data and reads the same in both languages. The sentence around it (the kind's label,
severity, dates) is translated where the alert is shown: the API's `kind_display`, the dashboard
and the e-mails, in the reader's language.

"Changes nothing": a scan run changes nothing when it opens no alert, resolves no alert and
finds every kept alert with the same severity and message. Such a run writes no alert at all:
`last_seen_at` is written only when the scan opens an alert or changes its severity or message,
and when `alert_raise` raises the same alert again. Instead `scans.run_scan` notes each run's
moment once (`ScanRun`), and the API and the admin show an open alert as last seen then
(`selectors.with_last_seen`): the run would have resolved it had its condition no longer held.

An alert that becomes critical is handled anew: its acknowledgement and snooze are cleared
(they belonged to something less urgent), so it is back in the lists and, left alone, escalates.
Each e-mail goes once per alert, ever: the owner's when it is first critical, the manager's on
escalation.

Set-based writes bypass django-simple-history (no historical rows for scan inserts/resolutions);
the alert's own timestamps (`opened_at`, `resolved_at`) carry that history. Actions taken by
people (acknowledge, snooze, assign) go through the ORM and are recorded.
"""

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User

from .models import (
    DORMANT_SEVERITY,
    SEVERITY_RANK,
    STALE_SEVERITY,
    Alert,
    AlertSeverity,
    FinancingProject,
    ScanRun,
)
from .selectors import portfolio_for

logger = logging.getLogger(__name__)


class SeverityMirror(NamedTuple):
    """A column on the subjects' own table holding the severity of each subject's open alert of
    one kind: "" or `DORMANT_SEVERITY` for none. Written by `sync_changed_alerts`, in the
    transaction that writes the alerts; the subject's own services may only mark a subject
    `STALE_SEVERITY` (its alert's message needs rewriting, or its project changed), which the
    next beat resolves."""

    table: str
    column: str


class ScanResult(NamedTuple):
    """What one scan run did: alerts opened, open alerts whose condition still holds, resolved.

    `kept` is None when the run was asked not to count them (the beat has no use for the count,
    which reads the stored severity of every alerted subject)."""

    opened: int
    kept: int | None
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
    lowers it) and keeps the message, assignee and the acknowledgement as they were, except
    that becoming critical clears the acknowledgement and the snooze (`_REARMED`).
    """
    at = at or timezone.now()
    message = message[: Alert._meta.get_field("message").max_length]
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
                    critical_since=at if severity == AlertSeverity.CRITICAL else None,
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
        if severity == AlertSeverity.CRITICAL:
            for column in _REARMED:
                setattr(existing, column, None)
            existing.critical_since = at
            fields += [*_REARMED, "critical_since"]
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
    """Hide the alert from the attention lists until a moment in the future, at most
    CEM["ALERT_MAX_SNOOZE_DAYS"] ahead. A snooze does not stop the escalation of a critical alert:
    only an acknowledgement does."""
    now = timezone.now()
    if until is None or until <= now:
        raise ValidationError({"until": _("Snooze until a moment in the future.")})
    days = settings.CEM.get("ALERT_MAX_SNOOZE_DAYS", 30)
    if until > now + timedelta(days=days):
        raise ValidationError(
            {
                "until": ngettext(
                    "Snooze for %(days)d day at most.", "Snooze for %(days)d days at most.", days
                )
                % {"days": days}
            }
        )
    locked = _lock_open(alert)
    locked.snoozed_until = until
    locked._history_user = by
    locked.save(update_fields=["snoozed_until"])
    return locked


@transaction.atomic
def alert_unsnooze(*, alert: Alert, by: User) -> Alert:
    """End the alert's snooze now: it is back in the attention lists. Whoever may snooze it may
    (anyone who sees it); an alert not snoozed is left as it is."""
    locked = _lock_open(alert)
    if locked.snoozed_until is not None:
        locked.snoozed_until = None
        locked._history_user = by
        locked.save(update_fields=["snoozed_until"])
    return locked


def check_assignee(assignee: User | None, *, project_id: int) -> None:
    """ValidationError unless `assignee` is an active user who can see the project."""
    if assignee is None or not assignee.is_active:
        raise ValidationError({"assignee": _("Choose an active user.")})
    if not portfolio_for(assignee).filter(pk=project_id).exists():
        raise ValidationError({"assignee": _("This person cannot see the alert's project.")})


@transaction.atomic
def alert_assign(*, alert: Alert, assignee: User, by: User) -> Alert:
    """Hand the alert to someone who can see its project. Department staff see the alerts about
    their commitments, but whose they are is for the team to say."""
    if by.is_department_staff:
        raise PermissionDenied(_("Department staff cannot reassign alerts."))
    check_assignee(assignee, project_id=alert.project_id)
    locked = _lock_open(alert)
    locked.assignee = assignee
    locked._history_user = by
    locked.save(update_fields=["assignee"])
    return locked


# --- The set-based engine ------------------------------------------------------------------

# What no longer holds once an alert becomes critical: what a person did about it. The owner's
# e-mail of an earlier critical spell stands: an alert is e-mailed once, ever (the manager's too).
_REARMED = ["acknowledged_at", "acknowledged_by", "snoozed_until"]


def _rearm_if_critical(alert: str, severity: str) -> str:
    """SQL for the SET list of an UPDATE of alerts (`alert` the table or its alias) that writes
    `severity`: clears `_REARMED` when the alert becomes critical by it, and keeps
    `critical_since`. Ends with one placeholder: the moment of the write."""
    critical = f"'{AlertSeverity.CRITICAL.value}'"
    became = f"{severity} = {critical} AND {alert}.severity <> {critical}"
    columns = [Alert._meta.get_field(name).column for name in _REARMED]
    cleared = [f"{column} = CASE WHEN {became} THEN NULL ELSE {alert}.{column} END" for column in columns]
    since = (
        f"critical_since = CASE WHEN {became} THEN %s WHEN {severity} <> {critical} THEN NULL "
        f"ELSE {alert}.critical_since END"
    )
    return ", ".join([*cleared, since])


def _critical_since(severity: str) -> str:
    """SQL for the `critical_since` of an alert inserted with `severity`: the placeholder for the
    moment of the write when it is critical."""
    return f"CASE WHEN {severity} = '{AlertSeverity.CRITICAL.value}' THEN %s END"


def _table() -> str:
    return connection.ops.quote_name(Alert._meta.db_table)


def _seen_until_resolved(alias: str) -> str:
    """The SET clause that keeps `last_seen_at` true for an alert a scan resolves: it held at
    the scan's previous run (`ScanRun`, noted after each run) when that came after its own
    `last_seen_at` and before this run, whose moment is the clause's one parameter."""
    previous = (
        f"(SELECT r.ran_at FROM {connection.ops.quote_name(ScanRun._meta.db_table)} AS r "
        f"WHERE r.name = {alias}.kind)"
    )
    return (
        f"last_seen_at = CASE WHEN {previous} > {alias}.last_seen_at AND {previous} < %s "
        f"THEN {previous} ELSE {alias}.last_seen_at END"
    )


# The open alerts of one kind, as the other side of every comparison with the candidates.
_OPEN = """
    SELECT a.id, a.subject_id, a.severity, a.message FROM {table} AS a
    WHERE a.kind = %s AND a.subject_type = %s AND a.resolved_at IS NULL
"""

# Read-only: what a write would do. Each candidate meets its open alert, if any, in a LEFT JOIN
# that PostgreSQL can run in parallel beside the candidates' own joins (a FULL JOIN cannot be, before
# version 16); the open alerts come from the covering unique index alone. The alerts to resolve are
# those no candidate met: every open alert minus the kept ones, one alert per subject being the rule.
# A run that would change nothing stops here, having written nothing.
_POSTGRES_DIFF = """
SELECT (SELECT count(*) FROM ({open}) AS every_open),
       count(*) FILTER (WHERE o.subject_id IS NULL),
       count(o.subject_id),
       count(*) FILTER (WHERE o.severity <> c.severity OR o.message <> c.message)
FROM ({candidates}) AS c LEFT JOIN ({open}) AS o ON o.subject_id = c.subject_id
"""

# The write, one statement: `d` is the same pairing, and the writes touch alerts by primary key.
# A plain INSERT, not ON CONFLICT DO NOTHING: PostgreSQL's speculative insertion for ON CONFLICT
# doubles the cost of every row it writes. A concurrent run that opened the same alert first
# makes this statement fail on `one_open_alert_per_subject`; `_sync_postgres` then runs it again,
# and the new snapshot sees the other run's alerts as open.
_POSTGRES_SYNC = """
WITH d AS MATERIALIZED (
    SELECT c.project_id, c.subject_id, c.severity, c.message, c.assignee_id,
           o.id AS alert_id, o.severity AS old_severity, o.message AS old_message
    FROM ({candidates}) AS c FULL JOIN ({open}) AS o ON o.subject_id = c.subject_id
),
resolved AS (
    UPDATE {table} AS a SET resolved_at = %s, {seen_until}
    FROM d WHERE d.subject_id IS NULL AND a.id = d.alert_id AND a.resolved_at IS NULL
    RETURNING 1
),
changed AS (
    UPDATE {table} AS a SET severity = d.severity, message = d.message, last_seen_at = %s,
        {rearm}
    FROM d
    WHERE d.subject_id IS NOT NULL AND a.id = d.alert_id AND a.resolved_at IS NULL
      AND (d.old_severity <> d.severity OR d.old_message <> d.message)
    RETURNING 1
),
opened AS (
    INSERT INTO {table} (kind, severity, project_id, subject_type, subject_id, message,
                         opened_at, last_seen_at, assignee_id, critical_since)
    SELECT %s, d.severity, d.project_id, %s, d.subject_id, d.message, %s, %s, d.assignee_id,
           {since}
    FROM d WHERE d.alert_id IS NULL
    ORDER BY d.subject_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM opened),
       (SELECT count(*) FROM d WHERE d.alert_id IS NOT NULL AND d.subject_id IS NOT NULL),
       (SELECT count(*) FROM resolved)
"""

_ONE_OPEN = "one_open_alert_per_subject"
# Each retry follows another run's commit, so even a crowd of concurrent runs settles quickly.
_RACE_ATTEMPTS = 5


def _lost_race(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == _ONE_OPEN


def postgres_sync_statement(*, kind, subject_type, candidates_sql, params, at) -> tuple[str, list]:
    """The one statement that resolves, updates and opens a kind's alerts, with its parameters."""
    table = _table()
    sql = _POSTGRES_SYNC.format(
        candidates=candidates_sql,
        open=_OPEN.format(table=table),
        table=table,
        rearm=_rearm_if_critical("a", "d.severity"),
        since=_critical_since("d.severity"),
        seen_until=_seen_until_resolved("a"),
    )
    key = [kind, subject_type]
    return sql, [*params, *key, at, at, at, at, *key, at, at, at]


def _sync_postgres(cursor, *, kind, subject_type, candidates_sql, params, at) -> ScanResult:
    """The comparison outside any transaction of ours (one read needs none), then the write in
    one transaction, run again if a concurrent run opened one of its alerts first."""
    table = _table()
    open_sql = _OPEN.format(table=table)
    key = [kind, subject_type]
    cursor.execute(_POSTGRES_DIFF.format(candidates=candidates_sql, open=open_sql), [*key, *params, *key])
    every_open, to_open, kept, to_change = cursor.fetchone()
    to_resolve = every_open - kept
    if not (to_open or to_resolve or to_change):
        return ScanResult(opened=0, kept=kept, resolved=0)
    sql, sql_params = postgres_sync_statement(
        kind=kind, subject_type=subject_type, candidates_sql=candidates_sql, params=params, at=at
    )
    attempts = 0
    while True:
        try:
            with transaction.atomic():
                cursor.execute(sql, sql_params)
                opened, kept, resolved = cursor.fetchone()
                return ScanResult(opened=opened, kept=kept, resolved=resolved)
        except IntegrityError as error:
            attempts += 1
            if not _lost_race(error) or attempts >= _RACE_ATTEMPTS:
                raise


@transaction.atomic
def _sync_portable(cursor, *, kind, subject_type, candidates_sql, params, at) -> ScanResult:
    """Four statements for databases without data-modifying CTEs (SQLite >= 3.33)."""
    table = _table()
    key = [kind, subject_type]
    cursor.execute(
        f"UPDATE {table} SET resolved_at = %s, {_seen_until_resolved(table)} "
        "WHERE kind = %s AND subject_type = %s AND resolved_at IS NULL "
        f"AND subject_id NOT IN (SELECT c.subject_id FROM ({candidates_sql}) AS c)",
        [at, at, *key, *params],
    )
    resolved = cursor.rowcount
    cursor.execute(
        f"UPDATE {table} SET severity = c.severity, message = c.message, last_seen_at = %s, "
        f"{_rearm_if_critical(table, 'c.severity')} "
        f"FROM ({candidates_sql}) AS c "
        f"WHERE {table}.kind = %s AND {table}.subject_type = %s AND {table}.resolved_at IS NULL "
        f"AND {table}.subject_id = c.subject_id "
        f"AND ({table}.severity <> c.severity OR {table}.message <> c.message)",
        [at, at, *params, *key],
    )
    # After the resolution above, every open alert of this kind is about a current candidate.
    cursor.execute(
        f"SELECT count(*) FROM {table} WHERE kind = %s AND subject_type = %s AND resolved_at IS NULL", key
    )
    kept = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO {table} (kind, severity, project_id, subject_type, subject_id, message, "
        "opened_at, last_seen_at, assignee_id, critical_since) "
        f"SELECT %s, c.severity, c.project_id, %s, c.subject_id, c.message, %s, %s, c.assignee_id, "
        f"{_critical_since('c.severity')} "
        f"FROM ({candidates_sql}) AS c WHERE true ORDER BY c.subject_id "
        "ON CONFLICT (kind, subject_type, subject_id) WHERE resolved_at IS NULL DO NOTHING",
        [kind, subject_type, at, at, at, *params],
    )
    opened = cursor.rowcount
    return ScanResult(opened=opened, kept=kept, resolved=resolved)


def sync_alerts(
    *,
    kind: str,
    subject_type: str,
    candidates_sql: str,
    params: list | tuple,
    at: datetime,
) -> ScanResult:
    """Make the open alerts of `kind` match the subjects whose condition holds at `at`.

    `candidates_sql` is a SELECT (with `%s` placeholders for `params`) returning the columns
    `project_id, subject_id, severity, message, assignee_id`, one row per subject. In a constant
    number of statements (on PostgreSQL a read-only comparison, then one write statement only
    when there is something to write; four elsewhere), and without a Python loop over rows, this:

    - opens an alert for each candidate without an open one (the partial unique index stops
      a duplicate of an alert a concurrent run opened first; the loser runs again and keeps it);
    - on open alerts still listed, updates severity and message when they changed (and then
      `last_seen_at`); unchanged rows are not written;
    - resolves the open alerts of this kind whose subject is no longer listed.

    Assignee, acknowledgement and snooze of a kept alert are never touched: they belong to
    the people handling it. The writes happen in one transaction (a savepoint when the caller
    already holds one).
    """
    at = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        sync = _sync_postgres if connection.vendor == "postgresql" else _sync_portable
        return sync(
            cursor,
            kind=kind,
            subject_type=subject_type,
            candidates_sql=candidates_sql,
            params=params,
            at=at,
        )


# --- Changed subjects only, for scans that keep a severity mirror ---------------------------

# The changed subjects and what the rule says of them, computed once (one snapshot) into
# temporary tables for the transaction: a planner cannot guess the changed subjects are a handful
# (that is what the mirror knows), but it counts a table's rows, and then looks each one up by key
# instead of reading every candidate. Created and dropped inside the transaction, so a failure
# leaves nothing behind.
_CHANGED_TABLE = "alert_sync_changed"
_TARGET_TABLE = "alert_sync_target"
# Severity "" for a changed subject that is no candidate (dormant when `dormant` holds of it);
# `stored` is its mirror value.
_TARGET = f"""
    SELECT ch.id AS subject_id, s.{{column}} AS stored,
           CASE WHEN c.subject_id IS NOT NULL THEN c.severity
                WHEN {{dormant}} THEN '{DORMANT_SEVERITY}' ELSE '' END AS severity,
           c.project_id, c.message, c.assignee_id
    FROM {_CHANGED_TABLE} AS ch JOIN {{subjects}} AS s ON s.id = ch.id
    LEFT JOIN ({{candidates}}) AS c ON c.subject_id = ch.id
"""
# Mirror values that stand for no open alert.
_NO_ALERT = f"('', '{DORMANT_SEVERITY}')"


def _alerted_where(column: str, *, dormant: bool) -> str:
    """SQL: the mirror `column` stands for an open alert, as a condition the partial index over
    the alerted rows answers alone (dormant rows are in that index too, and may be many)."""
    if not dormant:
        return f"{column} <> ''"
    alerted = ", ".join(f"'{value}'" for value in [*AlertSeverity.values, STALE_SEVERITY])
    return f"{column} IN ({alerted})"


def _scan_lock(kind: str) -> str:
    return f"cem.alerts.{kind}"


def hold_scan_locks(kinds) -> None:
    """Wait for running beats of these kinds and keep new ones waiting until the caller's
    transaction ends. A service that marks stored severities stale takes these first, before any
    row lock: a beat then never reads the rule before the service's change and writes its
    verdict after the mark. PostgreSQL; SQLite runs one writer at a time anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for kind in sorted(kinds):  # one order for every service: no deadlock between them
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_scan_lock(kind)])


def sync_changed_alerts(
    *,
    kind: str,
    subject_type: str,
    candidates_sql: str,
    params: list | tuple,
    changes: list[tuple[str, list]],
    mirror: SeverityMirror,
    at: datetime,
    dormant_sql: str | None = None,
    dormant_params: list | tuple = (),
    count_kept: bool = True,
) -> ScanResult:
    """Like `sync_alerts`, for the subjects the `changes` list (SELECTs of ids, each with its
    parameters) and no others, then stores each one's alert severity in the `mirror` column.
    When every one of them is empty, one counting statement and nothing else.

    `dormant_sql`, a condition on the subject row `s`, says which subjects that are no candidate
    are dormant: the rule's deadline has reached them but their project does not run. They are
    stored as such (no alert), so a change range that lists subjects by deadline alone finds
    them no more, until a change to their project marks them stale.

    For scans whose subjects carry that mirror: the scan lists the subjects whose mirror no
    longer matches the rule (a few index ranges, a handful of rows on an ordinary beat), and only
    those are compared and written, so a beat costs what changed, not the portfolio's size.

    Correct as long as the mirror matches the open alerts. Only this writes alerts of the kind,
    one run at a time (an advisory lock on PostgreSQL, the database lock on SQLite), alerts and
    mirror in one transaction, all from one reading of the rule; the services that mark stored
    values stale take the same lock first (`hold_scan_locks`), so a mark lands either before the
    run reads the rule or after it has written. A constant number of statements.

    Without `count_kept` the kept alerts are not counted (`kept` is None): that count reads the
    stored severity of every alerted subject, nearly as much as the rule's own count, and is most
    of what a beat where nothing changed would pay beyond its round trips.
    """
    at = connection.ops.adapt_datetimefield_value(at)
    table, quote = _table(), connection.ops.quote_name
    subjects, column = quote(mirror.table), quote(mirror.column)
    key = [kind, subject_type]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The second lock: beats of two kinds mirrored on one table (due soon and missed, on
            # commitments) would update the rows they share in no set order, and could deadlock,
            # so they run one at a time. No service takes it, so it closes no cycle with theirs.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s)), pg_advisory_xact_lock(hashtext(%s))",
                [_scan_lock(kind), f"cem.alerts.mirror.{mirror.table}"],
            )
        # Counts, not EXISTS: a planner expecting rows would pick a scan that stops at the first
        # one, which reads everything when none is there.
        changed = " + ".join(f"(SELECT count(*) FROM ({sql}) AS changed)" for sql, _ in changes)
        alerted = f"SELECT count(*) FROM {subjects} WHERE {_alerted_where(column, dormant=bool(dormant_sql))}"
        changes_params = [value for _, values in changes for value in values]
        cursor.execute(f"SELECT {changed}, ({alerted if count_kept else 'NULL'})", changes_params)
        changed_count, mirrored = cursor.fetchone()
        if not changed_count:
            return ScanResult(opened=0, kept=mirrored, resolved=0)
        changed_sql = " UNION ".join(sql for sql, _ in changes)
        cursor.execute(f"CREATE TEMPORARY TABLE {_CHANGED_TABLE} AS {changed_sql}", changes_params)
        cursor.execute(f"ANALYZE {_CHANGED_TABLE}")
        target = _TARGET.format(
            column=column, subjects=subjects, candidates=candidates_sql, dormant=dormant_sql or "false"
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {_TARGET_TABLE} AS {target}", [*dormant_params, *params])
        cursor.execute(f"ANALYZE {_TARGET_TABLE}")
        cursor.execute(
            f"UPDATE {table} SET resolved_at = %s, {_seen_until_resolved(table)} "
            "WHERE kind = %s AND subject_type = %s AND resolved_at IS NULL "
            f"AND subject_id IN (SELECT subject_id FROM {_TARGET_TABLE} WHERE severity IN {_NO_ALERT})",
            [at, at, *key],
        )
        resolved = cursor.rowcount
        cursor.execute(
            f"UPDATE {table} SET severity = t.severity, message = t.message, last_seen_at = %s, "
            f"{_rearm_if_critical(table, 't.severity')} "
            f"FROM {_TARGET_TABLE} AS t "
            f"WHERE {table}.kind = %s AND {table}.subject_type = %s AND {table}.resolved_at IS NULL "
            f"AND {table}.subject_id = t.subject_id AND t.severity NOT IN {_NO_ALERT} "
            f"AND ({table}.severity <> t.severity OR {table}.message <> t.message)",
            [at, at, *key],
        )
        cursor.execute(
            f"INSERT INTO {table} (kind, severity, project_id, subject_type, subject_id, message, "
            "opened_at, last_seen_at, assignee_id, critical_since) "
            "SELECT %s, t.severity, t.project_id, %s, t.subject_id, t.message, %s, %s, t.assignee_id, "
            f"{_critical_since('t.severity')} "
            f"FROM {_TARGET_TABLE} AS t WHERE t.severity NOT IN {_NO_ALERT} AND NOT EXISTS ("
            f"SELECT 1 FROM {table} AS a WHERE a.kind = %s AND a.subject_type = %s "
            "AND a.subject_id = t.subject_id AND a.resolved_at IS NULL) "
            "ORDER BY t.subject_id",
            [kind, subject_type, at, at, at, *key],
        )
        opened = cursor.rowcount
        # Kept: the alerts the mirror counted, less the changed subjects' (by their stored value),
        # plus the changed subjects' alerts open now that were open before.
        mirrored_before = open_now = 0
        if count_kept:
            cursor.execute(
                f"SELECT count(*) FILTER (WHERE t.stored NOT IN {_NO_ALERT}), count(a.id) "
                f"FROM {_TARGET_TABLE} AS t "
                f"LEFT JOIN {table} AS a ON a.subject_id = t.subject_id "
                "AND a.kind = %s AND a.subject_type = %s AND a.resolved_at IS NULL",
                key,
            )
            mirrored_before, open_now = cursor.fetchone()
        cursor.execute(
            f"UPDATE {subjects} SET {column} = t.severity FROM {_TARGET_TABLE} AS t "
            f"WHERE {subjects}.id = t.subject_id AND {subjects}.{column} = t.stored "
            f"AND t.stored <> t.severity"
        )
        rewritten = cursor.rowcount
        cursor.execute(f"DROP TABLE {_TARGET_TABLE}")
        cursor.execute(f"DROP TABLE {_CHANGED_TABLE}")
    if rewritten >= settings.CEM.get("SCAN_VACUUM_AFTER_ROWS", 1_000):
        _vacuum_after_bulk_write(mirror.table)
    kept = None if mirrored is None else mirrored - mirrored_before + open_now - opened
    return ScanResult(opened=opened, kept=kept, resolved=resolved)


def _vacuum_after_bulk_write(table: str) -> None:
    """VACUUM ANALYZE a subjects table whose stored severities a run has just rewritten in bulk
    (the first run on a portfolio, the catch-up after an import). The next beat counts the
    mirror's partial indexes: until autovacuum comes by, every rewritten row would cost it a
    visit to the table and the planner would read those indexes with statistics from before,
    making a beat with nothing to do many times slower. PostgreSQL only, and only outside a
    transaction, where VACUUM can run; a failure is logged, the alerts are already committed."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    except DatabaseError:
        logger.warning("VACUUM ANALYZE %s after a bulk scan write failed", table, exc_info=True)
