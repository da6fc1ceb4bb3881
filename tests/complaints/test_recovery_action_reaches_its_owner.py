"""A recovery action handed to someone else is e-mailed to them once, after the commit, through
Celery, in their own language and time zone: the complaint's reference, the project, the action,
its due date, who asked, and the link to the complaint, which holding the action opens to them
(department staff included). An action someone adds for themselves tells nobody."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from complaints import emails, services, tasks
from complaints.models import ComplaintEvent
from tests.factories import UserFactory
from tests.threads import at_once

pytestmark = pytest.mark.django_db

SITE = "https://cem.bank.example"
TODO = "Ask the credit committee for the new date in writing and send it to the CFO."


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def add_action(complaint, *, owner, by, description=TODO):
    return services.recovery_action_add(
        complaint=complaint,
        kind="expedite",
        description=description,
        owner=owner,
        due_at=complaint.received_at + timedelta(days=2),  # 2026-03-04 10:00 in Shanghai
        by=by,
    )


def mail_to(user):
    return [message for message in mail.outbox if user.email in message.to]


def link_to(complaint) -> str:
    return SITE + reverse("complaints:detail", args=[complaint.pk])


def notices(complaint):
    return [
        event
        for event in ComplaintEvent.objects.filter(complaint=complaint)
        if event.data.get("notice") == emails.RECOVERY_ACTION_NOTICE
    ]


def test_an_action_handed_to_department_staff_is_emailed_to_them_after_the_commit(
    acknowledged, teammate, department_user, project, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_action(acknowledged, owner=department_user, by=teammate)

    (message,) = mail.outbox
    assert message.to == [department_user.email]
    assert acknowledged.reference in message.subject
    assert "2026-03-04 10:00" in message.subject
    for text in (
        acknowledged.reference,
        project.name,
        project.code,
        "Expedite",
        TODO,
        "2026-03-04 10:00 (Asia/Shanghai)",
        teammate.get_full_name(),
        link_to(acknowledged),
    ):
        assert text in message.body, text
    html = message.alternatives[0][0]
    assert f'href="{link_to(acknowledged)}"' in html
    assert teammate.get_full_name() in html


def test_the_owner_is_told_in_their_own_language_and_time_zone(
    acknowledged, teammate, department_user, eager_celery, django_capture_on_commit_callbacks
):
    department_user.language, department_user.time_zone = "zh-hans", "Europe/London"
    department_user.save()

    with django_capture_on_commit_callbacks(execute=True):
        add_action(acknowledged, owner=department_user, by=teammate)

    (message,) = mail_to(department_user)
    assert "补救措施" in message.subject
    assert 'lang="zh-hans"' in message.alternatives[0][0]
    assert "2026-03-04 02:00" in message.body  # 10:00 in Shanghai is 02:00 in London
    assert "Europe/London" in message.body
    assert "请您" in message.body
    assert "措施： 加急处理" in message.body
    assert link_to(acknowledged) in message.body


def test_an_rm_handed_an_action_by_the_handler_is_told_too(
    acknowledged, teammate, owner, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_action(acknowledged, owner=owner, by=teammate)

    assert [message.to for message in mail.outbox] == [[owner.email]]


def test_an_action_added_for_oneself_is_not_emailed(
    acknowledged, manager, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        action = add_action(acknowledged, owner=manager, by=manager)

    assert queued == []
    assert emails.notify_owner_of_recovery_action(action.pk) == 0
    assert mail.outbox == []
    assert notices(acknowledged) == []


def test_the_email_waits_for_the_commit(
    acknowledged, teammate, department_user, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", queued.append)
    with django_capture_on_commit_callbacks() as callbacks:
        action = add_action(acknowledged, owner=department_user, by=teammate)
    assert queued == []

    for callback in callbacks:
        callback()
    assert queued == [action.pk]


def test_a_rerun_or_a_redelivered_task_sends_nothing_more(
    acknowledged, teammate, department_user, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = add_action(acknowledged, owner=department_user, by=teammate)

    assert tasks.notify_owner_of_recovery_action.delay(action.pk).get() == 0
    assert emails.notify_owner_of_recovery_action(action.pk) == 0

    assert len(mail_to(department_user)) == 1
    (note,) = notices(acknowledged)
    assert note.data == {
        "notice": emails.RECOVERY_ACTION_NOTICE,
        "claimed": [department_user.pk],
        "action_id": action.pk,
    }
    assert department_user.get_full_name() in note.summary


def test_each_action_is_told_once_on_its_own(acknowledged, teammate, department_user, monkeypatch):
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", lambda action_id: None)
    first = add_action(acknowledged, owner=department_user, by=teammate)
    second = add_action(acknowledged, owner=department_user, by=teammate, description="Call the CFO.")

    assert emails.notify_owner_of_recovery_action(first.pk) == 1
    assert emails.notify_owner_of_recovery_action(second.pk) == 1
    assert emails.notify_owner_of_recovery_action(first.pk) == 0

    assert len(mail_to(department_user)) == 2


def test_a_message_that_fails_is_sent_on_the_retry_and_once(
    acknowledged, teammate, department_user, monkeypatch
):
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", lambda action_id: None)
    action = add_action(acknowledged, owner=department_user, by=teammate)
    real_send = emails.EmailMultiAlternatives.send

    def down(message, *args, **kwargs):
        raise ConnectionRefusedError("mail relay down")

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", down)
    with pytest.raises(ConnectionRefusedError):  # the task retries on it
        emails.notify_owner_of_recovery_action(action.pk)
    assert mail.outbox == []

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", real_send)
    assert emails.notify_owner_of_recovery_action(action.pk) == 1
    assert emails.notify_owner_of_recovery_action(action.pk) == 0
    assert len(mail_to(department_user)) == 1


def test_the_task_retries_when_the_mail_server_does_not_answer():
    assert OSError in tasks.notify_owner_of_recovery_action.autoretry_for


def test_an_action_done_before_the_task_runs_is_not_emailed(acknowledged, teammate, owner, monkeypatch):
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", lambda action_id: None)
    action = add_action(acknowledged, owner=owner, by=teammate)
    services.recovery_action_complete(action=action, by=owner)

    assert emails.notify_owner_of_recovery_action(action.pk) == 0
    assert mail.outbox == []


def test_a_broker_that_does_not_answer_does_not_undo_the_action(
    acknowledged, teammate, department_user, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        action = add_action(acknowledged, owner=department_user, by=teammate)

    assert action.pk is not None
    assert acknowledged.actions.get().owner == department_user


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_email_the_owner_once(acknowledged, teammate, department_user, monkeypatch):
    monkeypatch.setattr(tasks.notify_owner_of_recovery_action, "delay", lambda action_id: None)
    action = add_action(acknowledged, owner=department_user, by=teammate)

    results, errors = at_once(lambda: emails.notify_owner_of_recovery_action(action.pk))

    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(mail_to(department_user)) == 1


# --- the link opens the complaint to the action's owner -------------------------------------


def test_department_staff_holding_an_action_open_its_complaint_from_the_link(
    client, acknowledged, teammate, department_user, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(department_user)
    page = reverse("complaints:detail", args=[acknowledged.pk])
    assert client.get(page).status_code == 404  # nothing handed to them yet

    with django_capture_on_commit_callbacks(execute=True):
        add_action(acknowledged, owner=department_user, by=teammate)
    (message,) = mail_to(department_user)
    assert link_to(acknowledged) in message.body

    opened = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
    assert opened.status_code == 200
    assert TODO in opened.content.decode()
    assert "Mark done" in opened.content.decode()


def test_holding_an_action_opens_that_complaint_and_no_other(
    client, acknowledged, teammate, department_user, project, contact
):
    add_action(acknowledged, owner=department_user, by=teammate)
    other = services.complaint_create(
        project=project,
        contact=contact,
        channel="phone",
        category="late_information",
        description="The fee letter still shows last year's margin.",
        created_by=teammate,
    )
    colleague = UserFactory(
        username="risk", role=Role.DEPARTMENT, department="risk", team=department_user.team
    )

    client.force_login(department_user)
    assert client.get(reverse("complaints:detail", args=[acknowledged.pk])).status_code == 200
    assert client.get(reverse("complaints:detail", args=[other.pk])).status_code == 404
    client.force_login(colleague)
    assert client.get(reverse("complaints:detail", args=[acknowledged.pk])).status_code == 404
