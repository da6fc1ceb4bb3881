"""A complaint the client raises (status page, survey) is e-mailed to the people who must act on
it: the project's relationship manager and the team's manager, each once, in their own language
and time zone, after the commit, through Celery. A complaint staff record without a handler:
test_unassigned_complaint_reaches_the_team_manager.py."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from complaints import emails, services, tasks
from complaints.hooks import raise_complaint_from_survey
from complaints.models import Complaint, ComplaintEvent
from finance_projects.services import status_link_create
from tests.factories import InvitationFactory, SurveyResponseFactory, shipped_survey
from tests.threads import at_once

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONCERN = "Nobody has told us why the drawdown slipped again."


@pytest.fixture(autouse=True)
def _site(settings, time_machine):
    settings.SITE_URL = "https://cem.bank.example"
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def status_url(project, contact, owner):
    _link, token = status_link_create(project=project, contact=contact, created_by=owner, days=30)
    return f"/p/{token}/"


def staff_mail(*users):
    addresses = {user.email for user in users}
    return [message for message in mail.outbox if set(message.to) & addresses]


def raise_concern(project, contact, description=CONCERN):
    return services.complaint_raise_from_client(project=project, contact=contact, description=description)


def test_a_concern_sent_from_the_status_page_is_emailed_to_the_rm_and_the_team_manager(
    client, status_url, project, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(status_url, {"description": CONCERN, "lang": "en"})

    assert sent.status_code == 302
    complaint = Complaint.objects.get(project=project)
    assert sorted(m.to[0] for m in staff_mail(owner, manager)) == sorted([owner.email, manager.email])
    message = staff_mail(owner)[0]
    link = "https://cem.bank.example" + reverse("complaints:detail", args=[complaint.pk])
    for text in (project.client.name, project.name, complaint.reference, CONCERN, link):
        assert text in message.body
    assert link in message.alternatives[0][0]
    assert complaint.reference in message.subject
    assert "2026-03-03 23:59" in message.body  # the acknowledgement deadline, in Asia/Shanghai


def test_each_person_is_told_in_their_own_language_and_time_zone(project, contact, owner, manager):
    manager.language, manager.time_zone = "zh-hans", "Europe/London"
    manager.save()
    complaint = raise_concern(project, contact)

    assert emails.notify_staff_of_client_complaint(complaint.pk) == 2

    (to_manager,) = staff_mail(manager)
    assert "新投诉" in to_manager.subject
    assert 'lang="zh-hans"' in to_manager.alternatives[0][0]
    assert "2026-03-03 15:59" in to_manager.body  # 23:59 in Shanghai is 15:59 in London
    assert "Europe/London" in to_manager.body
    (to_owner,) = staff_mail(owner)
    assert to_owner.subject.startswith("[CEM] New complaint")
    assert "2026-03-03 23:59" in to_owner.body


def test_the_email_waits_for_the_commit(
    project, contact, owner, manager, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.notify_staff_of_client_complaint, "delay", queued.append)
    with django_capture_on_commit_callbacks() as callbacks:
        complaint = raise_concern(project, contact)
    assert queued == []

    for callback in callbacks:
        callback()
    assert queued == [complaint.pk]


def test_a_rerun_or_a_redelivered_task_sends_nothing_more(project, contact, owner, manager, eager_celery):
    complaint = raise_concern(project, contact)

    assert tasks.notify_staff_of_client_complaint.delay(complaint.pk).get() == 2
    assert tasks.notify_staff_of_client_complaint.delay(complaint.pk).get() == 0
    assert emails.notify_staff_of_client_complaint(complaint.pk) == 0

    assert len(staff_mail(owner, manager)) == 2
    notes = [e for e in ComplaintEvent.objects.filter(complaint=complaint) if e.data.get("notice")]
    assert len(notes) == 1
    assert owner.get_full_name() in notes[0].summary


def test_an_rm_who_manages_the_team_gets_one_email(project, contact, owner, team):
    team.manager = owner
    team.save()
    complaint = raise_concern(project, contact)

    assert emails.notify_staff_of_client_complaint(complaint.pk) == 1
    assert [m.to for m in staff_mail(owner)] == [[owner.email]]


def test_people_who_cannot_be_told_are_left_out(project, contact, owner, manager):
    manager.is_active = False
    manager.save()
    owner.email = ""
    owner.save()
    complaint = raise_concern(project, contact)

    assert emails.notify_staff_of_client_complaint(complaint.pk) == 0
    assert staff_mail(manager) == []


def test_a_client_who_asks_in_a_survey_to_be_contacted_reaches_the_staff_too(
    project, contact, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(project=project, contact=contact, survey=shipped_survey("relationship"))
    asked = invitation.survey.questions.get(type="choice")
    response = SurveyResponseFactory(
        invitation=invitation, nps=2, is_detractor=True, comment=CONCERN, answers={str(asked.pk): "yes"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        raise_complaint_from_survey(response)
        raise_complaint_from_survey(response)  # the hook run again finds the same complaint

    assert Complaint.objects.get().channel == "survey"
    assert sorted(m.to[0] for m in staff_mail(owner, manager)) == sorted([owner.email, manager.email])


def test_a_recipient_whose_mail_fails_is_told_on_the_retry_and_the_other_not_twice(
    project, contact, owner, manager, monkeypatch
):
    complaint = raise_concern(project, contact)
    real_send = emails.EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to == [manager.email]:
            raise ConnectionRefusedError("mail relay down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", send)
    with pytest.raises(ConnectionRefusedError):  # the task retries on it
        emails.notify_staff_of_client_complaint(complaint.pk)
    assert [m.to for m in staff_mail(owner, manager)] == [[owner.email]]

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", real_send)
    assert emails.notify_staff_of_client_complaint(complaint.pk) == 1
    assert emails.notify_staff_of_client_complaint(complaint.pk) == 0
    assert [m.to for m in staff_mail(owner, manager)] == [[owner.email], [manager.email]]


def test_the_task_retries_when_the_mail_server_does_not_answer():
    assert OSError in tasks.notify_staff_of_client_complaint.autoretry_for


def test_a_broker_that_does_not_answer_does_not_fail_the_clients_concern(
    client, status_url, project, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.notify_staff_of_client_complaint, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(status_url, {"description": CONCERN, "lang": "en"})

    assert sent.status_code == 302
    assert project.complaints.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_email_each_person_once(project, contact, owner, manager, monkeypatch):
    monkeypatch.setattr(tasks.notify_staff_of_client_complaint, "delay", lambda complaint_id: None)
    complaint = raise_concern(project, contact)

    results, errors = at_once(lambda: emails.notify_staff_of_client_complaint(complaint.pk))

    assert errors == []
    assert sorted(results) == [0, 2]
    assert len(staff_mail(owner, manager)) == 2
