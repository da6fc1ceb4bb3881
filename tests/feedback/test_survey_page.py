"""The public survey page: no login, one identical answer for dead links, answers stored once."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import SurveyInvitation, SurveyResponse
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for
from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db


def url(token):
    return f"/s/{token}/"


def test_the_page_says_who_asks_and_why_in_the_contacts_language(client, linked, owner):
    owner.first_name, owner.last_name = "Wang", "Fang"
    owner.save()
    invitation, token = linked
    page = client.get(url(token))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Wang Fang" in body
    assert invitation.project.name in body
    assert "客户关系调查" in body
    assert page["Content-Language"] == "zh-hans"
    assert page["Referrer-Policy"] == "no-referrer"


def test_the_language_can_be_switched_on_the_page(client, linked):
    _invitation, token = linked
    page = client.get(url(token) + "?lang=en")
    assert "Relationship survey" in page.content.decode()
    assert page["Content-Language"] == "en"


def test_a_get_never_consumes_the_link(client, linked):
    invitation, token = linked
    client.get(url(token))
    client.get(url(token))
    invitation.refresh_from_db()
    assert invitation.responded_at is None
    assert invitation.opened_at is not None
    assert client.get(url(token)).status_code == 200


def test_unknown_expired_and_revoked_links_get_the_same_page(client, project, contact, relationship_survey):
    _expired, expired_token = invitation_with_link(
        project=project, contact=contact, created_at=timezone.now() - timedelta(days=40)
    )
    revoked, revoked_token = invitation_with_link(project=project, contact=contact)
    SurveyInvitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    pages = [
        client.get(url(token))
        for token in ("no-such-token-at-all-000000000000", expired_token, revoked_token)
    ]
    assert {page.status_code for page in pages} == {404}
    assert len({page.content for page in pages}) == 1
    assert pages[0]["Referrer-Policy"] == "no-referrer"


def test_submitting_stores_the_scores_once_and_thanks_the_client(client, linked):
    invitation, token = linked
    data = answers_for(invitation.survey, nps="9", text="客户经理很专业")
    answer = client.post(url(token), data)
    assert answer.status_code == 302
    thanks = client.get(answer["Location"])
    assert "感谢您的回答" in thanks.content.decode()
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.nps, response.comment, response.is_detractor) == (9, "客户经理很专业", False)
    again = client.post(url(token), answers_for(invitation.survey, nps="0"))
    assert again.status_code == 200
    assert "已经回答" in again.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).nps == 9


def test_an_out_of_range_score_is_refused_in_the_contacts_language(client, linked):
    invitation, token = linked
    page = client.post(url(token), answers_for(invitation.survey, nps="11"))
    assert page.status_code == 400
    assert "请选择 0 到 10 之间的数字" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_missing_required_answer_is_named_and_nothing_is_stored(client, linked):
    invitation, token = linked
    page = client.post(url(token) + "?lang=en", answers_for(invitation.survey, text="fine"))
    assert page.status_code == 400
    assert "Please answer this question." in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_tampered_form_with_an_unknown_question_is_refused(client, linked):
    invitation, token = linked
    data = {**answers_for(invitation.survey, nps="8"), "q_999999": "x"}
    page = client.post(url(token), data)
    assert page.status_code == 400
    assert "与调查不符" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_phone_that_blocks_cookies_can_still_submit(linked):
    invitation, token = linked
    no_cookies = Client(enforce_csrf_checks=True)  # sends no cookie, and Django checks CSRF

    form = no_cookies.get(url(token))
    answer = no_cookies.post(url(token), answers_for(invitation.survey, nps="8"))

    assert form.cookies == {}  # the page sets none to begin with
    assert answer.status_code == 302
    assert SurveyResponse.objects.get().nps == 8


def test_partial_answers_are_saved_and_shown_again(client, linked):
    invitation, token = linked
    data = {**answers_for(invitation.survey, nps="7"), "action": "save"}
    saved = client.post(url(token), data)
    assert saved.status_code == 200
    draft = SurveyResponse.objects.get(invitation=invitation)
    assert draft.submitted_at is None
    invitation.refresh_from_db()
    assert invitation.responded_at is None
    page = client.get(url(token)).content.decode()
    nps_field = f"q_{invitation.survey.questions.get(type='nps').pk}"
    assert f'name="{nps_field}" value="7" checked' in page


def test_too_many_requests_from_one_address_are_slowed_down(client, linked, settings):
    settings.FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 3}
    _invitation, token = linked
    codes = [client.get(url(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_stored_submissions_spend_no_request_budget_but_views_and_failures_do(
    client, project, contact, relationship_survey, settings
):
    settings.FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 2}
    links = [invitation_with_link(project=project, contact=contact) for _ in range(4)]
    answers = answers_for(relationship_survey, nps="9")

    stored = [client.post(url(token), answers).status_code for _invitation, token in links]
    thanks_pages = [client.get(url(links[0][1]) + "?done=1").status_code for _ in range(3)]
    unknown = client.post(url("no-such-token-at-all-000000000000"), answers)

    assert stored == [302, 302, 302, 302]
    assert SurveyResponse.objects.filter(submitted_at__isnull=False).count() == 4
    assert thanks_pages == [200, 200, 429]
    assert unknown.status_code == 429


def test_the_opt_out_link_asks_first_then_stops_surveys(client, linked):
    invitation, token = linked
    confirm = client.get(url(token) + "opt-out/")
    assert confirm.status_code == 200
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out is False
    done = client.post(url(token) + "opt-out/")
    assert done.status_code == 200
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out is True
    assert done["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("dead", ["revoked", "expired"])
def test_the_opt_out_link_of_a_revoked_or_expired_invitation_still_unsubscribes(client, linked, dead):
    invitation, token = linked
    if dead == "revoked":
        services.invitation_revoke(invitation=invitation)
    else:
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )

    assert client.post(url(token) + "opt-out/").status_code == 200
    invitation.contact.refresh_from_db()
    assert invitation.contact.opted_out is True
    assert client.get(url(token)).status_code == 404  # the survey itself stays closed


def test_a_saved_draft_is_completed_by_the_submission(client, linked):
    invitation, token = linked
    client.post(url(token), {**answers_for(invitation.survey, nps="7"), "action": "save"})
    draft = SurveyResponse.objects.get(invitation=invitation)
    client.post(url(token), answers_for(invitation.survey, nps="8", text="Clear and quick."))
    final = SurveyResponse.objects.get(invitation=invitation)
    assert final.pk == draft.pk
    assert (final.nps, final.comment, final.submitted_at is not None) == (8, "Clear and quick.", True)


def test_a_score_written_in_non_ascii_digits_is_refused_not_a_server_error(client, linked):
    invitation, token = linked
    page = client.post(url(token), answers_for(invitation.survey, nps="²"))
    assert page.status_code == 400
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("field", ["score", "question id"])
def test_a_number_thousands_of_digits_long_is_refused_not_a_server_error(client, linked, field):
    invitation, token = linked
    answers = answers_for(invitation.survey, nps="9" * 5000 if field == "score" else "9")
    if field == "question id":
        answers["q_" + "1" * 5000] = "9"
    # Urlencoded, as a browser posts this form (a multipart parser refuses such a field name first).
    page = client.post(url(token), urlencode(answers), content_type="application/x-www-form-urlencoded")
    assert page.status_code == 400
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("action", ["submit", "save"])
def test_a_nul_character_in_a_free_text_answer_is_refused_in_the_contacts_language(client, linked, action):
    invitation, token = linked
    data = {**answers_for(invitation.survey, nps="4", text="bad\x00comment"), "action": action}
    page = client.post(url(token), data)
    assert page.status_code == 400
    assert "您的回答中含有无法保存的字符" in page.content.decode()
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_a_nul_character_anywhere_else_on_the_page_is_refused_not_a_server_error(client, linked):
    invitation, token = linked
    answers = answers_for(invitation.survey, nps="4")
    assert client.get(f"/s/{token}%00/").status_code == 404
    assert client.post(f"/s/{token}%00/", answers).status_code == 404
    assert client.post(f"/s/{token}%00/opt-out/").status_code == 404
    assert client.get(url(token), {"lang": "en\x00"}).status_code == 200
    assert client.post(url(token), {**answers, "q_\x00": "x"}).status_code == 400
    assert client.post(url(token), {**answers, "lang": "\x00", "action": "save\x00"}).status_code == 302
    assert SurveyResponse.objects.get().nps == 4


def test_an_address_over_its_budget_is_refused_before_its_submissions_reach_the_database(
    client, project, contact, relationship_survey, settings, django_assert_num_queries
):
    settings.FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 1}
    _invitation, token = invitation_with_link(project=project, contact=contact)
    answers = answers_for(relationship_survey, nps="9")
    assert client.get(url(token)).status_code == 200
    assert client.get(url(token)).status_code == 429  # now known to be over

    with django_assert_num_queries(0):
        refused = client.post(url("no-such-token-at-all-000000000000"), answers)

    assert refused.status_code == 429


def test_a_survey_question_left_unanswered_is_described_by_its_error(client, linked):
    invitation, token = linked
    answers = answers_for(invitation.survey, text="Slow answers")

    response = client.post(url(token), answers)

    page = assert_ids_sound(response.content.decode())
    nps = invitation.survey.questions.get(type="nps")
    assert page.described_by == [f"q_{nps.pk}-error"]
