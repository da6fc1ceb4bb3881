"""The project page's timeline: each survey response offers one click to open its complaint, or
links to the complaint opened from it, without a query per response."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import Complaint
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


def answered(project, contact, *, nps=2, comment="Nobody called us back."):
    invitation = InvitationFactory(project=project, contact=contact)
    return SurveyResponseFactory(invitation=invitation, nps=nps, is_detractor=nps <= 6, comment=comment)


def page(client, user, project):
    client.force_login(user)
    response = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_a_survey_response_offers_to_open_a_complaint_with_a_csrf_protected_form(
    client, owner, project, contact
):
    response = answered(project, contact)

    body = page(client, owner, project)

    action = reverse("complaints:from-survey-response", args=[response.pk])
    form = re.search(rf'<form method="post" action="{action}" class="inline">(.*?)</form>', body)
    assert form is not None
    assert 'name="csrfmiddlewaretoken" value="' in form.group(1)
    assert f'name="next" value="{reverse("dashboard:project", args=[project.pk])}"' in form.group(1)
    assert "Open a complaint" in form.group(1)


def test_the_form_opens_the_complaint_and_then_the_page_links_to_it(client, owner, project, contact):
    ensure_sla_policies()
    response = answered(project, contact)
    page(client, owner, project)

    opened = client.post(reverse("complaints:from-survey-response", args=[response.pk]))
    complaint = Complaint.objects.get()
    body = page(client, owner, project)

    assert opened["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert (
        f'<a class="small" href="{reverse("complaints:detail", args=[complaint.pk])}">View complaint</a>'
        in body
    )
    assert reverse("complaints:from-survey-response", args=[response.pk]) not in body


def test_a_complaint_the_client_asked_for_is_linked_too(client, owner, project, contact):
    ensure_sla_policies()
    response = answered(project, contact)
    complaint = complaint_services.complaint_raise_from_client(
        project=project,
        contact=contact,
        description="Please call me.",
        channel="survey",
        source_key=complaint_services.survey_response_source_key(response.pk),
    )

    body = page(client, owner, project)

    assert reverse("complaints:detail", args=[complaint.pk]) in body
    assert reverse("complaints:from-survey-response", args=[response.pk]) not in body


def test_department_staff_are_offered_neither(client, department_user, project, contact):
    CommitmentFactory(project=project, owner=department_user)
    response = answered(project, contact)

    body = page(client, department_user, project)

    assert "Survey answered by" in body
    assert reverse("complaints:from-survey-response", args=[response.pk]) not in body
    assert "View complaint" not in body


def test_the_offer_is_in_the_users_language(client, owner, project, contact):
    answered(project, contact)
    client.force_login(owner)

    body = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "登记投诉" in body.content.decode()


@pytest.mark.parametrize("size", [2, 20])
def test_survey_responses_and_their_complaints_add_no_query(
    client, owner, project, contact, size, django_assert_max_num_queries
):
    ensure_sla_policies()
    for i in range(size):
        TouchpointFactory(project=project)
        commitment = CommitmentFactory(project=project, due_at=timezone.now() + timedelta(days=i + 1))
        AlertFactory(project=project, subject_id=commitment.pk)
        response = answered(project, contact, nps=i % 11)
        if i % 2:
            complaint_services.complaint_open_from_survey_response(response=response, by=owner)
    client.force_login(owner)

    # With survey responses and complaints on the page.
    with django_assert_max_num_queries(PROJECT_PAGE_QUERIES):
        body = client.get(reverse("dashboard:project", args=[project.pk])).content.decode()

    shown = body.count("Survey answered by")  # the timeline keeps its newest rows only
    assert shown > 0
    assert body.count("View complaint") + body.count("Open a complaint") == shown
