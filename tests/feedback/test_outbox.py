"""Emailing invitations and reminders: once each, in the contact's language, never after an answer."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from feedback import outbox, services
from feedback.models import SurveyInvitation
from tests.factories import ContactFactory, ProjectFactory
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(project, contact, relationship_survey):
    return services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    ).invitation


def test_an_invitation_is_emailed_once_in_the_contacts_language_with_a_working_link(client, queued, contact):
    assert outbox.deliver_invitations() == 1
    assert outbox.deliver_invitations() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "项目" in message.subject
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = next(word for word in message.body.split() if "/s/" in word and "opt-out" not in word)
    assert client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 200
    queued.refresh_from_db()
    assert queued.sent_at is not None


def test_an_english_contact_gets_an_english_email(project, relationship_survey):
    contact = ContactFactory(client=project.client, language="en")
    services.survey_send(project=project, contact=contact, survey=relationship_survey, trigger="manual")
    outbox.deliver_invitations()
    assert mail.outbox[0].subject.startswith("Two minutes for your view")


def test_a_failing_address_does_not_stall_the_others(project, relationship_survey):
    first, second = ContactFactory(client=project.client), ContactFactory(client=project.client)
    for contact in (first, second):
        services.survey_send(project=project, contact=contact, survey=relationship_survey, trigger="manual")
    real_send = outbox.EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to == [first.email]:
            raise ConnectionError("smtp down")
        return real_send(message, *args, **kwargs)

    with mock.patch.object(outbox.EmailMultiAlternatives, "send", send):
        assert outbox.deliver_invitations() == 1
    failed = SurveyInvitation.objects.get(contact=first)
    assert (failed.sent_at, failed.send_attempts) == (None, 1)
    assert "smtp down" in failed.last_error
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert outbox.deliver_invitations() == 1  # retried on the next run


def test_a_row_claimed_by_another_worker_is_skipped(queued):
    SurveyInvitation.objects.filter(pk=queued.pk).update(sent_at=timezone.now())
    assert outbox.deliver_invitations() == 0
    assert mail.outbox == []


def test_a_project_name_with_html_characters_reads_as_written_in_the_subject(project, relationship_survey):
    project.name = "Smith & O'Brien <Toll> Road"
    project.save(update_fields=["name"])
    contact = ContactFactory(client=project.client, language="en")
    services.survey_send(project=project, contact=contact, survey=relationship_survey, trigger="manual")
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    outbox.send_reminders(at=start + timedelta(days=3, minutes=1))

    assert [message.subject for message in mail.outbox] == [
        "Two minutes for your view on “Smith & O'Brien <Toll> Road”?",
        "Reminder: your view on “Smith & O'Brien <Toll> Road”",
    ]


def test_non_responders_get_two_reminders_at_most(queued):
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    assert outbox.send_reminders(at=start + timedelta(days=2)) == 0
    assert outbox.send_reminders(at=start + timedelta(days=3, minutes=1)) == 1
    assert outbox.send_reminders(at=start + timedelta(days=3, minutes=2)) == 0
    assert outbox.send_reminders(at=start + timedelta(days=7, minutes=1)) == 1
    assert outbox.send_reminders(at=start + timedelta(days=20)) == 0
    queued.refresh_from_db()
    assert queued.reminders_sent == 2
    assert [m.subject.startswith("提醒") for m in mail.outbox] == [False, True, True]


def test_a_reminder_that_could_not_be_emailed_is_tried_again_and_not_recorded_as_sent(queued):
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    failing_at = start + timedelta(days=3, minutes=1)
    with mock.patch.object(outbox.EmailMultiAlternatives, "send", side_effect=ConnectionError("smtp down")):
        assert outbox.send_reminders(at=failing_at) == 0
    queued.refresh_from_db()
    assert (queued.reminders_sent, queued.last_reminder_at) == (0, None)

    assert outbox.send_reminders(at=failing_at + timedelta(hours=1)) == 1
    queued.refresh_from_db()
    assert (queued.reminders_sent, queued.last_reminder_at) == (1, failing_at + timedelta(hours=1))


def test_no_reminder_after_the_client_answered(queued):
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    with time_machine.travel(start + timedelta(days=1)):
        services.response_submit(invitation=queued, raw=answers_for(queued.survey, nps="9"))
    assert outbox.send_reminders(at=start + timedelta(days=4)) == 0
    assert outbox.send_reminders(at=start + timedelta(days=8)) == 0
    assert len(mail.outbox) == 1


def test_an_answered_invitations_reminder_date_is_cleared_by_the_next_reminder_run(queued):
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    with time_machine.travel(start + timedelta(days=1)):
        services.response_submit(invitation=queued, raw=answers_for(queued.survey, nps="9"))
    queued.refresh_from_db()
    assert queued.next_reminder_at is not None  # answering writes only responded_at
    assert outbox.send_reminders(at=start + timedelta(days=2)) == 0
    queued.refresh_from_db()
    assert queued.next_reminder_at is not None  # not due yet
    assert outbox.send_reminders(at=start + timedelta(days=4)) == 0
    queued.refresh_from_db()
    assert queued.next_reminder_at is None
    assert len(mail.outbox) == 1


def test_no_reminder_and_no_new_survey_after_the_contact_opted_out(
    queued, contact, project, relationship_survey
):
    start = timezone.now()
    outbox.deliver_invitations(at=start)
    services.contact_opt_out(invitation=queued)
    assert outbox.send_reminders(at=start + timedelta(days=4)) == 0
    with time_machine.travel(start + timedelta(days=60)):
        result = services.survey_send(
            project=project, contact=contact, survey=relationship_survey, trigger="manual"
        )
    assert result.invitation is None
    assert len(mail.outbox) == 1


def test_an_opted_out_contacts_unsent_invitation_is_never_emailed(queued, contact):
    contact.opted_out = True
    contact.save()
    assert outbox.deliver_invitations() == 0
    assert mail.outbox == []


def test_delivery_queries_do_not_grow_with_the_batch(django_assert_max_num_queries, relationship_survey):
    project = ProjectFactory()
    for _ in range(5):
        services.survey_send(
            project=project,
            contact=ContactFactory(client=project.client),
            survey=relationship_survey,
            trigger="manual",
        )
    # one select, then per row: claim, link insert (the email itself is no query)
    with django_assert_max_num_queries(1 + 5 * 2):
        assert outbox.deliver_invitations() == 5
