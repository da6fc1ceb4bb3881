"""The survey form's language switch is a button of the form: what the client ticked and typed
is saved as a draft and shown again in the other language, and the link opens in the language
they chose last."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import SurveyInvitation, SurveyResponse
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


def url(token):
    return f"/s/{token}/"


def field(survey, kind):
    return f"q_{survey.questions.get(type=kind).pk}"


def switch(client, token, data, to="en", page_language="zh-hans"):
    return client.post(url(token), {**data, "lang": page_language, "lang_switch": to})


def test_the_form_page_switches_language_with_buttons_of_the_form_not_links(client, linked):
    _invitation, token = linked

    body = client.get(url(token)).content.decode()

    assert re.search(
        r'<button type="submit" form="survey-form" name="lang_switch" value="en" formnovalidate'
        r"[^>]*>English</button>",
        body,
    )
    assert 'id="survey-form"' in body
    assert 'href="?lang=' not in body


def test_enter_in_the_form_still_submits_it_and_does_not_switch_the_language(client, linked):
    _invitation, token = linked

    body = client.get(url(token)).content.decode()

    # The form's first submit button (the one Enter presses) is a submission, ahead of the switch.
    buttons = re.findall(r'<button type="submit"([^>]*)>', body)
    assert 'name="action" value="submit"' in buttons[0]
    assert any('name="lang_switch"' in button for button in buttons[1:])


def test_switching_language_keeps_the_ticked_score_and_the_typed_comment(client, linked):
    invitation, token = linked
    survey = invitation.survey
    data = answers_for(survey, nps="7", text="审批太慢")

    page = switch(client, token, data)

    assert page.status_code == 200
    assert page["Content-Language"] == "en"
    body = page.content.decode()
    assert "Relationship survey" in body
    assert f'name="{field(survey, "nps")}" value="7" checked' in body
    assert "审批太慢</textarea>" in body
    assert 'name="lang" value="en"' in body  # the next submission goes on in English
    assert "Please answer this question." not in body


def test_a_switch_saves_the_answers_as_a_draft_and_never_submits_them(client, linked):
    invitation, token = linked
    complete = answers_for(invitation.survey, nps="9", text="Good")

    switch(client, token, complete)

    draft = SurveyResponse.objects.get(invitation=invitation)
    assert draft.submitted_at is None
    assert draft.answers == {
        str(invitation.survey.questions.get(type="nps").pk): 9,
        str(invitation.survey.questions.get(type="text").pk): "Good",
    }
    assert draft.language == "en"
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_reopening_the_link_shows_the_language_chosen_last_with_the_answers(client, linked):
    invitation, token = linked
    switch(client, token, answers_for(invitation.survey, nps="4"))

    page = client.get(url(token))

    assert page["Content-Language"] == "en"
    assert f'name="{field(invitation.survey, "nps")}" value="4" checked' in page.content.decode()
    assert client.get(url(token) + "?lang=zh-hans")["Content-Language"] == "zh-hans"  # ?lang= still wins


def test_a_draft_saved_in_english_reopens_in_english(client, linked):
    invitation, token = linked
    data = {**answers_for(invitation.survey, nps="6"), "lang": "en", "action": "save"}
    client.post(url(token), data)

    assert client.get(url(token))["Content-Language"] == "en"


def test_switching_back_to_chinese_is_remembered_too(client, linked):
    invitation, token = linked
    switch(client, token, answers_for(invitation.survey, nps="4"))
    switch(client, token, answers_for(invitation.survey, nps="5"), to="zh-hans", page_language="en")

    page = client.get(url(token))

    assert page["Content-Language"] == "zh-hans"
    assert f'name="{field(invitation.survey, "nps")}" value="5" checked' in page.content.decode()


def test_bad_values_posted_with_a_switch_are_not_stored_and_do_not_block_it(client, linked):
    invitation, token = linked
    survey = invitation.survey
    data = {**answers_for(survey, nps="11", text="Too slow"), "q_999999": "x"}

    page = switch(client, token, data)

    assert page.status_code == 200
    assert page["Content-Language"] == "en"
    body = page.content.decode()
    assert "Choose a number from 0 to 10." not in body
    assert "does not match the survey" not in body
    assert "Too slow</textarea>" in body
    draft = SurveyResponse.objects.get(invitation=invitation)
    assert draft.answers == {str(survey.questions.get(type="text").pk): "Too slow"}
    assert draft.language == "en"
    # Submitted as they are, the errors show.
    refused = client.post(url(token), {**answers_for(survey, nps="11", text="Too slow"), "lang": "en"})
    assert refused.status_code == 400
    assert "Choose a number from 0 to 10." in refused.content.decode()


def test_an_unknown_language_posted_with_a_switch_keeps_the_page_language(client, linked):
    invitation, token = linked

    page = switch(client, token, answers_for(invitation.survey, nps="8"), to="fr")

    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    assert SurveyResponse.objects.get(invitation=invitation).language == "zh-hans"


def test_a_switch_sets_no_cookie(client, linked):
    invitation, token = linked

    page = switch(client, token, answers_for(invitation.survey, nps="8"))

    assert page.cookies == {}


def test_a_switch_spends_the_request_budget_like_a_page_view(client, linked, settings):
    settings.FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 2}
    invitation, token = linked
    data = answers_for(invitation.survey, nps="8")

    codes = [client.get(url(token)).status_code, switch(client, token, data).status_code]
    codes.append(switch(client, token, data).status_code)

    assert codes == [200, 200, 429]


def test_a_switch_on_a_dead_link_gets_the_same_not_valid_page(client, project, contact, relationship_survey):
    _expired, expired_token = invitation_with_link(
        project=project, contact=contact, created_at=timezone.now() - timedelta(days=40)
    )
    revoked, revoked_token = invitation_with_link(project=project, contact=contact)
    SurveyInvitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    data = answers_for(relationship_survey, nps="8")

    pages = [
        switch(client, token, data)
        for token in ("no-such-token-at-all-000000000000", expired_token, revoked_token)
    ]

    assert {page.status_code for page in pages} == {404}
    assert len({page.content for page in pages}) == 1
    assert not SurveyResponse.objects.exists()


def test_a_switch_on_an_answered_survey_thanks_the_client_and_changes_nothing(client, linked):
    invitation, token = linked
    client.post(url(token), answers_for(invitation.survey, nps="9"))

    page = switch(client, token, answers_for(invitation.survey, nps="1"))

    assert page.status_code == 200
    assert "This survey has already been answered" in page.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).nps == 9


def test_the_thank_you_page_keeps_the_plain_language_links(client, linked):
    invitation, token = linked
    answer = client.post(url(token), answers_for(invitation.survey, nps="9"))

    body = client.get(answer["Location"]).content.decode()

    assert 'href="?lang=en&amp;done=1"' in body  # still the thank-you page in English
    assert 'name="lang_switch"' not in body
