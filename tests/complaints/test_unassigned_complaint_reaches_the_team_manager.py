"""A complaint staff record without naming a handler (opened from a survey response, the "new
complaint" form, the API) waits with nobody handling it, while the client is told a handler
acknowledges it by a deadline, and the project's RM may not handle it without a manager's leave.
So once committed it is e-mailed to the project's RM and the team's manager, except the one who
recorded it, once each, saying who recorded it and how. One recorded with a handler tells nobody."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from complaints import emails, services, tasks
from complaints.models import Complaint, ComplaintEvent
from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMMENT = "The rate you promised changed without a word."


@pytest.fixture(autouse=True)
def _site(settings, time_machine):
    settings.SITE_URL = "https://cem.bank.example"
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def low_score(project, contact):
    return SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact),
        nps=2,
        is_detractor=True,
        comment=COMMENT,
        categories=["broken_commitment"],
    )


def mail_to(user):
    return [message for message in mail.outbox if user.email in message.to]


def notices(complaint):
    return [e for e in ComplaintEvent.objects.filter(complaint=complaint) if e.data.get("notice")]


def new_complaint(project, contact, **fields):
    return {
        "project": project.pk,
        "contact": contact.pk,
        "channel": "phone",
        "category": "late_information",
        "severity": "medium",
        "description": "Nobody told us the committee date.",
        **fields,
    }


# --- opened from a survey response -----------------------------------------------------------


def test_a_complaint_the_rm_opens_from_a_survey_response_is_emailed_to_the_team_manager(
    low_score, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint, created = services.complaint_open_from_survey_response(response=low_score, by=owner)

    assert created and complaint.owner is None
    assert mail_to(owner) == []  # not about their own action
    (message,) = mail_to(manager)
    assert complaint.reference in message.subject
    body = message.body
    project, contact = complaint.project, complaint.contact
    assert (
        f"{owner} opened complaint {complaint.reference} from the survey response of {contact.name} "
        f"of {project.client.name} about {project.name} ({project.code})."
    ) in body
    assert "raised a complaint" not in body and "In the client's words" not in body
    assert COMMENT in body
    assert "Nobody handles it yet. It must be acknowledged by 2026-03-03 23:59 (Asia/Shanghai)." in body
    assert (
        f"{owner} is the project's relationship manager and may handle it only if a manager allows it."
        in (body)
    )
    assert "You receive this as the team's manager: name a handler for it." in body
    link = "https://cem.bank.example" + reverse("complaints:detail", args=[complaint.pk])
    assert link in body and link in message.alternatives[0][0]
    (note,) = notices(complaint)
    assert note.summary == (
        f"The complaint opened from a survey response by {owner} was e-mailed to {manager}."
    )


def test_the_one_click_on_the_project_page_tells_the_team_manager(
    client, low_score, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        opened = client.post(reverse("complaints:from-survey-response", args=[low_score.pk]))

    assert opened.status_code == 302
    assert len(mail_to(manager)) == 1
    assert mail_to(owner) == []


def test_the_email_waits_for_the_commit(
    low_score, owner, manager, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.notify_staff_of_unassigned_complaint, "delay", queued.append)
    with django_capture_on_commit_callbacks() as callbacks:
        complaint, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)
    assert queued == []

    for callback in callbacks:
        callback()
    assert queued == [complaint.pk]


def test_a_second_click_or_a_rerun_sends_nothing_more(
    low_score, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)
        again, created = services.complaint_open_from_survey_response(response=low_score, by=owner)

    assert (again, created) == (complaint, False)
    assert tasks.notify_staff_of_unassigned_complaint.delay(complaint.pk).get() == 0
    assert emails.notify_staff_of_unassigned_complaint(complaint.pk) == 0
    assert len(mail_to(manager)) == 1
    assert len(notices(complaint)) == 1


def test_opened_by_the_team_manager_it_is_emailed_to_the_rm_instead(
    low_score, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_open_from_survey_response(response=low_score, by=manager)

    assert mail_to(manager) == []
    (message,) = mail_to(owner)
    assert f"{manager} opened complaint" in message.body
    assert (
        "You receive this as the project's relationship manager: you may handle it only if a manager "
        "allows it."
    ) in message.body
    assert "name a handler" not in message.body


def test_the_team_manager_is_told_in_their_language_and_time_zone(low_score, owner, manager):
    manager.language, manager.time_zone = "zh-hans", "Europe/London"
    manager.save()
    complaint, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)

    assert emails.notify_staff_of_unassigned_complaint(complaint.pk) == 1

    (message,) = mail_to(manager)
    assert "新投诉" in message.subject
    assert "根据" in message.body and "问卷回复" in message.body
    assert "2026-03-03 15:59" in message.body  # 23:59 in Shanghai is 15:59 in London


def test_a_complaint_handled_before_the_email_goes_out_is_not_emailed(low_score, owner, manager):
    complaint, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)
    services.complaint_assign(complaint=complaint, owner=manager, by=manager)

    assert emails.notify_staff_of_unassigned_complaint(complaint.pk) == 0
    assert mail_to(manager) == []


# --- the "new complaint" form and the API ----------------------------------------------------


def test_a_complaint_the_rm_records_on_the_new_complaint_page_is_emailed_to_the_team_manager(
    client, project, contact, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        recorded = client.post(reverse("complaints:create"), new_complaint(project, contact))

    assert recorded.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.owner is None
    assert mail_to(owner) == []
    (message,) = mail_to(manager)
    assert (
        f"{owner} recorded complaint {complaint.reference} from {contact.name} of {project.client.name} "
        f"about {project.name} ({project.code})."
    ) in message.body
    assert "survey response" not in message.body
    assert f"{owner} is the project's relationship manager" in message.body
    assert "name a handler for it" in message.body
    (note,) = notices(complaint)
    assert note.summary == f"The complaint recorded by {owner} was e-mailed to {manager}."


def test_a_complaint_the_manager_records_through_the_api_without_a_handler_is_emailed_to_the_rm(
    api_as, project, contact, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as(manager).post("/api/v1/complaints/", new_complaint(project, contact), format="json")

    assert created.status_code == 201
    assert mail_to(manager) == []
    (message,) = mail_to(owner)
    assert f"{manager} recorded complaint {created.json()['reference']}" in message.body
    assert "you may handle it only if a manager allows it" in message.body


def test_a_complaint_recorded_with_a_handler_tells_nobody(
    api_as, project, contact, owner, manager, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as(manager).post(
            "/api/v1/complaints/", new_complaint(project, contact, owner=manager.pk), format="json"
        )

    assert created.status_code == 201
    assert Complaint.objects.get().owner == manager
    assert mail_to(owner) == mail_to(manager) == []
