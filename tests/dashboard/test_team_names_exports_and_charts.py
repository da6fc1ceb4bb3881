"""The team page and its exports as an administrator and a manager read them: relationship
managers by name (never by id), exports that say which days, teams, units and time zone their
figures are in, counts charted apart from scores, and KPI cards leading to the list behind them."""

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from tests.factories import (
    CommitmentFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # Monday 30 November, 12:00 in Shanghai


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def busy(frozen, project):
    """A client update and a missed commitment of the owner's in the last 30 days."""
    TouchpointFactory(project=project, occurred_at=NOW - timedelta(days=2))
    CommitmentFactory(project=project, due_at=NOW - timedelta(days=3))
    return project


def rm_table(body: str) -> str:
    return re.search(r"<h2>By relationship manager</h2>.*?</table>", body, re.S).group(0)


def kpi_csv(page) -> list[list[str]]:
    url = reverse("dashboard:export-kpis", args=["csv"])
    response = page.get(url, {"days": 7}, HTTP_ACCEPT_LANGUAGE="en")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text)) if row]


def chart_data(body: str) -> dict:
    return json.loads(html.unescape(re.search(r'id="trend-data"[^>]*>(.*?)</script>', body, re.S).group(1)))


# --- 1. Names, whoever reads -----------------------------------------------------------------


def test_an_administrator_without_a_team_sees_relationship_managers_by_name(browser, admin_user, owner, busy):
    body = browser(admin_user).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    table = rm_table(body)
    assert f">{owner}</a>" in table
    assert f">{owner.pk}</a>" not in table
    menu = re.search(r'<select name="rm".*?</select>', body, re.S).group(0)
    assert f'<option value="{owner.pk}">{owner}</option>' in menu


def test_the_kpi_export_names_relationship_managers_for_an_administrator(browser, admin_user, owner, busy):
    rows = kpi_csv(browser(admin_user))

    names = [
        row[0] for row in rows[rows.index(next(r for r in rows if r[0] == "Relationship manager")) + 1 :]
    ]
    assert names == [str(owner)]


# --- 2. Exports say what their figures are ---------------------------------------------------


def test_the_kpi_export_names_its_days_its_team_and_its_units(browser, manager, team, busy):
    rows = kpi_csv(browser(manager))

    assert rows[0] == [
        f"KPI: {team.name}",
        "This period (2026-11-24 – 2026-11-30)",
        "Previous period (2026-11-17 – 2026-11-23)",
    ]
    names = [row[0] for row in rows[1:10]]
    assert "On-time client updates (%)" in names
    assert "Missed commitments (count)" in names
    assert "Average resolution time (hours)" in names


def test_the_kpi_export_headings_follow_the_readers_language(browser, manager, busy):
    response = browser(manager).get(
        reverse("dashboard:export-kpis", args=["xlsx"]), {"days": 7}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    heading = [cell.value for cell in sheet[1]]
    assert heading[1] == "本期（2026-11-24 – 2026-11-30）"


def test_portfolio_workbook_holds_real_date_times_in_the_readers_zone_named_in_the_heading(
    browser, owner, frozen, project
):
    # The reader is in New York, not in the site's zone (Shanghai): the moments below fall on
    # different days in the two.
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    TouchpointFactory(project=project, occurred_at=datetime(2026, 9, 19, 20, 36, tzinfo=UTC))
    project.refresh_from_db()
    project.last_client_update_at = datetime(2026, 9, 19, 20, 36, tzinfo=UTC)  # 09-20 04:36 in Shanghai
    project.save(update_fields=["last_client_update_at"])
    CommitmentFactory(
        project=project, due_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    )  # 12-01 10:00 in Shanghai

    response = browser(owner).get(
        reverse("dashboard:export-portfolio", args=["xlsx"]), HTTP_ACCEPT_LANGUAGE="en"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    heading = [cell.value for cell in sheet[1]]
    column = heading.index("Last client update (America/New_York)")
    assert sheet.cell(row=2, column=column + 1).value == datetime(2026, 9, 19, 16, 36)
    column = heading.index("Next commitment due (America/New_York)")
    assert sheet.cell(row=2, column=column + 1).value == datetime(2026, 11, 30, 21, 0)


# --- 3. Counts apart from scores; NPS on its whole scale -------------------------------------


def test_missed_commitments_are_charted_apart_from_the_scores(browser, manager, busy):
    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    series = dict(re.findall(r'<canvas id="([\w-]+)"[^>]*data-series="([^"]*)"', body))
    assert series["trend-scores"] == "nps,csat"
    assert series["trend-counts"] == "missed_commitments"
    axes = chart_data(body)["axes"]
    assert axes["nps"] == {"min": 0, "max": 100}
    assert axes["missed_commitments"]["min"] == 0 and "max" not in axes["missed_commitments"]


def test_the_nps_axis_reaches_minus_100_once_a_week_is_negative(browser, manager, busy):
    invitation = InvitationFactory(
        project=busy, created_at=NOW - timedelta(days=1), sent_at=NOW - timedelta(days=1)
    )
    SurveyResponseFactory(invitation=invitation, submitted_at=NOW - timedelta(hours=1), nps=2)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    data = chart_data(body)
    assert data["series"]["nps"][-1] < 0
    assert data["axes"]["nps"] == {"min": -100, "max": 100}


# --- 4. KPI cards lead to the list behind them, where there is one ----------------------------


def test_an_rm_without_activity_is_still_named_in_the_filter_menu(browser, manager, owner, frozen, project):
    ProjectFactory(client=project.client)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f'<option value="{owner.pk}">{owner}</option>' in body
