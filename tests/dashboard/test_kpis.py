"""KPI arithmetic on a small dataset computed by hand."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from dashboard import kpis
from finance_projects.models import FinancingProject
from tests.factories import AlertFactory, CommitmentFactory, ProjectFactory, TouchpointFactory

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)  # Tuesday 12:00 in Shanghai
START = datetime(2026, 6, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def portfolio(frozen, client_org):
    project = ProjectFactory(client=client_org, update_cadence_days=10)
    FinancingProject.objects.filter(pk=project.pk).update(created_at=datetime(2026, 5, 1, tzinfo=UTC))
    return project


def at(day, hour=0):
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def test_on_time_update_rate_counts_updates_within_the_cadence_of_the_previous_one(portfolio):
    # Before the period: the previous update on 25 May.
    TouchpointFactory(project=portfolio, occurred_at=datetime(2026, 5, 25, tzinfo=UTC))
    TouchpointFactory(project=portfolio, occurred_at=at(3))  # 9 days after: on time
    TouchpointFactory(project=portfolio, occurred_at=at(20))  # 17 days after: late
    TouchpointFactory(project=portfolio, occurred_at=at(25))  # 5 days after: on time
    TouchpointFactory(project=portfolio, occurred_at=at(26), is_client_update=False)  # not an update
    AlertFactory(project=portfolio, kind="update_overdue", opened_at=at(14))

    result = kpis.team_kpis(projects=FinancingProject.objects.all(), start=START, end=END)

    assert result["updates"] == 3
    assert result["on_time_update_rate"] == pytest.approx(66.7)
    assert result["overdue_updates"] == 1


def test_first_update_is_measured_from_the_project_creation(portfolio):
    TouchpointFactory(project=portfolio, occurred_at=at(5))  # 35 days after creation: late

    result = kpis.team_kpis(projects=FinancingProject.objects.all(), start=START, end=END)

    assert result["on_time_update_rate"] == 0.0


def test_promise_kept_rate_and_missed_commitments(portfolio, owner):
    kept = CommitmentFactory(project=portfolio, due_at=at(10))
    kept.status, kept.fulfilled_at = "fulfilled", at(9)
    kept.save()
    late = CommitmentFactory(project=portfolio, due_at=at(12))
    late.status, late.fulfilled_at = "fulfilled", at(13)
    late.save()
    CommitmentFactory(project=portfolio, due_at=at(15))  # still open past due: missed
    CommitmentFactory(project=portfolio, due_at=at(16), status="cancelled")  # not counted
    CommitmentFactory(project=portfolio, due_at=at(17), status="renegotiated", closed_at=at(11))  # early
    CommitmentFactory(project=portfolio, due_at=at(18), status="renegotiated", closed_at=at(19))  # late
    CommitmentFactory(project=portfolio, due_at=at(30, 8))  # due after now: not yet measured
    CommitmentFactory(project=portfolio, due_at=datetime(2026, 5, 20, tzinfo=UTC))  # previous period

    result = kpis.team_kpis(projects=FinancingProject.objects.all(), start=START, end=END)

    assert result["commitments_due"] == 4
    assert result["commitments_kept"] == 1
    assert result["promise_kept_rate"] == 25.0
    assert result["missed_commitments"] == 3


def test_empty_period_gives_no_rates_rather_than_zero(portfolio):
    result = kpis.team_kpis(projects=FinancingProject.objects.all(), start=START, end=END)

    assert result["promise_kept_rate"] is None
    assert result["on_time_update_rate"] is None
    assert result["nps"] is None
    assert result["missed_commitments"] == 0


def test_kpis_only_count_the_given_projects(portfolio, outsider):
    other = ProjectFactory(client__relationship_manager=outsider)
    CommitmentFactory(project=other, due_at=at(10))

    result = kpis.team_kpis(projects=FinancingProject.objects.filter(pk=portfolio.pk), start=START, end=END)

    assert result["commitments_due"] == 0


def test_finalize_computes_nps_csat_response_rate_and_resolution_time():
    result = kpis.finalize(
        {
            "nps_answers": 10,
            "promoters": 5,
            "detractors": 2,
            "csat_answers": 8,
            "csat_satisfied": 6,
            "invitations_sent": 20,
            "invitations_answered": 5,
            "complaints_ack_due": 4,
            "complaints_ack_on_time": 3,
            "complaints_resolve_due": 2,
            "complaints_resolved_on_time": 1,
            "resolution_time": timedelta(hours=30),
        }
    )

    assert result["nps"] == 30.0
    assert result["csat"] == 75.0
    assert result["response_rate"] == 25.0
    assert result["complaint_ack_rate"] == 75.0
    assert result["complaint_resolution_rate"] == 50.0
    assert result["avg_resolution_hours"] == 30.0


def test_kpis_by_rm_splits_the_numbers_per_relationship_manager(portfolio, teammate, owner):
    mine = CommitmentFactory(project=portfolio, due_at=at(10))
    mine.status, mine.fulfilled_at = "fulfilled", at(9)
    mine.save()
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)
    CommitmentFactory(project=theirs, due_at=at(10))

    result = kpis.kpis_by_rm(projects=FinancingProject.objects.all(), start=START, end=END)

    assert result[owner.pk]["promise_kept_rate"] == 100.0
    assert result[teammate.pk]["promise_kept_rate"] == 0.0


def test_weekly_trend_buckets_by_calendar_week_in_the_current_zone(portfolio):
    # Sunday 28 June 17:00 UTC is Monday 29 June 01:00 in Shanghai: the last week.
    CommitmentFactory(project=portfolio, due_at=datetime(2026, 6, 28, 17, tzinfo=UTC))
    CommitmentFactory(project=portfolio, due_at=datetime(2026, 6, 24, tzinfo=UTC))

    trend = kpis.weekly_trend(projects=FinancingProject.objects.all(), weeks=3, end=NOW)

    assert [str(week["week"]) for week in trend] == ["2026-06-15", "2026-06-22", "2026-06-29"]
    assert [week["missed_commitments"] for week in trend] == [0, 1, 1]


def test_kpi_queries_do_not_grow_with_the_data(portfolio, django_assert_max_num_queries):
    for day in range(1, 20):
        TouchpointFactory(project=portfolio, occurred_at=at(day))
        CommitmentFactory(project=portfolio, due_at=at(day))
    projects = FinancingProject.objects.all()

    with django_assert_max_num_queries(8):
        kpis.team_kpis(projects=projects, start=START, end=END)
    with django_assert_max_num_queries(8):
        kpis.weekly_trend(projects=projects, weeks=12, end=NOW)


def test_team_report_gives_the_same_numbers_as_the_separate_kpi_reads(portfolio, teammate, owner):
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)
    for day in (2, 9, 16, 23, 29):
        TouchpointFactory(project=portfolio, occurred_at=at(day))
        CommitmentFactory(project=portfolio if day % 2 else theirs, due_at=at(day))
    kept = CommitmentFactory(project=portfolio, due_at=at(12))
    kept.status, kept.fulfilled_at = "fulfilled", at(11)
    kept.save()
    TouchpointFactory(project=theirs, occurred_at=datetime(2026, 5, 20, tzinfo=UTC))
    AlertFactory(project=theirs, kind="update_overdue", opened_at=at(14))
    projects = FinancingProject.objects.all()
    previous_start, start, end = kpis.period_bounds(days=14, end=NOW)

    report = kpis.team_report(projects=projects, previous_start=previous_start, start=start, end=end, weeks=6)

    assert report.current == kpis.team_kpis(projects=projects, start=start, end=end)
    assert report.previous == kpis.team_kpis(projects=projects, start=previous_start, end=start)
    assert report.by_rm == kpis.kpis_by_rm(projects=projects, start=start, end=end)
    assert report.trend == kpis.weekly_trend(projects=projects, weeks=6, end=end)
    assert report.current["commitments_due"] > 0 and report.previous["commitments_due"] > 0


def test_team_report_reads_each_source_table_once(portfolio, django_assert_max_num_queries):
    for day in range(1, 20):
        TouchpointFactory(project=portfolio, occurred_at=at(day))
        CommitmentFactory(project=portfolio, due_at=at(day))
    previous_start, start, end = kpis.period_bounds(days=30, end=NOW)

    with django_assert_max_num_queries(len(kpis._sources())):
        kpis.team_report(
            projects=FinancingProject.objects.all(),
            previous_start=previous_start,
            start=start,
            end=end,
            weeks=12,
        )
