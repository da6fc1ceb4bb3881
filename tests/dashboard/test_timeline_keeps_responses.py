"""The project page's timeline keeps its newest TIMELINE_LIMIT events, and every survey response of
the project besides, however busy the project: a response's category editor, follow-up form and
complaint button are only there. Each response is anchored `response-<id>` for other pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.project_page import TIMELINE_LIMIT
from tests.dashboard.conftest import PROJECT_PAGE_QUERIES
from tests.factories import (
    AlertFactory,
    CommitmentFactory,
    InvitationFactory,
    SurveyResponseFactory,
    TouchpointFactory,
    ensure_sla_policies,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def answered(project, contact, *, days_ago, nps=3):
    invitation = InvitationFactory(
        project=project, contact=contact, created_at=timezone.now() - timedelta(days=days_ago + 1)
    )
    return SurveyResponseFactory(
        invitation=invitation,
        nps=nps,
        is_detractor=nps <= 6,
        comment="Nobody told us the credit committee moved.",
        submitted_at=timezone.now() - timedelta(days=days_ago),
    )


def busy(project, count):
    """`count` touchpoints, all newer than a response answered a month ago or earlier."""
    for hours in range(count):
        TouchpointFactory(project=project, occurred_at=timezone.now() - timedelta(hours=hours + 1))


def page(client, user, project):
    client.force_login(user)
    response = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def row_of(body, survey_response):
    match = re.search(
        rf'<li class="tl-survey[^"]*" id="response-{survey_response.pk}">(.*?)\n        </li>', body, re.S
    )
    return match.group(1) if match else None


def test_an_old_response_stays_on_a_busy_projects_page_with_everything_to_act_on_it(
    client, owner, project, contact
):
    survey_response = answered(project, contact, days_ago=30)
    busy(project, TIMELINE_LIMIT + 10)

    body = page(client, owner, project)

    row = row_of(body, survey_response)
    assert row is not None
    assert "Survey answered by" in row and "Nobody told us the credit committee moved." in row
    assert "Edit categories" in row  # the category editor
    assert "Record the follow-up" in row  # the follow-up form
    assert reverse("complaints:from-survey-response", args=[survey_response.pk]) in row  # one click
    # The rest of the timeline is still cut: the newest events, then the response, oldest last.
    assert body.count('<li class="tl-touchpoint') == TIMELINE_LIMIT
    assert body.index('class="tl-touchpoint') < body.index(f'id="response-{survey_response.pk}"')


def test_every_response_of_the_project_is_on_the_page(client, owner, project, contact):
    responses = [answered(project, contact, days_ago=10 + n) for n in range(TIMELINE_LIMIT + 5)]
    busy(project, 5)

    body = page(client, owner, project)

    assert body.count('<li class="tl-survey') == len(responses)
    assert all(f'id="response-{r.pk}"' in body for r in responses)


def test_read_only_colleagues_see_the_old_response_too(client, department_user, project, contact):
    CommitmentFactory(project=project, owner=department_user)
    survey_response = answered(project, contact, days_ago=30)
    busy(project, TIMELINE_LIMIT + 1)

    row = row_of(page(client, department_user, project), survey_response)

    assert row is not None and "Edit categories" not in row


@pytest.mark.parametrize("size", [2, 20])
def test_keeping_the_responses_adds_no_query(
    client, owner, project, contact, size, django_assert_max_num_queries
):
    ensure_sla_policies()
    busy(project, TIMELINE_LIMIT + 1)
    for i in range(size):
        commitment = CommitmentFactory(project=project, due_at=timezone.now() + timedelta(days=i + 1))
        AlertFactory(project=project, subject_id=commitment.pk)
        answered(project, contact, days_ago=30 + i, nps=i % 11)
    client.force_login(owner)

    with django_assert_max_num_queries(PROJECT_PAGE_QUERIES):
        body = client.get(reverse("dashboard:project", args=[project.pk])).content.decode()

    assert body.count('<li class="tl-survey') == size
