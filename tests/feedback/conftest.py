import pytest
from django.core.cache import cache

from feedback import services
from tests.factories import invitation_with_link, shipped_survey


@pytest.fixture(autouse=True)
def _fresh_rate_limits_and_questions():
    cache.clear()
    services.survey_questions_forget()  # survey ids come back after a rollback, under a frozen clock
    services.processing_schedule_forget()  # each test starts with no worker run asked for
    yield
    cache.clear()


@pytest.fixture
def relationship_survey(db):
    return shipped_survey("relationship")


@pytest.fixture
def milestone_survey(db):
    return shipped_survey("milestone")


@pytest.fixture
def linked(project, contact, relationship_survey):
    """An emailed relationship survey to the standing contact, with a working link."""
    return invitation_with_link(project=project, contact=contact, survey=relationship_survey)


def answers_for(survey, **by_type):
    """Form fields answering a survey: answers_for(survey, nps="9", text="Great")."""
    return {f"q_{q.pk}": by_type[q.type] for q in survey.questions.all() if q.type in by_type}


def submit_and_process(invitation, **answers):
    """Submit answers, then do what the worker does after the commit; returns the response."""
    response = services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, **answers))
    return services.response_process(response_id=response.pk)
