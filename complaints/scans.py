"""Periodic detection on the regulator's clock. Each rule is one SQL candidate query handed to
`finance_projects.alerts.sync_alerts` (set-based, idempotent, safe under concurrent runs), and
the escalation claims its complaints with one compare-and-set UPDATE before any email goes out.

Deadlines are stored on the row (`ack_due_at`, `resolve_warn_at`, `resolve_due_at`, a
follow-up's `due_at`), so each rule is an indexed range query and a missed beat catches up.
"""

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from finance_projects.alerts import ScanResult, sync_alerts
from finance_projects.models import AlertKind, FinancingProject

from . import emails
from .models import OPEN_STATUSES, Complaint, ComplaintEvent, EventKind, FollowUpVisit, Status

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


SCANS = {
    "complaint_ack_overdue": complaint_ack_overdue,
    "complaint_resolution_overdue": complaint_resolution_overdue,
    "followup_overdue": followup_overdue,
    "complaint_escalation": complaint_escalation,
}


def run_all(at: datetime | None = None) -> dict[str, ScanResult]:
    at = at or timezone.now()
    return {name: scan(at) for name, scan in SCANS.items()}
