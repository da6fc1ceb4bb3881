"""Health scores: the factors behind each deduction, the bands and the stored refresh."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from dashboard import health, scans
from finance_projects.models import FinancingProject
from finance_projects.scans import SCAN_REGISTRY
from tests.factories import AlertFactory, CommitmentFactory, ComplaintFactory, ProjectFactory

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def score_of(project):
    return health.compute_health(projects=FinancingProject.objects.filter(pk=project.pk), at=NOW)[project.pk]


def test_a_project_without_problems_scores_100_and_is_green(project):
    result = score_of(project)

    assert result.score == 100
    assert result.band == "green"
    assert result.factors == []


def test_a_missed_commitment_takes_20_points_and_says_how_long_ago(project):
    CommitmentFactory(project=project, title="Rate quote", due_at=NOW - timedelta(days=5))

    result = score_of(project)

    assert result.score == 80
    assert result.factors == [{"points": -20, "code": "commitment_missed", "days": 5, "label": "Rate quote"}]
    with translation.override("en"):
        assert health.factor_text(result.factors[0]) == "-20: commitment missed 5 days ago: Rate quote"


def test_missed_commitments_are_capped_so_other_problems_still_show(project):
    for days in (1, 2, 3, 4):
        CommitmentFactory(project=project, due_at=NOW - timedelta(days=days))

    result = score_of(project)

    assert sum(f["points"] for f in result.factors if f["code"] == "commitment_missed") == -40
    assert result.score == 60
    assert result.band == "amber"


def test_an_overdue_update_and_an_open_complaint_count(project):
    FinancingProject.objects.filter(pk=project.pk).update(next_update_due_at=NOW - timedelta(days=3))
    ComplaintFactory(project=project, received_at=NOW - timedelta(days=2))

    result = score_of(project)

    codes = {f["code"]: f for f in result.factors}
    assert codes["update_overdue"]["days"] == 3
    assert codes["complaint_open"]["points"] == -10
    assert result.score == 75


def test_critical_alerts_count_but_alerts_about_scored_subjects_do_not(project):
    AlertFactory(project=project, kind="stage_overrun", severity="critical")
    AlertFactory(project=project, kind="commitment_missed", severity="critical")

    result = score_of(project)

    assert result.factors == [{"points": -10, "code": "alert_critical", "count": 1}]


def test_a_project_on_hold_owes_no_client_update(project):
    FinancingProject.objects.filter(pk=project.pk).update(
        status="on_hold", next_update_due_at=NOW - timedelta(days=3)
    )

    assert score_of(project).factors == []


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("update_overdue", "-15: client update overdue by less than a day"),
        ("commitment_missed", "-20: commitment missed less than a day ago"),
        ("complaint_open", "-10: complaint open for less than a day"),
    ],
)
def test_less_than_a_day_reads_as_such_not_zero_days(code, text):
    points = {"update_overdue": -15, "commitment_missed": -20, "complaint_open": -10}[code]
    with translation.override("en"):
        assert health.factor_text({"points": points, "code": code, "days": 0}) == text


def test_a_satisfied_clients_request_for_a_call_costs_no_health(project):
    AlertFactory(project=project, kind="contact_request", severity="warning")

    assert score_of(project).factors == []


def test_bands():
    assert [health.band(s) for s in (100, 75, 74, 50, 49, 0)] == [
        "green",
        "green",
        "amber",
        "amber",
        "red",
        "red",
    ]


def test_refresh_writes_every_live_project_and_a_second_run_changes_nothing(project, client_org):
    closed = ProjectFactory(client=client_org, status="closed")
    CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))

    first = scans.refresh_health(NOW)
    stored = FinancingProject.objects.values_list("pk", "health", "health_factors", "health_computed_at")
    before = set((pk, h, str(f), at) for pk, h, f, at in stored)
    second = scans.refresh_health(NOW)
    after = set((pk, h, str(f), at) for pk, h, f, at in stored.all())

    project.refresh_from_db()
    closed.refresh_from_db()
    assert first.kept == second.kept == 1
    assert project.health == 80 and project.health_computed_at == NOW
    assert closed.health is None
    assert before == after


def test_refresh_is_registered_with_the_scans():
    assert SCAN_REGISTRY["refresh_health"] is scans.refresh_health


def test_refresh_queries_do_not_grow_with_the_portfolio(client_org, django_assert_max_num_queries):
    for i in range(30):
        project = ProjectFactory(client=client_org)
        CommitmentFactory(project=project, due_at=NOW - timedelta(days=i + 1))

    with django_assert_max_num_queries(10):
        scans.refresh_health(NOW)
