"""One click from a client's survey response to its complaint: prefilled, once per response
(also with the contact-request hook), scoped like the response, refused to department staff."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from complaints import services
from complaints.hooks import raise_complaint_from_survey
from complaints.models import Complaint
from tests.factories import CommitmentFactory, InvitationFactory, SurveyResponseFactory, shipped_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_score(project, contact):
    invitation = InvitationFactory(project=project, contact=contact, survey=shipped_survey("relationship"))
    contact_question = invitation.survey.questions.get(type="choice")
    return SurveyResponseFactory(
        invitation=invitation,
        nps=3,
        is_detractor=True,
        comment="The rate you promised changed without a word.",
        categories=["broken_commitment"],
        answers={str(contact_question.pk): "yes"},
    )


def open_url(response):
    return reverse("complaints:from-survey-response", args=[response.pk])


# --- the service ---------------------------------------------------------------------------


def test_the_complaint_is_prefilled_from_the_response(low_score, owner):
    complaint, created = services.complaint_open_from_survey_response(response=low_score, by=owner)

    assert created
    assert (complaint.project, complaint.contact) == (
        low_score.invitation.project,
        low_score.invitation.contact,
    )
    assert (complaint.channel, complaint.category, complaint.status) == ("survey", "broken_commitment", "new")
    assert complaint.description == "The rate you promised changed without a word."
    assert (complaint.source_key, complaint.created_by) == (f"survey_response:{low_score.pk}", owner)


def test_a_response_without_categories_gets_the_category_its_comment_suggests(project, contact, owner):
    response = SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact), nps=2, comment="没人通知我们进度。"
    )

    complaint, _created = services.complaint_open_from_survey_response(response=response, by=owner)

    assert complaint.category == "late_information"


def test_a_second_click_returns_the_first_complaint(low_score, owner, manager):
    first, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)
    again, created = services.complaint_open_from_survey_response(response=low_score, by=manager)

    assert (again, created) == (first, False)
    assert Complaint.objects.count() == 1


def test_the_click_and_the_contact_request_hook_raise_one_complaint_between_them(low_score, owner):
    raise_complaint_from_survey(low_score)
    complaint, created = services.complaint_open_from_survey_response(response=low_score, by=owner)

    assert not created
    assert Complaint.objects.get() == complaint
    assert complaint.created_by is None  # the client's request came first


def test_a_draft_cannot_become_a_complaint(project, contact, owner):
    draft = SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact), submitted_at=None
    )

    with pytest.raises(ValidationError) as refused:
        services.complaint_open_from_survey_response(response=draft, by=owner)

    assert refused.value.message_dict["response"] == [
        "This survey was not submitted yet, so no complaint can be opened from it."
    ]
    assert not Complaint.objects.exists()


# --- the browser entry point ---------------------------------------------------------------


def test_the_button_opens_the_complaint_and_shows_it(client, owner, low_score):
    client.force_login(owner)

    done = client.post(open_url(low_score))

    complaint = Complaint.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert complaint.reference in client.get(done["Location"]).content.decode()


def test_clicking_again_shows_the_complaint_already_opened(client, owner, low_score):
    first, _created = services.complaint_open_from_survey_response(response=low_score, by=owner)
    client.force_login(owner)

    again = client.post(open_url(low_score), follow=True)

    assert again.redirect_chain[-1][0] == reverse("complaints:detail", args=[first.pk])
    assert f"This survey response already has complaint {first.reference}." in again.content.decode()
    assert Complaint.objects.count() == 1


def test_the_button_needs_a_login(client, low_score):
    refused = client.post(open_url(low_score))

    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("login"))
    assert not Complaint.objects.exists()


def test_an_outsider_gets_404(client, outsider, low_score):
    client.force_login(outsider)

    assert client.post(open_url(low_score)).status_code == 404
    assert not Complaint.objects.exists()


def test_department_staff_who_see_the_project_get_403(client, department_user, low_score):
    CommitmentFactory(project=low_score.invitation.project, owner=department_user)
    client.force_login(department_user)

    assert client.post(open_url(low_score)).status_code == 403
    assert not Complaint.objects.exists()


def test_a_get_changes_nothing(client, owner, low_score):
    client.force_login(owner)

    assert client.get(open_url(low_score)).status_code == 405
    assert not Complaint.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(owner, low_score):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert browser.post(open_url(low_score)).status_code == 403
    assert not Complaint.objects.exists()


def test_a_refusal_goes_back_to_the_page_with_the_reason(client, owner, project, contact, monkeypatch):
    response = SurveyResponseFactory(invitation=InvitationFactory(project=project, contact=contact), nps=1)

    def refuse(**kwargs):
        raise ValidationError({"contact": "This contact belongs to another client."})

    monkeypatch.setattr(services, "complaint_create", refuse)
    client.force_login(owner)
    back = reverse("dashboard:project", args=[project.pk])

    refused = client.post(open_url(response), {"next": back})
    elsewhere = client.post(open_url(response), {"next": "https://evil.example/"})

    assert (refused.status_code, refused["Location"]) == (302, back)
    assert elsewhere["Location"] == reverse("complaints:list")
    assert not Complaint.objects.exists()


# --- two at once ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_hook_and_clicks_at_the_same_moment_raise_one_complaint(low_score, owner):
    barrier, lock, outcomes = threading.Barrier(6), threading.Lock(), []

    def run(click: bool):
        try:
            barrier.wait()
            if click:
                outcome = services.complaint_open_from_survey_response(response=low_score, by=owner)[0].pk
            else:
                raise_complaint_from_survey(low_score)
                outcome = "hook"
        except Exception as error:  # shown in the assertion below
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n % 2 == 0,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    complaint = Complaint.objects.get()
    assert sorted(outcomes, key=str) == sorted([complaint.pk] * 3 + ["hook"] * 3, key=str)
