"""A survey link that does not work shows the page every client link shows when it does not
work (`cem.client_pages.link_not_valid`): the same bytes, status and headers whatever the reason,
and whichever kind of link it was, so no page tells anything about a token."""

from datetime import timedelta

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone

from feedback.models import SurveyInvitation
from finance_projects.services import status_link_create
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db

UNKNOWN = "no-such-token-at-all-000000000000"
SAME_HEADERS = ("Content-Type", "Content-Language", "Cache-Control", "Referrer-Policy", "X-Robots-Tag")


def headers(page) -> dict:
    return {name: page.get(name) for name in SAME_HEADERS}


@pytest.fixture
def dead_survey_tokens(project, contact, owner, relationship_survey):
    """A token for each reason a survey link does not work."""
    _expired, expired = invitation_with_link(
        project=project,
        contact=contact,
        survey=relationship_survey,
        created_at=timezone.now() - timedelta(days=40),
    )
    revoked_invitation, revoked = invitation_with_link(
        project=project, contact=contact, survey=relationship_survey
    )
    SurveyInvitation.objects.filter(pk=revoked_invitation.pk).update(revoked_at=timezone.now())
    # A live token of another kind of client link, used as a survey link.
    _status_link, elsewhere = status_link_create(project=project, contact=contact, created_by=owner, days=30)
    return {"unknown": UNKNOWN, "expired": expired, "revoked": revoked, "used elsewhere": elsewhere}


def test_every_dead_survey_link_gets_the_page_of_every_dead_client_link(client, dead_survey_tokens):
    status_page = client.get(f"/p/{UNKNOWN}/")
    complaint_page = client.get(f"/c/{UNKNOWN}/")

    pages = {reason: client.get(f"/s/{token}/") for reason, token in dead_survey_tokens.items()}
    pages["opt-out, unknown"] = client.get(f"/s/{UNKNOWN}/opt-out/")

    assert status_page.content == complaint_page.content
    for reason, page in pages.items():
        assert page.status_code == 404, reason
        assert page.content == status_page.content, reason
        assert headers(page) == headers(status_page), reason


def test_a_submission_to_a_dead_survey_link_gets_the_same_page(
    client, dead_survey_tokens, relationship_survey
):
    status_page = client.get(f"/p/{UNKNOWN}/")
    data = answers_for(relationship_survey, nps="9")

    for reason, token in dead_survey_tokens.items():
        page = client.post(f"/s/{token}/", data)
        assert (page.status_code, page.content) == (404, status_page.content), reason
        assert headers(page) == headers(status_page), reason


@pytest.mark.parametrize(
    ("query", "browser", "language", "heading"),
    [
        ("", "zh-hans", "zh-hans", "此链接无效"),
        ("", "en", "en", "This link is not valid"),
        ("?lang=en", "zh-hans", "en", "This link is not valid"),
        ("?lang=zh-hans", "en", "zh-hans", "此链接无效"),
    ],
)
def test_the_dead_link_page_speaks_the_language_picked_else_the_browsers_as_on_every_client_link(
    client, query, browser, language, heading
):
    survey = client.get(f"/s/{UNKNOWN}/{query}", HTTP_ACCEPT_LANGUAGE=browser)
    status = client.get(f"/p/{UNKNOWN}/{query}", HTTP_ACCEPT_LANGUAGE=browser)

    assert survey["Content-Language"] == status["Content-Language"] == language
    assert heading in survey.content.decode()
    assert survey.content == status.content


def test_every_dead_client_link_sends_no_referrer_and_asks_not_to_be_indexed(client):
    for prefix in ("s", "p", "c"):
        page = client.get(f"/{prefix}/{UNKNOWN}/")
        assert page.status_code == 404, prefix
        assert page["Referrer-Policy"] == "no-referrer", prefix
        assert "noindex" in page["X-Robots-Tag"], prefix


def test_the_survey_app_has_no_dead_link_page_of_its_own():
    with pytest.raises(TemplateDoesNotExist):
        get_template("feedback/link_invalid.html")


def test_a_dead_survey_link_still_spends_the_addresss_request_budget(client, settings):
    settings.FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 2}

    codes = [client.get(f"/s/{UNKNOWN}/").status_code for _ in range(3)]

    assert codes == [404, 404, 429]
