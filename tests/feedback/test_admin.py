"""Survey administration: editing surveys with their questions, and a manual send."""

import pytest
from django.core import mail

from feedback import services
from feedback.models import Question, Survey, SurveyInvitation
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


def test_the_admin_lists_surveys_invitations_and_responses(client, admin_user, linked, relationship_survey):
    invitation, _token = linked
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


def _survey_form(**question):
    """The admin's add-survey form with one question inline."""
    return {
        "kind": "relationship",
        "name_zh": "测试问卷",
        "name_en": "Test survey",
        "intro_zh": "",
        "intro_en": "",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-position": "1",
        "questions-0-text_zh": "您会推荐我们吗？",
        "questions-0-text_en": "Would you recommend us?",
        "questions-0-required": "on",
        **{f"questions-0-{name}": value for name, value in question.items()},
    }


@pytest.mark.parametrize(
    "question",
    [
        {"type": "choice", "choices": ""},
        {"type": "choice", "choices": "yes|是|Yes"},
        {"type": "choice", "choices": "yes|是|Yes\nyes|对|Right"},
        {"type": "choice", "choices": "yes|是|Yes\n|否|No"},
        {"type": "nps", "choices": "yes|是|Yes\nno|否|No"},
    ],
)
def test_the_admin_refuses_a_question_clients_could_not_answer_and_saves_nothing(
    client, admin_user, question
):
    client.force_login(admin_user)
    before = Survey.objects.count()

    page = client.post("/admin/feedback/survey/add/", _survey_form(**question))

    assert page.status_code == 200  # the form again, with the error on the options
    assert page.context["inline_admin_formsets"][0].formset.errors[0]["choices"]
    assert Survey.objects.count() == before


def test_the_admin_saves_a_single_choice_question_with_two_options(client, admin_user):
    client.force_login(admin_user)

    page = client.post(
        "/admin/feedback/survey/add/", _survey_form(type="choice", choices="yes|是|Yes\nno|否|No")
    )

    assert page.status_code == 302
    assert Question.objects.get(text_en="Would you recommend us?").option_values() == {"yes", "no"}


def test_categories_are_ticked_in_the_admin_and_kept_as_the_edit(client, admin_user, linked):
    invitation, _token = linked
    response = services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, nps="4"))
    client.force_login(admin_user)
    path = f"/admin/feedback/surveyresponse/{response.pk}/change/"

    page = client.post(path, {"categories": ["slow_resolution", "late_information"]})

    assert page.status_code == 302
    response.refresh_from_db()
    assert response.categories == ["late_information", "slow_resolution"]
    assert response.categories_edited_by == admin_user


def test_an_unknown_category_in_the_admin_is_a_form_error_not_a_server_error(client, admin_user, linked):
    invitation, _token = linked
    response = services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, nps="4"))
    client.force_login(admin_user)

    page = client.post(f"/admin/feedback/surveyresponse/{response.pk}/change/", {"categories": ["bogus"]})

    assert page.status_code == 200
    assert page.context["adminform"].form.errors["categories"]
    response.refresh_from_db()
    assert response.categories_edited_at is None


def test_revoking_in_the_admin_keeps_answered_invitations_and_says_so(
    client, admin_user, project, contact, linked
):
    answered, _token = linked
    services.response_submit(invitation=answered, raw=answers_for(answered.survey, nps="9"))
    open_one, _other_token = invitation_with_link(project=project, contact=contact)
    client.force_login(admin_user)

    page = client.post(
        "/admin/feedback/surveyinvitation/",
        {"action": "revoke", "_selected_action": [answered.pk, open_one.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert page.status_code == 200
    assert "1 revoked, 1 already answered (kept)." in page.content.decode()
    answered.refresh_from_db()
    open_one.refresh_from_db()
    assert (answered.revoked_at, open_one.revoked_at is not None) == (None, True)
