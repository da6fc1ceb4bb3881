"""The client status page `/p/<token>/`: no login, one 404 for every bad token."""

import html
import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
import time_machine
from django.utils import timezone

from finance_projects import services
from finance_projects.models import MAX_EXPECTED_DAYS, StageDefinition, Touchpoint
from tests.factories import ClientFactory, CommitmentFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(project, contact, owner):
    _link, token = services.status_link_create(project=project, contact=contact, created_by=owner, days=30)
    return _link, token


def url(token):
    return f"/p/{token}/"


def language_link(body: str, language: str) -> str:
    """Where the page's language switch entry for `language` leads (as the browser resolves it)."""
    found = re.search(rf'<a href="([^"]*)" lang="{language}" hreflang="{language}">', body)
    assert found is not None, f"no link to {language}"
    return html.unescape(found.group(1))


def click_language(client, page_url: str, body: str, language: str):
    return client.get(urljoin(page_url, language_link(body, language)))


def test_the_page_shows_stage_shareable_updates_and_open_commitments(client, link, project):
    _link, token = link
    TouchpointFactory(project=project, summary="Term sheet sent to the borrower", shareable=True)
    TouchpointFactory(project=project, summary="Internal: risk is nervous", shareable=False)
    CommitmentFactory(project=project, title="Credit committee decision")

    response = client.get(url(token))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Term sheet sent to the borrower" in body
    assert "risk is nervous" not in body
    assert "Credit committee decision" in body
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_speaks_the_contacts_language(client, link):
    _link, token = link  # the contact prefers Simplified Chinese

    body = client.get(url(token)).content.decode()

    assert 'lang="zh-hans"' in body


def test_wrong_expired_and_revoked_tokens_get_the_same_404(client, link, project, contact, owner):
    _link, token = link
    revoked, revoked_token = services.status_link_create(project=project, contact=contact, created_by=owner)
    services.status_link_revoke(link=revoked)

    wrong = client.get(url("not-a-real-token"))
    gone = client.get(url(revoked_token))
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        expired = client.get(url(token))

    assert wrong.status_code == gone.status_code == expired.status_code == 404
    assert wrong.content == gone.content == expired.content


def test_a_contact_moved_to_another_client_no_longer_opens_the_old_clients_project(
    client, link, contact, api_as, owner
):
    _link, token = link
    other_client = ClientFactory(relationship_manager=owner, team=owner.team)
    moved = api_as(owner).patch(f"/api/v1/contacts/{contact.pk}/", {"client": other_client.pk}, format="json")
    assert moved.status_code == 200, moved.content  # status links alone are no history

    response = client.get(url(token))

    assert response.status_code == 404
    assert "华能" not in response.content.decode()


def test_raising_a_concern_opens_a_complaint_for_the_team(client, link, project, contact):
    _link, token = link

    response = client.post(url(token), {"description": "Nobody has told us about the rate for three weeks."})

    assert response.status_code == 302
    complaint = project.complaints.get()
    assert complaint.contact == contact
    assert complaint.channel == "status_page"


def test_an_empty_concern_is_refused_next_to_the_field(client, link, project):
    _link, token = link

    response = client.post(url(token), {"description": ""})

    assert response.status_code == 400
    assert 'id="id_description_error"' in response.content.decode()
    assert not project.complaints.exists()
    assert not Touchpoint.objects.filter(project=project).exists()


def test_concerns_are_rate_limited_per_address(client, link, project):
    _link, token = link
    statuses = [
        client.post(url(token), {"description": f"Concern number {i}"}, REMOTE_ADDR="10.0.0.9").status_code
        for i in range(7)
    ]

    assert statuses[:5] == [302] * 5
    assert statuses[5:] == [429, 429]
    assert project.complaints.count() == 5
    assert (
        client.post(url(token), {"description": "From elsewhere"}, REMOTE_ADDR="10.0.0.10").status_code == 302
    )


def test_the_english_link_renders_the_page_in_english(client, link):
    _link, token = link  # the contact prefers Simplified Chinese
    page = client.get(url(token))
    assert "当前进展" in page.content.decode()

    english = click_language(client, url(token), page.content.decode(), "en")

    body = english.content.decode()
    assert english.status_code == 200
    assert english.request["PATH_INFO"] == url(token)
    assert '<html lang="en">' in body
    assert english["Content-Language"] == "en"
    assert "Where we are" in body
    assert "当前进展" not in body


def test_the_chinese_link_renders_the_page_in_chinese(client, link, contact):
    _link, token = link
    contact.language = "en"
    contact.save(update_fields=["language"])
    page = client.get(url(token))
    assert "Where we are" in page.content.decode()

    chinese = click_language(client, url(token), page.content.decode(), "zh-hans")

    body = chinese.content.decode()
    assert '<html lang="zh-hans">' in body
    assert chinese["Content-Language"] == "zh-hans"
    assert "当前进展" in body


def test_the_page_has_no_form_posting_to_the_sites_language_switch(client, link):
    _link, token = link

    body = client.get(url(token)).content.decode()

    # Browsers post with `Origin: null` from this no-referrer page, which set_language refuses.
    assert "/i18n/setlang/" not in body
    assert 'href="?lang=en"' in body


def test_an_unknown_language_falls_back_to_the_contacts(client, link):
    _link, token = link

    # The browser's own language is not the contact's: the page still follows the contact.
    response = client.get(url(token), {"lang": "xx"}, HTTP_ACCEPT_LANGUAGE="en")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert "当前进展" in body
    assert response["Content-Language"] == "zh-hans"
    assert 'lang="xx"' not in body


def test_a_refused_concern_in_english_re_renders_in_english(client, link, project):
    _link, token = link
    english = client.get(url(token), {"lang": "en"}).content.decode()
    assert '<input type="hidden" name="lang" value="en">' in english

    refused = client.post(url(token), {"description": "", "lang": "en"})

    body = refused.content.decode()
    assert refused.status_code == 400
    assert '<html lang="en">' in body
    assert refused["Content-Language"] == "en"
    assert "This field is required." in body
    assert '<input type="hidden" name="lang" value="en">' in body  # and the next try keeps it
    assert 'href="?lang=zh-hans"' in body
    assert not project.complaints.exists()


def test_a_concern_sent_in_english_thanks_the_client_in_english(client, link, project):
    _link, token = link

    sent = client.post(url(token), {"description": "Nobody has told us about the rate.", "lang": "en"})

    assert sent.status_code == 302
    thanks = client.get(sent["Location"])
    body = thanks.content.decode()
    assert '<html lang="en">' in body
    assert "Thank you. Your relationship manager has your message" in body
    assert project.complaints.count() == 1


def closed_stage(body: str) -> str:
    """The closed stage's entry on the stage path."""
    items = re.findall(r"<li class=\"[a-z]+\">.*?</li>", body.split('class="client-path"', 1)[1], re.S)
    return items[-1]


def test_the_closed_stage_shows_no_expected_duration(client, link):
    _link, token = link

    body = client.get(url(token), {"lang": "en"}).content.decode()

    assert "Closed" in closed_stage(body)
    assert "usually about" not in closed_stage(body)
    assert "3650" not in body
    assert "usually about" in body  # the stages before it still say how long they take


def test_the_closed_stage_shows_no_expected_duration_in_chinese_either(client, link):
    _link, token = link

    body = client.get(url(token)).content.decode()

    assert "已结清" in closed_stage(body)
    assert "通常约需" not in closed_stage(body)
    assert "3650" not in body


def test_a_stage_expected_to_take_the_ten_year_ceiling_shows_no_duration(client, link):
    _link, token = link
    StageDefinition.objects.filter(stage="monitoring").update(expected_days=MAX_EXPECTED_DAYS)

    body = client.get(url(token), {"lang": "en"}).content.decode()

    assert str(MAX_EXPECTED_DAYS) not in body
    assert "usually about" in body


def test_the_concern_label_in_chinese_ends_with_its_question_mark_alone(client, link):
    _link, token = link

    body = client.get(url(token) + "?lang=zh-hans").content.decode()

    assert '<label for="id_description">您担心什么？</label>' in body


def test_a_concern_sent_twice_by_a_double_click_ends_on_the_thank_you_both_times(client, link, project):
    _link, token = link
    words = {"description": "Nobody has told us about the rate for three weeks."}

    first, second = (client.post(url(token), words, REMOTE_ADDR="10.0.0.20") for _ in range(2))

    assert (first.status_code, second.status_code) == (302, 302)
    assert "sent=1" in second["Location"]
    assert project.complaints.count() == 1
