"""Survey administration: editing surveys with their questions, and a manual send."""

import pytest
from django.core import mail

from feedback.models import SurveyInvitation
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


def test_the_admin_lists_surveys_invitations_and_responses(client, admin_user, linked, relationship_survey):
    invitation, _token = linked
    from feedback import services

    response = services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, nps="4"))
    client.force_login(admin_user)
    for path in (
        "/admin/feedback/survey/",
        f"/admin/feedback/survey/{relationship_survey.pk}/change/",
        "/admin/feedback/surveyinvitation/",
        f"/admin/feedback/surveyinvitation/{invitation.pk}/change/",
        "/admin/feedback/surveyresponse/?category=complex_process&is_detractor__exact=1",
        f"/admin/feedback/surveyresponse/{response.pk}/change/",
        "/admin/feedback/surveyskip/",
    ):
        assert client.get(path).status_code == 200, path


def test_adding_an_invitation_in_the_admin_sends_it_and_shows_the_link_once(
    client, admin_user, project, contact, relationship_survey, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=False):
        page = client.post(
            "/admin/feedback/surveyinvitation/add/",
            {
                "project": project.pk,
                "contact": contact.pk,
                "survey": relationship_survey.pk,
                "reason": "Check-in",
            },
            follow=True,
        )
    assert page.status_code == 200
    invitation = SurveyInvitation.objects.get()
    assert (invitation.trigger, invitation.created_by) == ("manual", admin_user)
    assert "/s/" in page.content.decode()
    assert mail.outbox == []  # the delivery task emails it after commit
