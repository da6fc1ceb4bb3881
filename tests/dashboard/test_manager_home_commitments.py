"""The home page's commitment lists read the projects its portfolio table shows: a manager's
table is the team's, so are the commitments listed beside it, and the headings say so; an RM's
are their own portfolio's, their clients' projects a teammate manages included."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import CommitmentFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# Wednesday 2025-03-12 10:00 in Shanghai: the week runs from Monday 10th to Monday 17th.
NOW = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def section(body: str, marker: str) -> str:
    start = body.find(marker)
    return body[start : body.find("</section>", start)] if start >= 0 else ""


def week_section(body: str) -> str:
    return section(body, 'aria-labelledby="week-title"')


def overdue_section(body: str) -> str:
    return section(body, 'id="overdue-commitments"')


def portfolio_section(body: str) -> str:
    return section(body, 'aria-labelledby="portfolio-title"')


def test_a_managers_home_lists_the_team_commitments_its_portfolio_shows(
    browser, manager, owner, project, foreign_commitment, now
):
    CommitmentFactory(project=project, title="Send the term sheet", due_at=now + timedelta(days=2))

    body = browser(manager).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Send the term sheet" in portfolio_section(body)
    week = week_section(body)
    assert "Team commitments due this week" in week
    assert '<span class="count">1</span>' in week
    assert "Send the term sheet" in week
    assert foreign_commitment.title not in body
    assert "Team portfolio" in portfolio_section(body)


def test_a_managers_home_lists_the_teams_overdue_commitments(browser, manager, project, now):
    CommitmentFactory(project=project, title="Last month's memo", due_at=now - timedelta(days=30))

    overdue = overdue_section(browser(manager).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())

    assert "Overdue team commitments" in overdue
    assert "Last month&#x27;s memo" in overdue


def test_a_managers_home_says_in_chinese_the_commitments_are_the_teams(browser, manager, project, now):
    CommitmentFactory(project=project, title="Send the term sheet", due_at=now + timedelta(days=2))

    body = browser(manager).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "团队本周到期的承诺" in week_section(body)
    assert "团队项目" in portfolio_section(body)
    assert "本周没有到期的承诺" not in body


def test_a_manager_with_nothing_due_is_told_the_team_has_nothing_due(browser, manager, project, now):
    body = browser(manager).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "No promises of the team fall due this week." in week_section(body)


def test_an_rms_home_lists_commitments_on_their_clients_projects_a_teammate_manages(
    browser, owner, teammate, client_org, now
):
    shared = ProjectFactory(client=client_org, relationship_manager=teammate)
    CommitmentFactory(
        project=shared, owner=teammate, title="Teammate's rate lock", due_at=now + timedelta(days=1)
    )

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Teammate&#x27;s rate lock" in portfolio_section(body)
    week = week_section(body)
    assert "Teammate&#x27;s rate lock" in week
    assert "Commitments due this week" in week
    assert "Team commitments" not in body
    assert "My portfolio" in portfolio_section(body)


@pytest.fixture
def foreign_commitment(outsider, now):
    foreign = ProjectFactory(client__relationship_manager=outsider, client__team=outsider.team)
    return CommitmentFactory(project=foreign, title="Another team's promise", due_at=now + timedelta(days=1))
