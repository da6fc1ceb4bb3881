"""The team page's period and response rate: whole days in the user's time zone, the days its
label names, counted as `/api/v1/metrics/` counts them for the same dates; the response-rate card
by the rule of its client-feedback table (`survey_metrics`), the KPI exports over the same days,
and the relationship managers' links keeping the period."""

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dashboard import kpis
from feedback import services as feedback_services
from feedback.selectors import survey_metrics
from finance_projects.models import FinancingProject
from tests.factories import (
    CommitmentFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TouchpointFactory,
    invitation_with_link,
)
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # Monday 30 November, 12:00 in Shanghai


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(tz, *args) -> datetime:
    return datetime(*args, tzinfo=tz)


def sent(project, at, **kwargs):
    """An invitation e-mailed at `at`, not answered."""
    return InvitationFactory(project=project, created_at=at, sent_at=at, **kwargs)


def sent_and_answered(project, at, *, answered=None, nps=9):
    answered = answered or at
    invitation = sent(project, at, responded_at=answered)
    return SurveyResponseFactory(invitation=invitation, submitted_at=answered, nps=nps)


def answered_from_link_before_delivery(project, at, *, nps=9):
    """Created (as through the API) and answered from its link before any e-mail went out: it is
    never e-mailed afterwards, so its `sent_at` stays empty."""
    invitation, _token = invitation_with_link(project=project, created_at=at, sent_at=None)
    raw = answers_for(invitation.survey, nps=str(nps))
    return feedback_services.response_submit(invitation=invitation, raw=raw, at=at)


def card(body: str, key: str) -> str:
    found = re.search(rf'data-kpi="{key}">.*?<div class="kpi">(.*?)</div>', body, re.S)
    assert found, f"no {key} card"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def period_label(body: str) -> str:
    return re.search(r"(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d), compared with the period before", body).group(1)


def feedback_cells(body: str, group) -> tuple[str, str]:
    table = re.search(r'<table class="feedback" data-group-by="rm".*?</table>', body, re.S).group(0)
    row = re.search(rf'<tr data-group="{group}">(.*?)</tr>', table, re.S).group(1)
    cells = dict(re.findall(r'data-metric="([\w-]+)"[^>]*>([^<]*)</td>', row))
    return cells["response-rate"], cells["responded"]


def api_rate(api_as, user, start: str, end: str) -> tuple[float, int, int]:
    response = api_as(user).get("/api/v1/metrics/", {"start": start, "end": end})
    assert response.status_code == 200
    [row] = response.json()["results"]
    return row["response_rate"], row["responded"], row["invited"]


# --- 1. The response-rate card counts invitations as the feedback table and the API do ------


def test_the_response_rate_card_counts_a_link_answered_invitation_as_the_table_and_the_api(
    frozen, browser, api_as, manager, owner, project
):
    day = NOW - timedelta(days=3)
    for hours in range(5):
        sent_and_answered(project, day + timedelta(hours=hours))
    sent(project, day)
    answered_from_link_before_delivery(project, day + timedelta(hours=6))

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert card(body, "response_rate") == "85.7%"  # 6 / 7, not 5 / 6
    assert feedback_cells(body, owner.pk) == ("85.7%", "6/7")
    assert api_rate(api_as, manager, "2026-10-31", "2026-11-30") == (85.7, 6, 7)


def test_every_kpi_read_counts_invitations_as_survey_metrics(frozen, owner, teammate, project):
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)
    for hours in range(3):
        sent_and_answered(project, local(SHANGHAI, 2026, 11, 20, 9 + hours))
    sent(project, local(SHANGHAI, 2026, 11, 21, 9))
    answered_from_link_before_delivery(project, local(SHANGHAI, 2026, 11, 25, 9))
    answered_from_link_before_delivery(theirs, local(SHANGHAI, 2026, 11, 2, 0, 30))  # a Monday
    answered_from_link_before_delivery(theirs, local(SHANGHAI, 2026, 10, 20, 9))  # the period before
    sent_and_answered(theirs, local(SHANGHAI, 2026, 10, 30, 23), answered=local(SHANGHAI, 2026, 11, 3, 8))
    InvitationFactory(project=theirs, sent_at=None)  # neither e-mailed nor answered: not invited
    projects = FinancingProject.objects.all()
    previous_start, start, end = (local(SHANGHAI, 2026, *day) for day in ((10, 2), (11, 1), (12, 1)))

    def expected(**period) -> dict:
        rows = survey_metrics(projects=projects, tz=SHANGHAI, **period)
        return {row["group"]: (row["response_rate"], row["invited"]) for row in rows}

    def measured(values: dict) -> tuple:
        return values["response_rate"], values["invitations_sent"]

    with timezone.override(SHANGHAI):
        report = kpis.team_report(
            projects=projects, previous_start=previous_start, start=start, end=end, weeks=8
        )
        current = kpis.team_kpis(projects=projects, start=start, end=end)
        by_rm = kpis.kpis_by_rm(projects=projects, start=start, end=end)

    assert {"all": measured(report.current)} == {"all": measured(current)} == expected(start=start, end=end)
    assert measured(report.current) == (83.3, 6)  # the link-answered ones counted: 5 of 6
    assert {"all": measured(report.previous)} == expected(start=previous_start, end=start)
    assert {rm: measured(v) for rm, v in report.by_rm.items() if v["invitations_sent"]} == expected(
        group_by="rm", start=start, end=end
    )
    assert {rm: measured(v) for rm, v in by_rm.items() if v["invitations_sent"]} == expected(
        group_by="rm", start=start, end=end
    )
    first = datetime.combine(report.trend[0]["week"], time.min, tzinfo=SHANGHAI)
    stop = datetime.combine(report.trend[-1]["week"], time.min, tzinfo=SHANGHAI) + timedelta(weeks=1)
    weeks = {week["week"].isoformat(): measured(week) for week in report.trend if week["invitations_sent"]}
    assert weeks == expected(group_by="week", start=first, end=stop)


# --- 2. Whole days in the user's zone: the label, the figures, the API and the exports agree --


@pytest.fixture
def last_thirty_days(frozen, project):
    """The last 30 days, today included, are 1 to 30 November (Shanghai). In them: an invitation
    answered, one e-mailed in the first minutes of the 1st and not answered. Before them, on 31
    October: one e-mailed at 10:25 and one at 15:00, and a promise missed at 18:00, the last two
    after the moment 30 × 24 hours ago (12:00), which is no day's start."""
    sent_and_answered(project, local(SHANGHAI, 2026, 11, 20, 15))
    sent(project, local(SHANGHAI, 2026, 11, 1, 0, 10))
    sent(project, local(SHANGHAI, 2026, 10, 31, 10, 25))
    sent(project, local(SHANGHAI, 2026, 10, 31, 15))
    CommitmentFactory(project=project, due_at=local(SHANGHAI, 2026, 10, 31, 18))
    CommitmentFactory(project=project, due_at=local(SHANGHAI, 2026, 11, 1, 9))
    return project


def test_the_period_is_the_whole_days_its_label_names_as_the_api_reads_them(
    browser, api_as, manager, owner, last_thirty_days
):
    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert period_label(body) == "2026-11-01 to 2026-11-30"
    first, last = period_label(body).split(" to ")
    assert card(body, "response_rate") == "50.0%"
    assert card(body, "missed_commitments") == "1"
    assert feedback_cells(body, owner.pk) == ("50.0%", "1/2")
    assert api_rate(api_as, manager, first, last) == (50.0, 1, 2)


def test_a_week_is_today_and_the_six_days_before(browser, api_as, manager, owner, last_thirty_days):
    sent(last_thirty_days, local(SHANGHAI, 2026, 11, 24, 0, 5))
    sent_and_answered(last_thirty_days, local(SHANGHAI, 2026, 11, 23, 23, 55))  # the day before

    body = browser(manager).get("/team/", {"days": 7}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert period_label(body) == "2026-11-24 to 2026-11-30"
    assert card(body, "response_rate") == "0.0%"
    assert api_rate(api_as, manager, "2026-11-24", "2026-11-30") == (0.0, 0, 1)


def test_the_period_follows_the_users_own_time_zone(browser, api_as, manager, owner, project):
    manager.time_zone = "America/New_York"
    manager.save()
    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Sunday 29 November, 21:00 in New York
    sent_and_answered(project, local(NEW_YORK, 2026, 11, 20, 15))
    sent(project, local(NEW_YORK, 2026, 10, 31, 0, 30))  # the first day (summer time still)
    sent(project, local(NEW_YORK, 2026, 10, 30, 23, 0))  # the day before, after now − 30 × 24 h
    sent(project, local(NEW_YORK, 2026, 11, 29, 22, 0))  # later today: nothing yet, but today

    with time_machine.travel(now, tick=False):
        body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        figures = api_rate(api_as, manager, "2026-10-31", "2026-11-29")

    assert period_label(body) == "2026-10-31 to 2026-11-29"
    assert card(body, "response_rate") == "33.3%"
    assert feedback_cells(body, owner.pk) == ("33.3%", "1/3")
    assert figures == (33.3, 1, 3)


def test_period_bounds_are_midnights_in_the_zone_today_included():
    previous_start, start, end = kpis.period_bounds(days=7, end=NOW, tz=SHANGHAI)

    assert (previous_start, start, end) == (
        local(SHANGHAI, 2026, 11, 17),
        local(SHANGHAI, 2026, 11, 24),
        local(SHANGHAI, 2026, 12, 1),
    )
    assert kpis.period_days(start, end, tz=SHANGHAI) == (
        datetime(2026, 11, 24).date(),
        datetime(2026, 11, 30).date(),
    )
    # Across the end of summer time in New York: 30 days and one hour, midnight to midnight.
    _previous, start, end = kpis.period_bounds(
        days=30, end=datetime(2026, 11, 30, 2, tzinfo=UTC), tz=NEW_YORK
    )
    assert (start, end) == (datetime(2026, 10, 31, 4, tzinfo=UTC), datetime(2026, 11, 30, 5, tzinfo=UTC))


def test_on_a_sunday_the_trend_ends_with_the_current_week(browser, manager, project):
    sunday = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    with time_machine.travel(sunday, tick=False):
        TouchpointFactory(project=project)
        body = browser(manager).get("/team/").content.decode()

    data = json.loads(re.search(r'id="trend-data"[^>]*>(.*?)</script>', body, re.S).group(1))
    assert data["labels"][-1] == "2026-11-23"  # the Monday of this week, not of the next one
    assert len(data["labels"]) == 12
    assert data["series"]["on_time_update_rate"][-1] is not None  # today's update, in this week


def test_the_kpi_csv_counts_the_same_days_as_the_page(browser, manager, last_thirty_days):
    response = browser(manager).get(
        reverse("dashboard:export-kpis", args=["csv"]), {"days": 30}, HTTP_ACCEPT_LANGUAGE="en"
    )

    lines = csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    rows = {row[0]: row[1:] for row in lines if row}
    assert rows["Survey response rate (%)"][0] == "50.0"
    assert rows["Missed commitments (count)"][0] == "1"


def test_the_kpi_workbook_counts_the_same_days_as_the_page(browser, manager, last_thirty_days):
    response = browser(manager).get(
        reverse("dashboard:export-kpis", args=["xlsx"]), {"days": 30}, HTTP_ACCEPT_LANGUAGE="en"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Survey response rate (%)"][0] == 50.0
    assert rows["Missed commitments (count)"][0] == 1


# --- 3. A relationship manager's link keeps the period (and the other parameters) -----------


def rm_links(body: str) -> list[str]:
    section = re.search(r"<h2>By relationship manager</h2>.*?</table>", body, re.S).group(0)
    return [html.unescape(href) for href in re.findall(r'<a href="([^"]*)">', section)]


def test_a_relationship_managers_link_keeps_the_period(frozen, browser, manager, owner, project):
    TouchpointFactory(project=project, occurred_at=NOW - timedelta(days=60))  # in 90 days, not 30
    page = browser(manager)

    body = page.get("/team/?days=90&stage=inquiry&page=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    [link] = rm_links(body)
    assert link == f"?days=90&stage=inquiry&rm={owner.pk}#portfolio-title"
    followed = page.get(f"/team/{link.split('#')[0]}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="90" selected>' in followed
    assert rm_links(followed) == [f"?days=90&stage=inquiry&rm={owner.pk}#portfolio-title"]


def test_a_relationship_managers_link_replaces_the_one_chosen_before(
    frozen, browser, manager, owner, project
):
    TouchpointFactory(project=project, occurred_at=NOW - timedelta(days=1))

    body = browser(manager).get("/team/", {"rm": "999", "days": "7"}, HTTP_ACCEPT_LANGUAGE="en")

    assert rm_links(body.content.decode()) == [f"?rm={owner.pk}&days=7#portfolio-title"]
