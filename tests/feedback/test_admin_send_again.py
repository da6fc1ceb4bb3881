"""The admin's "Send the same survey again": each selected invitation is sent on its own, and
one the rules refuse is reported with its reason instead of breaking the page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import SurveyInvitation
from tests.factories import ContactFactory, InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

OUTSIDE_THE_FREQUENCY_CAP = timedelta(days=60)


def _sent_long_ago(project, survey, contact=None):
    return InvitationFactory(
        project=project,
        contact=contact or ContactFactory(client=project.client),
        survey=survey,
        created_at=timezone.now() - OUTSIDE_THE_FREQUENCY_CAP,
    )


def _send_again(client, admin_user, invitations, language):
    client.force_login(admin_user)
    page = client.post(
        "/admin/feedback/surveyinvitation/",
        {"action": "send_again", "_selected_action": [invitation.pk for invitation in invitations]},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )
    assert page.status_code == 200
    return [str(message) for message in page.context["messages"]]


@pytest.mark.parametrize(
    "language, refusal",
    [("en", "1 not sent: This survey is not active."), ("zh-hans", "1 份未发送：该调查未启用。")],
)
def test_sending_again_a_deactivated_survey_is_refused_with_its_reason_not_a_server_error(
    client, admin_user, project, contact, language, refusal
):
    survey = SurveyFactory()
    invitation = _sent_long_ago(project, survey, contact)
    survey.is_active = False
    survey.save()

    shown = _send_again(client, admin_user, [invitation], language)

    assert refusal in shown
    assert list(SurveyInvitation.objects.values_list("pk", flat=True)) == [invitation.pk]


def test_a_refused_invitation_does_not_stop_the_others_and_each_count_is_reported(
    client, admin_user, project
):
    active, deactivated = SurveyFactory(), SurveyFactory(is_active=False)
    QuestionFactory(survey=active)
    sendable = _sent_long_ago(project, active)
    refused = [_sent_long_ago(project, deactivated) for _ in range(2)]
    capped = _sent_long_ago(project, active)
    InvitationFactory(project=project, contact=capped.contact, survey=active)  # surveyed today

    shown = _send_again(client, admin_user, [sendable, *refused, capped], "en")

    assert "1 sent, 1 skipped." in shown
    assert "2 not sent: This survey is not active." in shown  # the reason once, not per row
    again = SurveyInvitation.objects.filter(created_by=admin_user).get()
    assert (again.contact, again.survey, again.trigger) == (sendable.contact, active, "manual")
