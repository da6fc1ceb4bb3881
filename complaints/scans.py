"""Periodic detection on the regulator's clock. Each rule is one SQL candidate query handed to
`finance_projects.alerts.sync_alerts` (set-based, idempotent, safe under concurrent runs), and
the escalation claims its complaints with one compare-and-set UPDATE before any email goes out.

Deadlines are stored on the row (`ack_due_at`, `resolve_warn_at`, `resolve_due_at`, a
follow-up's `due_at`), so each rule is an indexed range query and a missed beat catches up.
"""

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import BigIntegerField, Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from finance_projects.alerts import ScanResult, sync_alerts
from finance_projects.models import AlertKind, FinancingProject

from . import emails
from .models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintEvent,
    EventKind,
    FollowUpVisit,
    RecoveryAction,
    Status,
)

logger = logging.getLogger(__name__)

COMPLAINT = Complaint._meta.db_table
FOLLOWUP = FollowUpVisit._meta.db_table
PROJECT = FinancingProject._meta.db_table
OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)


def _db(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def ack_overdue_candidates(at: datetime) -> tuple[str, list]:
    """New complaints nobody acknowledged by the deadline: critical."""
    sql = f"""
        SELECT c.project_id AS project_id, c.id AS subject_id, 'critical' AS severity,
               c.reference || ' · ' || p.code AS message,
               COALESCE(c.owner_id, p.relationship_manager_id) AS assignee_id
        FROM {COMPLAINT} AS c JOIN {PROJECT} AS p ON p.id = c.project_id
        WHERE c.status = 'new' AND c.ack_due_at < %s
    """
    return sql, [_db(at)]


def resolution_overdue_candidates(at: datetime) -> tuple[str, list]:
    """Open complaints whose clock runs: warning once the policy's share of the allowed time is
    used, critical past the decision deadline. A paused clock raises nothing."""
    sql = f"""
        SELECT c.project_id AS project_id, c.id AS subject_id,
               CASE WHEN c.resolve_due_at < %s THEN 'critical' ELSE 'warning' END AS severity,
               c.reference || ' · ' || p.code AS message,
               COALESCE(c.owner_id, p.relationship_manager_id) AS assignee_id
        FROM {COMPLAINT} AS c JOIN {PROJECT} AS p ON p.id = c.project_id
        WHERE c.status IN ({OPEN}) AND c.paused_at IS NULL AND c.resolve_warn_at < %s
    """
    return sql, [_db(at), _db(at)]


def followup_overdue_candidates(at: datetime) -> tuple[str, list]:
    """Complaints with a follow-up visit past due (one alert per complaint)."""
    sql = f"""
        SELECT c.project_id AS project_id, c.id AS subject_id, 'warning' AS severity,
               c.reference || ' · ' || p.code AS message,
               COALESCE(c.owner_id, p.relationship_manager_id) AS assignee_id
        FROM {COMPLAINT} AS c JOIN {PROJECT} AS p ON p.id = c.project_id
        WHERE c.id IN (
            SELECT f.complaint_id FROM {FOLLOWUP} AS f
            WHERE f.done_at IS NULL AND f.cancelled_at IS NULL AND f.due_at < %s
        )
    """
    return sql, [_db(at)]


def _scan(kind: str, candidates):
    def scan(at: datetime) -> ScanResult:
        sql, params = candidates(at)
        return sync_alerts(kind=kind, subject_type="complaint", candidates_sql=sql, params=params, at=at)

    scan.__name__ = kind
    scan.__doc__ = candidates.__doc__
    return scan


complaint_ack_overdue = _scan(AlertKind.COMPLAINT_ACK_OVERDUE, ack_overdue_candidates)
complaint_resolution_overdue = _scan(AlertKind.COMPLAINT_RESOLUTION_OVERDUE, resolution_overdue_candidates)
followup_overdue = _scan(AlertKind.FOLLOWUP_OVERDUE, followup_overdue_candidates)


def escalate_overdue(at: datetime) -> list[int]:
    """Hand every overdue complaint to its team's manager, once.

    One compare-and-set UPDATE claims the overdue complaints not yet escalated (a concurrent run
    claims disjoint rows); the timeline events are written in the same transaction and each
    manager gets one email per complaint after it commits. Returns the claimed ids.
    """
    when = _db(at)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {COMPLAINT} SET escalated_at = %s
                WHERE escalated_at IS NULL AND (
                    (status = 'new' AND ack_due_at < %s)
                    OR (status IN ({OPEN}) AND paused_at IS NULL AND resolve_due_at < %s)
                )
                RETURNING id
                """,
                [when, when, when],
            )
            claimed = sorted(row[0] for row in cursor.fetchall())
        if not claimed:
            return []
        complaints = list(
            Complaint.objects.filter(pk__in=claimed).select_related(
                "project__team__manager", "owner", "contact", "project__client"
            )
        )
        ComplaintEvent.objects.bulk_create(
            [
                ComplaintEvent(
                    complaint=complaint,
                    kind=EventKind.ESCALATION,
                    at=at,
                    data={"manager": str(complaint.project.team.manager or "")},
                )
                for complaint in complaints
            ]
        )
        transaction.on_commit(lambda: _send_escalations(complaints))
    return claimed


def _send_escalations(complaints: list[Complaint]) -> None:
    for complaint in complaints:
        manager = complaint.project.team.manager
        if manager is None or not manager.email:
            continue
        # Which deadline was missed: acknowledging it (still new), else deciding it.
        acknowledged = complaint.status != Status.NEW
        try:
            emails.make_staff_message(
                kind="complaint-escalated",
                recipient=manager,
                context={
                    "complaint": complaint,
                    "manager": manager,
                    "project": complaint.project,
                    "acknowledged": acknowledged,
                    "due_at": complaint.resolve_due_at if acknowledged else complaint.ack_due_at,
                },
            ).send()
        except Exception:  # one bad address never stops the others; the claim stays recorded
            logger.exception("escalation email for complaint %s failed", complaint.pk)


def complaint_escalation(at: datetime) -> ScanResult:
    """The escalation as a registered scan: `opened` counts the complaints escalated now."""
    return ScanResult(opened=len(escalate_overdue(at)), kept=0, resolved=0)


# How far back the SLA beat looks for staff e-mails never queued: a broker down that long also
# kept the beat from running, and it catches up when the broker is back.
NOTICE_LOOKBACK = timedelta(days=2)


class OwedNotices(NamedTuple):
    client_complaints: list[int]
    unassigned_complaints: list[int]
    recovery_actions: list[int]


def staff_notices_owed(at: datetime) -> OwedNotices:
    """What staff were never told because the message asking a worker to tell them was lost
    (the broker did not answer at the commit): complaints the client raised and complaints staff
    recorded without a handler, still new and unhandled, with no notice claimed on their
    timeline; recovery actions handed to someone, not done, with no notice claimed for them.
    From the last NOTICE_LOOKBACK; three queries. The e-mails claim their recipients, so one
    queued twice still tells each person once."""
    since = at - NOTICE_LOOKBACK

    def noted(notice: str, complaint: str = "pk"):
        notes = ComplaintEvent.objects.filter(kind=EventKind.NOTE, data__notice=notice)
        return notes.filter(complaint=OuterRef(complaint))

    untold = Complaint.objects.filter(status=Status.NEW, owner__isnull=True, created_at__gte=since).exclude(
        Exists(noted(emails.CLIENT_COMPLAINT_NOTICE))
    )
    action_noted = (
        noted(emails.RECOVERY_ACTION_NOTICE, complaint="complaint_id")
        .annotate(action_id=Cast(KT("data__action_id"), BigIntegerField()))
        .filter(action_id=OuterRef("pk"))
    )
    actions = (
        RecoveryAction.objects.filter(done_at__isnull=True, created_by__isnull=False, created_at__gte=since)
        .exclude(owner=F("created_by"))
        .exclude(Exists(action_noted))
    )
    # Only where someone could be told: a notice with nobody to tell claims nothing, and would
    # be queued again on every beat.
    rm, boss = "project__relationship_manager", "project__team__manager"
    client_raised = untold.filter(_reachable(rm) | _reachable(boss), created_by__isnull=True)
    recorded = untold.filter(
        (_reachable(rm) & ~Q(project__relationship_manager=F("created_by")))
        | (_reachable(boss) & ~Q(project__team__manager=F("created_by"))),
        created_by__isnull=False,
    )
    return OwedNotices(
        client_complaints=list(client_raised.values_list("pk", flat=True)),
        unassigned_complaints=list(recorded.values_list("pk", flat=True)),
        recovery_actions=list(actions.filter(_reachable("owner")).values_list("pk", flat=True)),
    )


def _reachable(user: str) -> Q:
    """The user at that path is active and has an e-mail address."""
    return Q(**{f"{user}__is_active": True}) & ~Q(**{f"{user}__email": ""})


SCANS = {
    "complaint_ack_overdue": complaint_ack_overdue,
    "complaint_resolution_overdue": complaint_resolution_overdue,
    "followup_overdue": followup_overdue,
    "complaint_escalation": complaint_escalation,
}


def run_all(at: datetime | None = None) -> dict[str, ScanResult]:
    at = at or timezone.now()
    return {name: scan(at) for name, scan in SCANS.items()}
