"""Links about one survey response open that response on its project's page
(`/projects/<project id>/#response-<response id>`), not the top of the page: the home page's
recent responses, and the alerts raised about a response (a detractor's, a contact request)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    AlertFactory,
    ProjectFactory,
    SurveyResponseFactory,
    invitation_with_link,
    shipped_survey,
)
from tests.feedback.conftest import submit_and_process

pytestmark = pytest.mark.django_db


def alert_links(body: str) -> dict[str, str]:
    """{alert id: the href of its project link}."""
    return dict(
        re.findall(
            r'<li class="alert-row[^"]*" id="alert-(\d+)">\s*<div class="alert-main">.*?<a href="([^"]*)"',
            body,
            re.S,
        )
    )


def response_links(body: str) -> list[str]:
    section = re.search(r'aria-labelledby="responses-title">.*?</section>', body, re.S).group(0)
    return re.findall(r'<a href="(/projects/[^"]*)"', section)


@pytest.fixture
def detractor(project, contact):
    """A detractor's answer, processed as the worker does: it raises the detractor alert."""
    invitation, _token = invitation_with_link(
        project=project, contact=contact, survey=shipped_survey("relationship")
    )
    return submit_and_process(invitation, nps="3")


def test_the_home_pages_recent_responses_open_the_response(browser, owner, project):
    response = SurveyResponseFactory(invitation__project=project, nps=9, comment="Clear and on time.")

    body = browser(owner).get("/").content.decode()

    assert response_links(body) == [f"/projects/{project.pk}/#response-{response.pk}"]


def test_a_detractor_alert_opens_the_response_on_home_and_team_pages(
    browser, owner, manager, project, detractor
):
    alert = detractor.invitation.project.alerts.get(kind="detractor_response")
    wanted = f"/projects/{project.pk}/#response-{detractor.pk}"

    assert alert_links(browser(owner).get("/").content.decode())[str(alert.pk)] == wanted
    assert alert_links(browser(manager).get("/team/").content.decode())[str(alert.pk)] == wanted


def test_a_contact_request_alert_opens_the_response(browser, owner, project):
    response = SurveyResponseFactory(invitation__project=project, nps=9)
    alert = AlertFactory(
        project=project, kind="contact_request", subject_type="survey_response", subject_id=response.pk
    )

    links = alert_links(browser(owner).get("/").content.decode())

    assert links[str(alert.pk)] == f"/projects/{project.pk}/#response-{response.pk}"


def test_other_alerts_still_open_the_project(browser, owner, project, detractor):
    missed = AlertFactory(project=project, kind="commitment_missed", subject_type="commitment")
    # A response alert whose subject is not a response (as older test data has it): the project.
    odd = AlertFactory(project=project, kind="contact_request", subject_type="commitment")

    links = alert_links(browser(owner).get("/").content.decode())

    assert links[str(missed.pk)] == links[str(odd.pk)] == f"/projects/{project.pk}/"


def test_the_alert_row_sent_back_after_an_action_keeps_the_link(browser, owner, project, detractor):
    alert = project.alerts.get(kind="detractor_response")

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]), HTTP_HX_REQUEST="true"
    )

    assert alert_links(response.content.decode()) == {
        str(alert.pk): f"/projects/{project.pk}/#response-{detractor.pk}"
    }


@pytest.mark.parametrize("page", ["/", "/team/"])
def test_response_links_take_one_query_whatever_the_number_of_alerts(
    browser, owner, manager, client_org, page
):
    page_client = browser(owner if page == "/" else manager)
    page_client.get(page)  # the first request of a session reads more (caches): not measured

    def queries(n: int) -> int:
        for _ in range(n):
            project = ProjectFactory(client=client_org)
            response = SurveyResponseFactory(invitation__project=project, nps=2)
            AlertFactory(
                project=project,
                kind="detractor_response",
                subject_type="survey_response",
                subject_id=response.pk,
                assignee=owner,
            )
        with CaptureQueriesContext(connection) as captured:
            assert page_client.get(page).status_code == 200
        return len(captured)

    assert queries(2) == queries(10)
