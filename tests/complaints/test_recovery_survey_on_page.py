"""The complaint page says where its recovery survey stands, and reopening the complaint drops a
recovery survey the frequency cap was holding back (it would tell the client it is resolved)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from complaints import services
from feedback import services as feedback_services
from feedback.models import SurveyInvitation, SurveySkip, Trigger
from tests.factories import shipped_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def surveyed_before(project, contact, received_at):
    """The client answered a survey five days before complaining: the cap holds them 30 days."""
    return feedback_services.survey_send(
        project=project,
        contact=contact,
        survey=shipped_survey("relationship"),
        trigger=Trigger.MANUAL,
        at=received_at - timedelta(days=5),
    ).invitation


@pytest.fixture
def resolved_now(acknowledged, teammate, django_capture_on_commit_callbacks):
    shipped_survey("recovery")
    with django_capture_on_commit_callbacks(execute=True):
        return services.complaint_resolve(
            complaint=acknowledged,
            by=teammate,
            response_text="We apologise; the committee meets on 9 March.",
            response_channel="phone",
            root_cause="internal_communication",
        )


def recovery_section(client, user, complaint):
    client.force_login(user)
    html = client.get(reverse("complaints:detail", args=[complaint.pk]), HTTP_ACCEPT_LANGUAGE="en")
    return html.content.decode().split('id="recovery-survey"')[1].split("</section>")[0]


def test_before_the_resolution_the_page_says_when_the_recovery_survey_goes(client, acknowledged, teammate):
    assert "Sent to the client when the complaint is resolved." in recovery_section(
        client, teammate, acknowledged
    )


def test_a_recovery_survey_held_by_the_cap_is_shown_with_the_day_it_will_be_sent(
    client, surveyed_before, resolved_now, teammate
):
    section = recovery_section(client, teammate, resolved_now)

    assert "held" in section
    assert "Li Wei was surveyed recently, so it will be sent on 2026-03-27 10:00." in section


def test_a_recovery_survey_sent_at_once_is_shown_as_waiting_for_its_email(
    client, resolved_now, teammate, contact
):
    assert SurveyInvitation.objects.filter(trigger=Trigger.RECOVERY, contact=contact).exists()

    assert "Waiting to be e-mailed to Li Wei." in recovery_section(client, teammate, resolved_now)


def test_reopening_the_complaint_drops_its_held_recovery_survey(
    client, surveyed_before, resolved_now, teammate
):
    reopened = services.complaint_reopen(complaint=resolved_now, by=teammate, reason="The client disagrees.")

    assert not SurveySkip.objects.filter(send_at__isnull=False).exists()
    assert feedback_services.recovery_surveys_send_held(at=resolved_now.resolved_at + timedelta(days=60)) == 0
    assert not SurveyInvitation.objects.filter(trigger=Trigger.RECOVERY).exists()
    section = recovery_section(client, teammate, reopened)
    assert "not sent" in section
    assert "Not sent to Li Wei: The complaint was reopened." in section


def test_reopening_the_complaint_revokes_a_recovery_survey_not_yet_emailed(
    client, resolved_now, teammate, contact
):
    invitation = SurveyInvitation.objects.get(trigger=Trigger.RECOVERY, contact=contact)
    assert invitation.sent_at is None

    reopened = services.complaint_reopen(complaint=resolved_now, by=teammate, reason="The client disagrees.")

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "Revoked on" in recovery_section(client, teammate, reopened)


def test_reopening_leaves_a_recovery_survey_already_emailed_answerable(
    client, resolved_now, teammate, contact
):
    invitation = SurveyInvitation.objects.get(trigger=Trigger.RECOVERY, contact=contact)
    invitation.sent_at = resolved_now.resolved_at
    invitation.save(update_fields=["sent_at"])

    services.complaint_reopen(complaint=resolved_now, by=teammate, reason="The client disagrees.")

    invitation.refresh_from_db()
    assert invitation.revoked_at is None
