"""The thank-you page after a survey is answered: its language switch keeps the thank-you (a
client who switches right after answering is not told the survey "was answered earlier"), the
other client pages' switches stay plain `?lang=` links, and the promise to get in touch is made
only to a client who asked to be contacted, for at most one query more."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from finance_projects import services as project_services
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db

THANKS_EN, EARLIER_EN = "Thank you for your answers", "This survey has already been answered"
GET_IN_TOUCH = {"en": "will get in touch with you, as you asked", "zh-hans": "按您的要求"}


def url(token):
    return f"/s/{token}/"


def switch_links(body: str) -> dict[str, str]:
    """The language switch's links, by language."""
    nav = re.search(r'<nav class="public-lang".*?</nav>', body, re.S).group(0)
    return {code: html.unescape(href) for href, code in re.findall(r'<a href="([^"]*)" lang="([^"]+)"', nav)}


def answer(client, invitation, token, **answers):
    """Submit the survey as the client does; returns the address of the page it leads to."""
    submitted = client.post(url(token), answers_for(invitation.survey, **answers))
    assert submitted.status_code == 302
    return submitted["Location"]


def test_switching_language_on_the_thank_you_page_still_thanks_the_client(client, linked):
    invitation, token = linked
    thanks = client.get(answer(client, invitation, token, nps="9")).content.decode()
    assert "感谢您的回答" in thanks

    english = switch_links(thanks)["en"]
    page = client.get(url(token) + english)

    assert english == "?lang=en&done=1"
    assert page["Content-Language"] == "en"
    body = page.content.decode()
    assert THANKS_EN in body
    assert EARLIER_EN not in body
    assert switch_links(body) == {"zh-hans": "?lang=zh-hans&done=1"}


def test_a_later_visit_to_an_answered_survey_keeps_plain_language_links(client, linked):
    invitation, token = linked
    answer(client, invitation, token, nps="9")

    body = client.get(url(token) + "?lang=en").content.decode()

    assert EARLIER_EN in body
    assert switch_links(body) == {"zh-hans": "?lang=zh-hans"}


def test_the_status_page_keeps_its_plain_language_links(client, project, contact, owner):
    _link, token = project_services.status_link_create(project=project, contact=contact, created_by=owner)

    body = client.get(f"/p/{token}/").content.decode()

    assert switch_links(body) == {"en": "?lang=en"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_client_who_asked_to_be_contacted_is_told_the_rm_will_get_in_touch(client, linked, language):
    invitation, token = linked
    answer(client, invitation, token, nps="4", choice="yes")

    body = client.get(f"{url(token)}?lang={language}&done=1").content.decode()

    assert GET_IN_TOUCH[language] in body


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_client_who_did_not_ask_is_promised_no_call(client, linked, language):
    invitation, token = linked
    answer(client, invitation, token, nps="4", choice="no")

    body = client.get(f"{url(token)}?lang={language}&done=1").content.decode()

    assert GET_IN_TOUCH[language] not in body
    assert "如您希望我们联系您" not in body
    assert "if you asked us to" not in body


def test_a_survey_without_a_contact_question_promises_no_call(client, project, contact, milestone_survey):
    invitation, token = invitation_with_link(project=project, contact=contact, survey=milestone_survey)
    answer(client, invitation, token, csat="4", ces="4")

    body = client.get(f"{url(token)}?lang=en&done=1").content.decode()

    assert THANKS_EN in body
    assert GET_IN_TOUCH["en"] not in body


def test_the_thank_you_page_takes_at_most_one_query_more_than_the_answered_page(client, linked):
    invitation, token = linked
    answer(client, invitation, token, nps="4", choice="yes")

    with CaptureQueriesContext(connection) as answered:
        client.get(f"{url(token)}?lang=en")
    with CaptureQueriesContext(connection) as thanks:
        page = client.get(f"{url(token)}?lang=en&done=1")

    assert GET_IN_TOUCH["en"] in page.content.decode()
    assert len(thanks) <= len(answered) + 1
