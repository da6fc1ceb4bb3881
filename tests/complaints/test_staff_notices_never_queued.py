"""A staff e-mail whose message to a worker was lost (the broker did not answer at the commit) is
queued again by the next SLA beat, so a new complaint or a recovery action handed to someone does
not wait unseen for its deadline alert; each person is still told once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from complaints import scans, services, tasks
from complaints.scans import NOTICE_LOOKBACK, OwedNotices
from tests.complaints.recording import record_by_phone

pytestmark = pytest.mark.django_db

CONCERN = "Nobody has told us why the drawdown slipped again."
NOTHING_OWED = OwedNotices(client_complaints=[], unassigned_complaints=[], recovery_actions=[])
STAFF_TASKS = (
    tasks.notify_staff_of_client_complaint,
    tasks.notify_staff_of_unassigned_complaint,
    tasks.notify_owner_of_recovery_action,
)


@pytest.fixture
def broker_down(monkeypatch):
    """No task can be queued until `broker_down.undo()`."""

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    for task in STAFF_TASKS:
        monkeypatch.setattr(task, "delay", refuse)
    return monkeypatch


def mail_to(*users):
    addresses = {user.email for user in users}
    return sorted(message.to[0] for message in mail.outbox if set(message.to) & addresses)


def record_unassigned(project, contact, by, description="Nobody told us the committee date."):
    return record_by_phone(project, contact, description=description, by=by)


def raise_concern(project, contact):
    return services.complaint_raise_from_client(project=project, contact=contact, description=CONCERN)


def two_sla_beats():
    tasks.run_sla_scans.delay()
    tasks.run_sla_scans.delay()


def test_a_client_complaint_whose_notice_was_lost_reaches_the_staff_on_the_next_beat(
    project, contact, owner, manager, broker_down, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = raise_concern(project, contact)
    assert mail_to(owner, manager) == []
    assert scans.staff_notices_owed(timezone.now()).client_complaints == [complaint.pk]
    broker_down.undo()

    two_sla_beats()

    assert mail_to(owner, manager) == sorted([owner.email, manager.email])
    assert scans.staff_notices_owed(timezone.now()) == NOTHING_OWED


def test_a_complaint_recorded_without_a_handler_whose_notice_was_lost_reaches_the_manager(
    project, contact, owner, manager, broker_down, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = record_unassigned(project, contact, by=owner)
    assert scans.staff_notices_owed(timezone.now()).unassigned_complaints == [complaint.pk]
    broker_down.undo()

    two_sla_beats()

    assert mail_to(owner, manager) == [manager.email]  # not the RM who recorded it


def test_a_recovery_action_whose_notice_was_lost_reaches_its_owner(
    acknowledged, teammate, department_user, broker_down, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = services.recovery_action_add(
            complaint=acknowledged,
            kind="expedite",
            description="Chase the credit memo.",
            owner=department_user,
            due_at=timezone.now() + timedelta(days=2),
            by=teammate,
        )
    assert scans.staff_notices_owed(timezone.now()).recovery_actions == [action.pk]
    broker_down.undo()

    two_sla_beats()

    assert mail_to(department_user) == [department_user.email]


def test_what_was_told_what_someone_handles_and_what_is_too_old_is_not_owed(
    project, contact, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern(project, contact)
    # Outside the captured commit: the messages about these two are lost.
    handled = record_unassigned(project, contact, by=owner, description="The fee letter never came.")
    services.complaint_assign(complaint=handled, owner=manager, by=manager)
    untold = record_unassigned(project, contact, by=manager, description="Nobody called back.")

    assert scans.staff_notices_owed(timezone.now()).unassigned_complaints == [untold.pk]
    assert scans.staff_notices_owed(timezone.now() + NOTICE_LOOKBACK + timedelta(minutes=1)) == NOTHING_OWED


def test_a_complaint_with_nobody_to_tell_is_not_queued_on_every_beat(project, contact, owner, team):
    team.manager = None
    team.save()

    record_unassigned(project, contact, by=owner)  # the RM recorded it; no team manager to tell

    assert scans.staff_notices_owed(timezone.now()) == NOTHING_OWED


def test_a_complaint_nobody_who_handles_the_project_can_be_told_of_is_noted_once_and_not_asked_again(
    project, contact, owner, team, eager_celery, django_capture_on_commit_callbacks
):
    team.manager = None
    team.save()
    owner.role = "department"  # moved on, still named on the project, which they no longer see
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        complaint = raise_concern(project, contact)  # the task runs, finds nobody
    two_sla_beats()

    notes = complaint.events.filter(kind="note", data__notice="client-complaint")
    assert [note.data["claimed"] for note in notes] == [[]]
    assert scans.staff_notices_owed(timezone.now()) == NOTHING_OWED
