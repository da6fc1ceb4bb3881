"""What the project page says of its events: a re-dated commitment names its earlier date as the
date it was due (with the reason it moved), and a touchpoint names the contact it was with."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from finance_projects import services
from tests.factories import (
    CommitmentFactory,
    ContactFactory,
    InvitationFactory,
    SurveyResponseFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

# 2026-12-01 10:00 in Shanghai.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def project_page(browser, user, project, language: str) -> str:
    url = reverse("dashboard:project", args=[project.pk])
    response = browser(user).get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def open_commitment(body: str, title: str) -> str:
    start = body.index(f"<strong>{title}</strong>")
    return body[start : body.index("</li>", start)]


def timeline_titles(body: str) -> list[str]:
    return re.findall(r'<span class="tl-kind">([^<]*)</span>', body)


@pytest.fixture
def redated(owner, project, now):
    first = CommitmentFactory(
        project=project, title="Send the credit memo", due_at=datetime(2026, 12, 11, 2, 0, tzinfo=UTC)
    )
    services.commitment_renegotiate(
        commitment=first, new_due_at=now + timedelta(days=20), reason="Waiting for the audit", by=owner
    )
    return first


@pytest.mark.parametrize(
    ("language", "label"),
    [
        ("en", "was due 2026-12-11 (Waiting for the audit)"),
        ("zh-hans", "原定 2026-12-11 到期 (Waiting for the audit)"),
    ],
)
def test_a_redated_commitment_labels_its_earlier_date_as_the_date_it_was_due(
    browser, owner, project, redated, language, label
):
    item = open_commitment(project_page(browser, owner, project, language), "Send the credit memo")

    assert label in item
    assert "<s>" not in item


def test_a_commitment_redated_twice_labels_each_earlier_date(browser, owner, project, redated, now):
    successor = project.commitments.get(status="open")
    services.commitment_renegotiate(
        commitment=successor, new_due_at=now + timedelta(days=40), reason="Board moved", by=owner
    )

    item = open_commitment(project_page(browser, owner, project, "en"), "Send the credit memo")

    assert item.index("was due 2026-12-11 (Waiting for the audit)") < item.index(
        "was due 2026-12-21 (Board moved)"
    )


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Call with Li Wei"), ("zh-hans", "电话（联系人：Li Wei）")]
)
def test_a_touchpoint_names_the_contact_it_was_with(browser, owner, project, language, title):
    contact = ContactFactory(client=project.client, name="Li Wei")
    TouchpointFactory(project=project, contact=contact, channel="call")

    assert timeline_titles(project_page(browser, owner, project, language)) == [title]


def test_a_touchpoint_with_no_contact_shows_its_channel_alone(browser, owner, project):
    TouchpointFactory(project=project, contact=None, channel="meeting")

    assert timeline_titles(project_page(browser, owner, project, "en")) == ["Meeting"]


def test_a_contacts_name_is_escaped_on_the_timeline(browser, owner, project):
    contact = ContactFactory(client=project.client, name="<b>Li</b>")
    TouchpointFactory(project=project, contact=contact, channel="call")

    body = project_page(browser, owner, project, "en")

    assert "Call with &lt;b&gt;Li&lt;/b&gt;" in body
    assert "<b>Li</b>" not in body


@pytest.mark.parametrize(
    ("language", "late", "on_time"),
    [
        ("en", "Kept late: Send the term sheet", "Kept: Send the rate"),
        ("zh-hans", "逾期兑现：Send the term sheet", "已兑现：Send the rate"),
    ],
)
def test_a_commitment_kept_after_its_due_time_reads_as_kept_late(
    browser, owner, project, now, language, late, on_time
):
    slipped = CommitmentFactory(project=project, title="Send the term sheet", due_at=now - timedelta(days=2))
    kept = CommitmentFactory(project=project, title="Send the rate", due_at=now + timedelta(days=2))
    for commitment in (slipped, kept):
        services.commitment_fulfil(commitment=commitment, by=owner, at=now)

    titles = timeline_titles(project_page(browser, owner, project, language))

    assert late in titles and on_time in titles


def timeline_item(body: str, title: str) -> str:
    start = body.index(f'<span class="tl-kind">{title}</span>')
    return body[start : body.index("</li>", start)]


@pytest.fixture
def emailed_surveys(project, now):
    """Four surveys e-mailed to the project's contacts, one per state of the link, and one the
    delivery task has not e-mailed yet."""

    def emailed(name, days_ago, **fields):
        contact = ContactFactory(client=project.client, name=name)
        sent = now - timedelta(days=days_ago)
        expires = sent + timedelta(days=30)
        return InvitationFactory(
            project=project, contact=contact, created_at=sent, sent_at=sent, expires_at=expires, **fields
        )

    emailed("Open Wang", 5, opened_at=now - timedelta(days=4), reminders_sent=1)
    emailed("Expired Zhao", 40)
    emailed("Withdrawn Qian", 10, revoked_at=now - timedelta(days=2))
    SurveyResponseFactory(invitation=emailed("Answered Sun", 20, responded_at=now - timedelta(days=19)))
    queued = ContactFactory(client=project.client, name="Queued Li")
    InvitationFactory(project=project, contact=queued, sent_at=None)


@pytest.mark.parametrize(
    ("language", "sent", "states"),
    [
        (
            "en",
            "Relationship survey e-mailed to %s",
            {
                "Open Wang": "Not answered yet: the link works until 2026-12-26. Opened on 2026-11-27. "
                "1 reminder sent.",
                "Expired Zhao": "Not answered: the link expired on 2026-11-21.",
                "Withdrawn Qian": "Withdrawn on 2026-11-29: the link no longer works.",
                "Answered Sun": "Answered on 2026-11-12.",
            },
        ),
        (
            "zh-hans",
            "客户关系调查已通过邮件发给%s",
            {
                "Open Wang": "尚未回答：链接有效期至 2026-12-26。已于 2026-11-27 打开。已发送 1 次提醒。",
                "Expired Zhao": "未回答：链接已于 2026-11-21 过期。",
                "Withdrawn Qian": "已于 2026-11-29 撤回：链接已失效。",
                "Answered Sun": "已于 2026-11-12 回答。",
            },
        ),
    ],
)
def test_a_survey_emailed_to_a_contact_shows_on_the_timeline_with_where_its_link_stands(
    browser, owner, project, emailed_surveys, language, sent, states
):
    body = project_page(browser, owner, project, language)

    for name, state in states.items():
        assert state in timeline_item(body, sent % name)
    assert not [title for title in timeline_titles(body) if "Queued Li" in title]  # not e-mailed yet


def test_the_survey_emailed_comes_before_its_answer_on_the_timeline(browser, owner, project, emailed_surveys):
    titles = timeline_titles(project_page(browser, owner, project, "en"))

    assert titles.index("Survey answered by Answered Sun") < titles.index(
        "Relationship survey e-mailed to Answered Sun"
    )  # newest first
