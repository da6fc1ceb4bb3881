"""Every survey that was not sent stays recorded with its reason, also once its survey is gone."""

import pytest

from feedback import services
from feedback.models import SkipReason, Survey, SurveySkip, Trigger
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def skipped(monkeypatch, project, contact):
    """A custom survey nobody was sent: the contact, surveyed today, was held back by the cap."""
    monkeypatch.setattr(services, "_deliver_after_commit", lambda: None)
    InvitationFactory(project=project, contact=contact)
    survey = QuestionFactory(survey=SurveyFactory(kind="custom")).survey
    result = services.survey_send(project=project, contact=contact, survey=survey, trigger=Trigger.MANUAL)
    assert result.skip is not None
    return survey, result.skip


def test_deleting_a_survey_nobody_was_sent_keeps_its_skips(api_as, admin_user, project, contact, skipped):
    survey, skip = skipped

    assert api_as(admin_user).delete(f"/api/v1/surveys/{survey.pk}/").status_code == 204

    assert not Survey.objects.filter(pk=survey.pk).exists()
    kept = SurveySkip.objects.get(pk=skip.pk)
    assert (kept.survey, kept.contact, kept.project) == (None, contact, project)
    assert (kept.reason, kept.trigger) == (SkipReason.FREQUENCY_CAP, Trigger.MANUAL)


def test_deleting_the_survey_in_the_admin_keeps_its_skips(client, admin_user, skipped):
    survey, skip = skipped
    client.force_login(admin_user)

    client.post(f"/admin/feedback/survey/{survey.pk}/delete/", {"post": "yes"})

    assert not Survey.objects.filter(pk=survey.pk).exists()
    assert SurveySkip.objects.filter(pk=skip.pk, survey=None).exists()


def test_the_admin_lists_and_shows_a_skip_whose_survey_was_deleted(client, admin_user, contact, skipped):
    survey, skip = skipped
    services.survey_delete(survey=survey)
    client.force_login(admin_user)

    listed = client.get("/admin/feedback/surveyskip/", HTTP_ACCEPT_LANGUAGE="en")
    shown = client.get(f"/admin/feedback/surveyskip/{skip.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")

    assert listed.status_code == shown.status_code == 200
    for page in (listed, shown):
        assert contact.name in page.content.decode()
        assert "Contact was surveyed recently" in page.content.decode()
