"""The survey API: whole days in the metrics period, surveys that were sent are kept, and one
click from a response to its complaint."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from complaints.models import Complaint
from feedback.models import Survey
from tests.factories import (
    CommitmentFactory,
    InvitationFactory,
    SurveyFactory,
    SurveyResponseFactory,
    ensure_sla_policies,
    shipped_survey,
)

pytestmark = pytest.mark.django_db
SHANGHAI, LONDON = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London")


def answered_at(project, moment, nps=9):
    invitation = InvitationFactory(project=project, created_at=moment, sent_at=moment, responded_at=moment)
    return SurveyResponseFactory(invitation=invitation, submitted_at=moment, nps=nps)


def metrics(api, **period):
    response = api.get("/api/v1/metrics/", period)
    assert response.status_code == 200, response.content
    return response.data["results"]


# --- a bare end date includes its whole day ------------------------------------------------


def test_an_end_date_includes_that_whole_day_in_the_users_time_zone(api_as, owner, project):
    answered_at(project, datetime(2026, 11, 30, 22, 0, tzinfo=SHANGHAI))
    answered_at(project, datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI), nps=0)  # the next day
    answered_at(project, datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI), nps=0)  # the day before

    [row] = metrics(api_as(owner), start="2026-11-30", end="2026-11-30")

    assert (row["invited"], row["nps"]["n"], row["nps"]["score"]) == (1, 1, 100.0)


def test_the_days_of_the_period_are_the_users_own(api_as, owner, project):
    owner.time_zone = "Europe/London"
    owner.save()
    answered_at(project, datetime(2026, 11, 30, 23, 30, tzinfo=LONDON))  # 1 December in Shanghai
    answered_at(project, datetime(2026, 11, 30, 1, 0, tzinfo=SHANGHAI), nps=0)  # 29 November in London

    [row] = metrics(api_as(owner), start="2026-11-30", end="2026-11-30")

    assert (row["nps"]["n"], row["nps"]["score"]) == (1, 100.0)


def test_an_end_date_time_stays_exact(api_as, owner, project):
    answered_at(project, datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI))
    answered_at(project, datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI), nps=0)

    [row] = metrics(api_as(owner), start="2026-11-30", end="2026-11-30T12:00:00+08:00")

    assert (row["nps"]["n"], row["nps"]["score"]) == (1, 100.0)


def test_an_end_date_before_the_start_date_is_refused(api_as, owner):
    response = api_as(owner).get("/api/v1/metrics/", {"start": "2026-11-30", "end": "2026-11-29"})

    assert response.status_code == 400
    assert "end" in response.data


def test_the_last_possible_end_date_is_refused_not_a_server_error(api_as, owner):
    response = api_as(owner).get("/api/v1/metrics/", {"end": "9999-12-31"})

    assert response.status_code == 400
    assert "end" in response.data


# --- deleting a survey ---------------------------------------------------------------------


@pytest.mark.parametrize("language, why", [("en", "Deactivate it instead"), ("zh-hans", "不能删除")])
def test_a_survey_that_was_sent_cannot_be_deleted_and_says_why_in_the_callers_language(
    api_as, admin_user, project, language, why
):
    survey = SurveyFactory()
    InvitationFactory(project=project, survey=survey)

    refused = api_as(admin_user).delete(f"/api/v1/surveys/{survey.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    assert refused.status_code == 409
    assert why in refused.data["detail"]
    assert Survey.objects.filter(pk=survey.pk).exists()


def test_a_survey_nobody_was_sent_can_be_deleted(api_as, admin_user):
    survey = SurveyFactory()

    assert api_as(admin_user).delete(f"/api/v1/surveys/{survey.pk}/").status_code == 204
    assert not Survey.objects.filter(pk=survey.pk).exists()


def test_the_admin_refuses_to_delete_a_survey_that_was_sent(client, admin_user, project):
    survey = SurveyFactory()
    InvitationFactory(project=project, survey=survey)
    client.force_login(admin_user)

    page = client.post(f"/admin/feedback/survey/{survey.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200  # the admin's "cannot delete: protected objects" page
    assert Survey.objects.filter(pk=survey.pk).exists()


# --- one click from a response to its complaint --------------------------------------------


@pytest.fixture
def low_score(project, contact):
    ensure_sla_policies()
    invitation = InvitationFactory(project=project, contact=contact, survey=shipped_survey("relationship"))
    return SurveyResponseFactory(
        invitation=invitation,
        nps=2,
        is_detractor=True,
        comment="Nobody told us the committee date moved.",
        categories=["late_information", "slow_resolution"],
    )


def open_complaint(api, response):
    return api.post(f"/api/v1/survey-responses/{response.pk}/complaint/")


def test_a_low_score_opens_a_complaint_prefilled_from_the_response(api_as, owner, low_score):
    created = open_complaint(api_as(owner), low_score)

    assert created.status_code == 201, created.content
    complaint = Complaint.objects.get()
    assert created.data["id"] == complaint.pk
    assert created.data["url"].endswith(f"/api/v1/complaints/{complaint.pk}/")
    assert created.data["page_url"].endswith(f"/complaints/{complaint.pk}/")
    assert (complaint.project, complaint.contact) == (
        low_score.invitation.project,
        low_score.invitation.contact,
    )
    assert (complaint.channel, complaint.category) == ("survey", "late_information")
    assert complaint.description == "Nobody told us the committee date moved."
    assert (complaint.source_key, complaint.created_by) == (f"survey_response:{low_score.pk}", owner)


def test_opening_it_again_answers_the_same_complaint(api_as, owner, manager, low_score):
    first = open_complaint(api_as(owner), low_score)
    again = open_complaint(api_as(manager), low_score)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"]
    assert Complaint.objects.count() == 1


def test_a_response_outside_the_callers_scope_answers_404(api_as, outsider, low_score):
    assert open_complaint(api_as(outsider), low_score).status_code == 404
    assert not Complaint.objects.exists()


def test_department_staff_may_not_open_a_complaint(api_as, department_user, low_score):
    CommitmentFactory(project=low_score.invitation.project, owner=department_user)  # they see it

    refused = open_complaint(api_as(department_user), low_score)

    assert refused.status_code == 403
    assert not Complaint.objects.exists()


def test_opening_a_complaint_needs_a_login(api, low_score):
    assert open_complaint(api, low_score).status_code in (401, 403)
    assert not Complaint.objects.exists()


def test_a_response_without_a_comment_gets_a_description_in_the_contacts_language(
    api_as, owner, project, contact
):
    ensure_sla_policies()
    response = SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact), nps=1, csat=2
    )

    assert open_complaint(api_as(owner), response).status_code == 201
    assert Complaint.objects.get().description == "根据客户的问卷回答登记（NPS 1, CSAT 2）。"
