"""Escalated alerts on the team page: marked with when they were escalated, and listed alone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

# Monday 10:00 in Shanghai (the site's zone) but still Sunday 2025-03-09 22:00 in New York.
ESCALATED_AT = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def escalated(project):
    return AlertFactory(
        project=project, severity="critical", message="Escalated one", escalated_at=ESCALATED_AT
    )


@pytest.fixture
def new_yorker(manager):
    manager.time_zone = "America/New_York"
    manager.save(update_fields=["time_zone"])
    return manager


@pytest.fixture
def plain(project):
    return AlertFactory(project=project, severity="critical", message="Not escalated")


def test_an_escalated_alert_is_marked_on_the_team_page_with_the_time_in_the_users_zone(
    browser, new_yorker, escalated, plain
):
    body = browser(new_yorker).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert body.count('data-state="escalated"') == 1
    assert '<time datetime="2025-03-09T22:00:00-04:00">Escalated 2025-03-09 22:00</time>' in body


def test_the_escalated_badge_is_in_chinese_for_a_chinese_reader(browser, new_yorker, escalated):
    body = browser(new_yorker).get("/team/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "已于 2025-03-09 22:00 升级" in body


def test_the_team_page_lists_only_the_escalated_alerts_when_asked(browser, manager, escalated, plain):
    page = browser(manager)
    body = page.get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'href="?alerts=escalated#alerts"' in body
    assert "1 escalated" in body

    only = page.get("/team/", {"alerts": "escalated"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Escalated team alerts" in only
    assert "Escalated one" in only
    assert "Not escalated" not in only
    assert 'id="alerts-count">1<' in only
    assert 'href="?#alerts"' in only  # back to every open alert


def test_the_escalated_list_keeps_snoozed_ones_and_drops_resolved_ones(browser, manager, project):
    AlertFactory(
        project=project,
        message="Snoozed but escalated",
        escalated_at=ESCALATED_AT,
        snoozed_until=timezone.now() + timedelta(hours=3),
    )
    AlertFactory(project=project, message="Resolved", escalated_at=ESCALATED_AT, resolved_at=timezone.now())

    body = browser(manager).get("/team/", {"alerts": "escalated"}).content.decode()

    assert "Snoozed but escalated" in body
    assert "Resolved" not in body


def test_the_filter_keeps_the_rest_of_the_page_query(browser, manager, escalated):
    body = browser(manager).get("/team/", {"days": "90"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'href="?days=90&amp;alerts=escalated#alerts"' in body


def test_an_rm_cannot_ask_the_home_page_for_the_escalated_list(browser, owner, escalated, plain):
    body = browser(owner).get("/", {"alerts": "escalated"}).content.decode()

    assert "Not escalated" in body  # the open alerts, as without the parameter
