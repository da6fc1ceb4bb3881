"""A JSON body that is not an object (a number, a list, null) is bad input: the survey API answers
DRF's usual 400 under `non_field_errors` and changes nothing, never a 500."""

import pytest

from feedback.models import Survey, SurveyInvitation
from tests.feedback.conftest import submit_and_process

pytestmark = pytest.mark.django_db

NOT_AN_OBJECT = [
    pytest.param("123", "Invalid data. Expected a dictionary, but got int.", id="number"),
    pytest.param("[{}]", "Invalid data. Expected a dictionary, but got list.", id="list"),
    pytest.param('"categories"', "Invalid data. Expected a dictionary, but got str.", id="string"),
    pytest.param("null", "No data provided", id="null"),
]


@pytest.fixture
def response(linked):
    invitation, _token = linked
    return submit_and_process(invitation, nps="3", text="The process was too complicated.")


def send(api, method, url, body):
    return getattr(api, method)(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(("body", "message"), NOT_AN_OBJECT)
def test_a_category_edit_whose_body_is_not_an_object_is_a_400_and_changes_nothing(
    api_as, owner, response, body, message
):
    answer = send(api_as(owner), "patch", f"/api/v1/survey-responses/{response.pk}/", body)

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"non_field_errors": [message]}
    response.refresh_from_db()
    assert (response.categories, response.categories_edited_at) == (["complex_process"], None)


@pytest.mark.parametrize(("body", "message"), NOT_AN_OBJECT)
def test_a_follow_up_whose_body_is_not_an_object_is_a_400_and_records_nothing(
    api_as, owner, response, body, message
):
    answer = send(api_as(owner), "post", f"/api/v1/survey-responses/{response.pk}/follow-up/", body)

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"non_field_errors": [message]}
    response.refresh_from_db()
    assert response.followed_up_at is None


@pytest.mark.parametrize(("body", "message"), NOT_AN_OBJECT)
def test_a_manual_send_whose_body_is_not_an_object_is_a_400_and_sends_nothing(
    api_as, owner, project, body, message
):
    answer = send(api_as(owner), "post", "/api/v1/survey-invitations/", body)

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"non_field_errors": [message]}
    assert not SurveyInvitation.objects.exists()


@pytest.mark.parametrize("method", ["post", "patch", "put"])
@pytest.mark.parametrize(("body", "message"), NOT_AN_OBJECT)
def test_a_survey_write_whose_body_is_not_an_object_is_a_400_and_changes_nothing(
    api_as, admin_user, relationship_survey, method, body, message
):
    before = list(Survey.objects.order_by("pk").values())
    url = "/api/v1/surveys/" if method == "post" else f"/api/v1/surveys/{relationship_survey.pk}/"

    answer = send(api_as(admin_user), method, url, body)

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"non_field_errors": [message]}
    assert list(Survey.objects.order_by("pk").values()) == before
