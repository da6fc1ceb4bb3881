"""The home page's commitments: an overdue one says so in words, and one missed before this week
is still listed (oldest first) until it is dealt with."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from finance_projects.models import CommitmentStatus
from tests.factories import AlertFactory, CommitmentFactory, ProjectFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

# Wednesday 2025-03-12 10:00 in Shanghai; the week began on Monday 2025-03-10 00:00 there.
NOW = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def overdue_section(body: str) -> str:
    start = body.find('id="overdue-commitments"')
    return body[start : body.find("</section>", start)] if start >= 0 else ""


def week_section(body: str) -> str:
    start = body.find('aria-labelledby="week-title"')
    return body[start : body.find("</section>", start)]


def test_a_commitment_past_due_this_week_is_labelled_overdue_in_words(browser, owner, project, now):
    CommitmentFactory(project=project, title="Yesterday's promise", due_at=now - timedelta(days=1))
    CommitmentFactory(project=project, title="Friday's promise", due_at=now + timedelta(days=2))

    week = week_section(browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())

    assert week.count('<span class="badge late">Overdue</span>') == 1
    late = week[week.find('data-state="overdue"') :]
    assert "Yesterday&#x27;s promise" in late[: late.find("</li>")]
    assert "was due" in late[: late.find("</li>")]


def test_commitments_missed_before_this_week_are_listed_oldest_first(browser, owner, project, now):
    CommitmentFactory(project=project, title="Last week", due_at=now - timedelta(days=5))
    CommitmentFactory(project=project, title="Last month", due_at=now - timedelta(days=30))
    CommitmentFactory(
        project=project,
        title="Kept long ago",
        due_at=now - timedelta(days=9),
        status=CommitmentStatus.CANCELLED,
    )

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    overdue = overdue_section(body)

    assert "Overdue commitments" in overdue
    assert overdue.index("Last month") < overdue.index("Last week")
    assert overdue.count('<span class="badge late">Overdue</span>') == 2
    assert "Kept long ago" not in body
    assert "Last week" not in week_section(body)


@pytest.mark.parametrize(("overdue", "count"), [(2, "2"), (3, "2+")])
def test_the_overdue_count_says_there_are_more_only_when_the_list_is_cut(
    browser, owner, project, now, monkeypatch, overdue, count
):
    monkeypatch.setattr("dashboard.selectors.COMMITMENT_LIST_LIMIT", 2)
    for days in range(5, 5 + overdue):
        CommitmentFactory(project=project, due_at=now - timedelta(days=days))

    section = overdue_section(browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())

    assert f'<span class="count">{count}</span>' in section
    assert section.count('data-state="overdue"') == 2


def test_the_boundary_is_monday_midnight_in_the_users_zone(browser, owner, project, now):
    # A New Yorker's week (Tuesday 2025-03-11 22:00 there) runs from Monday 2025-03-10 00:00 to
    # Monday 2025-03-17 00:00 New York time: 12 hours later than the site's (Shanghai) week.
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    # Sunday 23:30 in New York, last week there, is already Monday 11:30 (this week) in Shanghai.
    CommitmentFactory(
        project=project, title="Sunday night", due_at=datetime(2025, 3, 9, 23, 30, tzinfo=NEW_YORK)
    )
    CommitmentFactory(
        project=project, title="Monday early", due_at=datetime(2025, 3, 10, 0, 30, tzinfo=NEW_YORK)
    )
    # Sunday 20:00 in New York, still this week there, is already next Monday 08:00 in Shanghai.
    CommitmentFactory(
        project=project, title="Sunday evening", due_at=datetime(2025, 3, 16, 20, 0, tzinfo=NEW_YORK)
    )

    body = browser(owner).get("/").content.decode()

    assert "Sunday night" in overdue_section(body)
    assert "Sunday night" not in week_section(body)
    assert "Monday early" in week_section(body)
    assert "Sunday evening" in week_section(body)


def test_no_overdue_section_without_overdue_commitments(browser, owner, project, now):
    CommitmentFactory(project=project, title="Friday's promise", due_at=now + timedelta(days=2))

    assert overdue_section(browser(owner).get("/").content.decode()) == ""


def test_overdue_labels_are_in_chinese_for_a_chinese_reader(browser, owner, project, now):
    CommitmentFactory(project=project, title="Last month", due_at=now - timedelta(days=30))

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "已逾期承诺" in body
    assert '<span class="badge late">已逾期</span>' in body


@pytest.mark.parametrize("size", [2, 20])
def test_home_queries_stay_pinned_with_overdue_commitments(
    browser, owner, project, size, now, django_assert_max_num_queries
):
    for i in range(size):
        other = ProjectFactory(client=project.client)
        AlertFactory(project=other, severity="critical" if i % 2 else "warning")
        CommitmentFactory(project=other, due_at=now - timedelta(days=10 + i))
        CommitmentFactory(project=other, due_at=now + timedelta(hours=i + 1))
        TouchpointFactory(project=other)
    page = browser(owner)

    with django_assert_max_num_queries(19):
        assert page.get("/").status_code == 200
