"""The dashboard marks a client update overdue and a stage late exactly when the early-warning
scans alert on it: only active projects, strict deadlines, the exact time of the current stay."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from finance_projects import scans
from finance_projects.models import Alert, Stage, StageTransition
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
INQUIRY_DAYS = 14  # the inquiry stage's expected days (reference data)
LATE_DAYS = 'class="num late"'
OVERDUE = '<div class="late small">'


def late_project(client_org, *, days_in_stage: float, update_due: timedelta, status: str = "active"):
    """A project in inquiry since `days_in_stage` days, its client update due `update_due` from now."""
    return ProjectFactory(
        client=client_org,
        stage="inquiry",
        status=status,
        stage_entered_at=NOW - timedelta(days=days_in_stage),
        next_update_due_at=NOW + update_due,
    )


def run_both_scans():
    scans.update_overdue(NOW)
    scans.stage_overrun(NOW)


def open_alerts() -> set[tuple[int, str]]:
    return set(Alert.objects.filter(resolved_at__isnull=True).values_list("project_id", "kind"))


def get(client, url: str) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def portfolio_row(body: str, project) -> str:
    (row,) = [row.split("</tr>")[0] for row in body.split("<tr>") if f"{project.code} · " in row]
    return row


def stage_classes(body: str) -> list[str]:
    """The classes of the project page's stage path items, in stage order."""
    classes = re.findall(r'<li class="([^"]*)" title="[^"]*">\s*<strong>', body)
    assert len(classes) == len(Stage.values)
    return classes


# --- Portfolio (RM home and team view) -------------------------------------------------------


@pytest.mark.parametrize("status", ["on_hold", "closed", "lost"])
def test_a_project_that_does_not_run_shows_no_late_markers_as_it_raises_no_alerts(
    browser, owner, client_org, status
):
    project = late_project(client_org, days_in_stage=40, update_due=-timedelta(days=3), status=status)
    run_both_scans()

    row = portfolio_row(get(browser(owner), "/"), project)

    assert open_alerts() == set()
    assert '<td data-label="Days in stage" class="num">40 / 14</td>' in row
    assert LATE_DAYS not in row and OVERDUE not in row


def test_a_stage_half_a_day_past_its_expected_days_is_marked_late_like_its_open_alert(
    browser, owner, client_org
):
    project = late_project(client_org, days_in_stage=INQUIRY_DAYS + 0.5, update_due=timedelta(days=1))
    run_both_scans()

    row = portfolio_row(get(browser(owner), "/"), project)

    assert open_alerts() == {(project.pk, "stage_overrun")}
    assert f"{LATE_DAYS}>14 / 14</td>" in row  # whole days shown, the marker to the second


def test_every_portfolio_marker_agrees_with_the_open_alerts_around_the_deadlines(browser, owner, client_org):
    # Both deadlines half a day ago, a second ago, exactly now and a second from now; running
    # and on hold.
    offsets = [timedelta(hours=-12), timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)]
    projects = [
        (
            status,
            offset,
            late_project(
                client_org,
                days_in_stage=INQUIRY_DAYS - offset / timedelta(days=1),
                update_due=offset,
                status=status,
            ),
        )
        for status in ("active", "on_hold")
        for offset in offsets
    ]
    run_both_scans()
    alerts = open_alerts()

    body = get(browser(owner), "/")

    passed = {p.pk for status, offset, p in projects if status == "active" and offset < timedelta(0)}
    assert alerts == {(pk, kind) for pk in passed for kind in ("update_overdue", "stage_overrun")}
    for _status, _offset, project in projects:
        row = portfolio_row(body, project)
        assert (LATE_DAYS in row) == ((project.pk, "stage_overrun") in alerts), project.code
        assert (OVERDUE in row) == ((project.pk, "update_overdue") in alerts), project.code


def test_the_team_view_marks_its_rows_as_the_scans_alert(browser, manager, client_org):
    on_hold = late_project(client_org, days_in_stage=40, update_due=-timedelta(days=3), status="on_hold")
    running = late_project(client_org, days_in_stage=INQUIRY_DAYS + 0.5, update_due=-timedelta(hours=1))
    run_both_scans()

    body = get(browser(manager), reverse("dashboard:team"))

    assert open_alerts() == {(running.pk, "stage_overrun"), (running.pk, "update_overdue")}
    assert LATE_DAYS not in portfolio_row(body, on_hold) and OVERDUE not in portfolio_row(body, on_hold)
    assert LATE_DAYS in portfolio_row(body, running) and OVERDUE in portfolio_row(body, running)


# --- Project page: the stage path ------------------------------------------------------------


def test_the_current_stage_is_marked_late_once_its_stay_is_past_the_expected_days(browser, owner, client_org):
    project = late_project(client_org, days_in_stage=INQUIRY_DAYS + 0.5, update_due=timedelta(days=1))
    run_both_scans()

    classes = stage_classes(get(browser(owner), reverse("dashboard:project", args=[project.pk])))

    assert open_alerts() == {(project.pk, "stage_overrun")}
    assert classes[Stage.order("inquiry")] == "current late-stage"


def test_the_current_stage_of_a_project_on_hold_is_not_marked_late(browser, owner, client_org):
    project = late_project(client_org, days_in_stage=40, update_due=-timedelta(days=3), status="on_hold")
    run_both_scans()

    classes = stage_classes(get(browser(owner), reverse("dashboard:project", args=[project.pk])))

    assert open_alerts() == set()
    assert classes[Stage.order("inquiry")] == "current"


def test_an_earlier_stay_in_the_current_stage_does_not_mark_it_late(browser, owner, client_org):
    # Back in inquiry for a day (a manager's override) after 20 days in it before.
    project = late_project(client_org, days_in_stage=1, update_due=timedelta(days=1))
    StageTransition.objects.create(
        project=project, stage="inquiry", entered_at=NOW - timedelta(days=25), left_at=NOW - timedelta(days=5)
    )
    StageTransition.objects.create(
        project=project,
        stage="term_sheet",
        entered_at=NOW - timedelta(days=5),
        left_at=NOW - timedelta(days=1),
    )
    run_both_scans()

    classes = stage_classes(get(browser(owner), reverse("dashboard:project", args=[project.pk])))

    assert open_alerts() == set()
    assert classes[Stage.order("inquiry")] == "current"


def test_a_past_stay_is_marked_late_when_it_lasted_longer_than_its_expected_days(browser, owner, client_org):
    left = NOW - timedelta(days=10)
    project = ProjectFactory(client=client_org, stage="due_diligence", stage_entered_at=left)
    StageTransition.objects.create(  # 14.4 days of 14: over, though it rounds to 14
        project=project,
        stage="inquiry",
        entered_at=left - timedelta(days=35.4),
        left_at=left - timedelta(days=21),
    )
    StageTransition.objects.create(  # 21 days of 21 exactly: not over
        project=project, stage="term_sheet", entered_at=left - timedelta(days=21), left_at=left
    )

    classes = stage_classes(get(browser(owner), reverse("dashboard:project", args=[project.pk])))

    assert classes[: Stage.order("due_diligence") + 1] == ["done late-stage", "done", "current"]


def test_the_stage_path_and_the_header_count_the_same_whole_days_in_the_stage(browser, owner, client_org):
    project = late_project(client_org, days_in_stage=4.6, update_due=timedelta(days=1))
    if not StageTransition.objects.filter(project=project).exists():
        StageTransition.objects.create(project=project, stage="inquiry", entered_at=project.stage_entered_at)

    body = get(browser(owner), reverse("dashboard:project", args=[project.pk]))

    assert "4 days in Inquiry" in body
    assert f"4 / {INQUIRY_DAYS} days" in body
