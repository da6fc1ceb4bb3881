"""An alert opened under a minute ago reads "opened just now" ("刚刚产生"), not "opened 0 minutes
ago"; an older one still gives its age."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from dashboard.display import opened_ago
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def alert_line(body: str, alert) -> str:
    start = body.index(f'id="alert-{alert.pk}"')
    return body[start : body.index("</li>", start)].replace("\xa0", " ")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "opened just now"), (59, "opened just now"), (60, "opened 1 minute ago"), (-5, "opened just now")],
)
def test_an_age_under_a_minute_reads_just_now(seconds, expected):
    with translation.override("en"):
        assert opened_ago(NOW - timedelta(seconds=seconds), now=NOW).replace("\xa0", " ") == expected


@pytest.mark.parametrize(
    ("language", "expected", "not_expected"),
    [("en", "opened just now", "0 minutes"), ("zh-hans", "刚刚产生", "0 分钟")],
)
def test_an_alert_opened_seconds_ago_reads_just_now_on_the_home_page(
    browser, owner, project, now, language, expected, not_expected
):
    alert = AlertFactory(project=project, opened_at=now - timedelta(seconds=20))

    line = alert_line(browser(owner).get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode(), alert)

    assert expected in line
    assert not_expected not in line


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "opened 5 minutes ago"), ("zh-hans", "5 分钟前产生")]
)
def test_an_older_alert_still_gives_its_age(browser, owner, project, now, language, expected):
    alert = AlertFactory(project=project, opened_at=now - timedelta(minutes=5, seconds=10))

    line = alert_line(browser(owner).get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode(), alert)

    assert expected in line


def test_an_alert_row_redrawn_after_an_action_reads_just_now(browser, owner, project, now):
    alert = AlertFactory(project=project, opened_at=now - timedelta(seconds=20))
    url = reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"])

    response = browser(owner).post(url, {"next": "/"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")

    assert "opened just now" in alert_line(response.content.decode(), alert)
