import io

import pytest

from feedback.demo import seed_feedback
from feedback.models import SurveyInvitation, SurveyResponse
from tests.factories import ContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_demo_adds_answered_surveys_once(relationship_survey, milestone_survey):
    for number in range(6):
        project = ProjectFactory(code=f"DEMO-{number:03d}")
        ContactFactory(client=project.client, language="en" if number % 2 else "zh-hans")
    first = seed_feedback(io.StringIO())
    assert first["invitations created now"] == 6
    assert SurveyResponse.objects.filter(submitted_at__isnull=False).exists()
    second = seed_feedback(io.StringIO())
    assert second["invitations created now"] == 0
    assert SurveyInvitation.objects.count() == 6
