"""SLA scans: flag what is due, ignore what is not, change nothing on a second run, and
escalate an overdue complaint to the team's manager exactly once."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from complaints import scans, services
from complaints.models import ComplaintEvent
from finance_projects.models import Alert
from finance_projects.scans import SCAN_REGISTRY

pytestmark = pytest.mark.django_db


def open_alerts(kind):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True)


def test_the_complaint_scans_are_registered():
    assert {"complaint_ack_overdue", "complaint_resolution_overdue", "followup_overdue"} <= set(SCAN_REGISTRY)


def test_the_complaint_beat_runs_every_complaint_scan_notes_its_runs_and_emails_what_is_critical(
    complaint, time_machine
):
    from cem.celery import app
    from complaints.tasks import run_sla_scans
    from finance_projects.models import ScanRun

    time_machine.move_to(complaint.ack_due_at + timedelta(minutes=1), tick=False)
    app.conf.task_always_eager = True
    try:
        results = run_sla_scans.delay().get()
    finally:
        app.conf.task_always_eager = False

    assert set(results) == set(scans.SCANS)
    assert results["complaint_ack_overdue"] == [1, 0, 0]
    # Each run is noted, so the open alerts show as last seen by it.
    assert set(ScanRun.objects.values_list("name", flat=True)) == set(scans.SCANS)
    assert open_alerts("complaint_ack_overdue").get().notified_at is not None  # critical: e-mailed
    assert mail.outbox


def test_an_unacknowledged_complaint_past_its_deadline_raises_exactly_one_alert(complaint):
    assert scans.complaint_ack_overdue(complaint.ack_due_at - timedelta(minutes=1)).opened == 0
    later = complaint.ack_due_at + timedelta(minutes=1)
    assert scans.complaint_ack_overdue(later).opened == 1
    assert scans.complaint_ack_overdue(later + timedelta(hours=1)) == (0, 1, 0)
    alert = open_alerts("complaint_ack_overdue").get()
    assert alert.subject == {"type": "complaint", "id": complaint.pk}
    assert alert.severity == "critical"
    assert complaint.reference in alert.message
    assert alert.assignee_id == complaint.project.relationship_manager_id


def test_acknowledging_resolves_the_ack_alert(complaint, teammate):
    later = complaint.ack_due_at + timedelta(minutes=1)
    scans.complaint_ack_overdue(later)
    services.complaint_acknowledge(complaint=complaint, by=teammate)
    assert scans.complaint_ack_overdue(later).resolved == 1
    assert not open_alerts("complaint_ack_overdue").exists()


def test_resolution_warns_at_eighty_percent_and_turns_critical_past_the_deadline(acknowledged):
    assert scans.complaint_resolution_overdue(acknowledged.resolve_warn_at - timedelta(minutes=1)).opened == 0
    scans.complaint_resolution_overdue(acknowledged.resolve_warn_at + timedelta(minutes=1))
    assert open_alerts("complaint_resolution_overdue").get().severity == "warning"
    result = scans.complaint_resolution_overdue(acknowledged.resolve_due_at + timedelta(minutes=1))
    assert result == (0, 1, 0)
    alert = open_alerts("complaint_resolution_overdue").get()
    assert alert.severity == "critical"
    assert alert.assignee_id == acknowledged.owner_id


def test_a_paused_clock_raises_no_resolution_alert(acknowledged, teammate):
    services.complaint_pause(complaint=acknowledged, by=teammate, reason="Outside appraisal.")
    assert scans.complaint_resolution_overdue(acknowledged.resolve_due_at + timedelta(days=1)).opened == 0


def test_a_missed_follow_up_raises_one_alert_until_it_is_done(resolved, teammate, time_machine):
    first = resolved.followups.order_by("due_at").first()
    later = first.due_at + timedelta(hours=1)
    assert scans.followup_overdue(first.due_at - timedelta(hours=1)).opened == 0
    assert scans.followup_overdue(later).opened == 1
    assert scans.followup_overdue(later).opened == 0
    time_machine.move_to(later, tick=False)
    services.followup_complete(followup=first, by=teammate, outcome="Happy now.")
    assert scans.followup_overdue(later).resolved == 1


def test_an_overdue_complaint_escalates_to_the_manager_once(
    complaint, manager, django_capture_on_commit_callbacks
):
    later = complaint.ack_due_at + timedelta(minutes=1)
    assert scans.escalate_overdue(complaint.ack_due_at - timedelta(minutes=1)) == []
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert scans.escalate_overdue(later) == [complaint.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert scans.escalate_overdue(later + timedelta(hours=2)) == []
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert complaint.reference in mail.outbox[0].subject
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="escalation").count() == 1
    complaint.refresh_from_db()
    assert complaint.escalated_at is not None


@pytest.mark.parametrize("acknowledged", [False, True])
def test_the_escalation_email_greets_the_manager_and_names_the_deadline_missed_in_their_zone(
    complaint, manager, teammate, acknowledged, django_capture_on_commit_callbacks
):
    manager.time_zone, manager.language = "Europe/London", "en"
    manager.save(update_fields=["time_zone", "language"])
    if acknowledged:
        complaint = services.complaint_acknowledge(complaint=complaint, by=teammate)
    due = complaint.resolve_due_at if acknowledged else complaint.ack_due_at
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        scans.escalate_overdue(due + timedelta(minutes=1))

    body = mail.outbox[0].body
    assert body.startswith(f"Hello {manager.greeting_name},")
    local = due.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M")
    if acknowledged:
        assert f"Its decision was due by {local} (Europe/London)." in body
    else:
        assert f"It was to be acknowledged by {local} (Europe/London)." in body


def test_a_complaint_claimed_by_another_run_is_skipped(complaint, manager):
    type(complaint).objects.filter(pk=complaint.pk).update(escalated_at=complaint.received_at)
    assert scans.escalate_overdue(complaint.ack_due_at + timedelta(days=1)) == []


def test_the_scans_do_not_grow_with_the_number_of_complaints(project, contact, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ComplaintFactory

    def queries_for(count, offset_days):
        made = [ComplaintFactory(project=project, contact=contact) for _ in range(count)]
        with CaptureQueriesContext(connection) as context:
            scans.run_all(made[-1].resolve_due_at + timedelta(days=offset_days))
        return len(context)

    assert queries_for(2, 1) == queries_for(8, 2)
    assert open_alerts("complaint_resolution_overdue").count() == 10
    assert open_alerts("complaint_ack_overdue").count() == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_escalations_claim_each_complaint_once(project, contact, manager):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.factories import ComplaintFactory

    complaints = [ComplaintFactory(project=project, contact=contact) for _ in range(6)]
    later = complaints[-1].resolve_due_at + timedelta(days=1)

    def run():
        try:
            return scans.escalate_overdue(later)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run(), range(2)))
    claimed = sorted(results[0] + results[1])
    assert claimed == sorted(c.pk for c in complaints)


def test_an_alert_resolved_by_a_scan_was_last_seen_at_the_run_before(complaint, teammate):
    from finance_projects.scans import run_scan

    overdue = complaint.ack_due_at + timedelta(minutes=1)
    run_scan("complaint_ack_overdue", at=overdue)
    run_scan("complaint_ack_overdue", at=overdue + timedelta(minutes=5))
    services.complaint_acknowledge(complaint=complaint, by=teammate)

    run_scan("complaint_ack_overdue", at=overdue + timedelta(minutes=10))

    alert = Alert.objects.get(kind="complaint_ack_overdue")
    assert alert.resolved_at == overdue + timedelta(minutes=10)
    assert alert.last_seen_at == overdue + timedelta(minutes=5)
