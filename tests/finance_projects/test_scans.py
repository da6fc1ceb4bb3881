"""The early-warning rules: what each scan flags, what it ignores, and that it settles."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance_projects import scans, services
from finance_projects.alerts import ScanResult
from finance_projects.models import Alert, StageTransition
from tests.factories import AlertFactory, CommitmentFactory, ProjectFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def open_alerts(kind):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True)


# --- update_overdue ------------------------------------------------------------------------


def test_an_update_due_exactly_now_is_not_yet_overdue(project):
    project.next_update_due_at = NOW
    project.save()

    assert scans.update_overdue(NOW) == ScanResult(opened=0, kept=0, resolved=0)
    assert scans.update_overdue(NOW + timedelta(seconds=1)).opened == 1


def test_an_overdue_update_is_a_warning_for_one_cadence_and_critical_past_two(project):
    project.update_cadence_days = 14
    project.next_update_due_at = NOW - timedelta(days=14)  # exactly two cadences since the update
    project.save()

    scans.update_overdue(NOW)
    alert = open_alerts("update_overdue").get()
    assert (alert.severity, alert.subject, alert.assignee) == (
        "warning",
        {"type": "project", "id": project.pk},
        project.relationship_manager,
    )
    assert project.code in alert.message

    result = scans.update_overdue(NOW + timedelta(seconds=1))
    alert.refresh_from_db()
    assert result == ScanResult(opened=0, kept=1, resolved=0)
    assert alert.severity == "critical"


def test_projects_not_active_raise_no_update_alert(project):
    project.next_update_due_at = NOW - timedelta(days=3)
    project.status = "on_hold"
    project.save()

    assert scans.update_overdue(NOW).opened == 0


def test_logging_a_client_update_resolves_the_overdue_alert(project, owner):
    with time_machine.travel(NOW, tick=False):
        project.next_update_due_at = NOW - timedelta(days=1)
        project.save()
        scans.update_overdue(NOW)
        services.touchpoint_log(
            project=project,
            channel="call",
            occurred_at=NOW - timedelta(minutes=5),
            summary="Walked the CFO through the credit committee's questions.",
            logged_by=owner,
            is_client_update=True,
        )

        result = scans.update_overdue(NOW)

    assert result == ScanResult(opened=0, kept=0, resolved=1)
    assert Alert.objects.get(kind="update_overdue").resolved_at == NOW


def stored_severity(project):
    project.refresh_from_db(fields=["update_alert_severity"])
    return project.update_alert_severity


def overdue_project(project, *, days_overdue=1, cadence=14):
    project.update_cadence_days = cadence
    project.next_update_due_at = NOW - timedelta(days=days_overdue)
    project.save()
    return project


def test_a_run_that_changes_nothing_reads_only_the_stored_severities(
    project, django_assert_num_queries, quiet_beat_queries
):
    overdue_project(project)
    scans.update_overdue(NOW)
    assert stored_severity(project) == "warning"

    with django_assert_num_queries(quiet_beat_queries):
        result = scans.update_overdue(NOW + timedelta(minutes=5))

    assert result == ScanResult(opened=0, kept=1, resolved=0)


def test_the_beats_quiet_run_leaves_the_kept_alerts_uncounted_and_reads_one_count_less(
    project, django_assert_num_queries, quiet_beat_queries
):
    overdue_project(project)
    scans.update_overdue(NOW)
    later = NOW + timedelta(minutes=5)

    with CaptureQueriesContext(connection) as counted:
        assert scans.run_scan("update_overdue", at=later) == ScanResult(opened=0, kept=1, resolved=0)
    with django_assert_num_queries(quiet_beat_queries + 1) as beat:  # + the note of the run
        assert scans.run_scan("update_overdue", at=later, count_kept=False) == ScanResult(0, None, 0)

    def counts(queries):
        return sum(query["sql"].count("count(*)") for query in queries)

    assert counts(beat.captured_queries) == counts(counted.captured_queries) - 1


def test_the_beats_run_that_changes_something_still_reports_what_it_opened_and_resolved(project):
    overdue_project(project)

    assert scans.run_all(at=NOW, names=["update_overdue"], count_kept=False) == {
        "update_overdue": ScanResult(opened=1, kept=None, resolved=0)
    }
    project.next_update_due_at = NOW + timedelta(days=7)
    project.save()
    assert scans.run_scan("update_overdue", at=NOW, count_kept=False) == ScanResult(0, None, 1)


def test_passing_two_cadences_escalates_the_alert_and_its_stored_severity(project):
    overdue_project(project, days_overdue=13, cadence=7)
    scans.update_overdue(NOW)

    result = scans.update_overdue(NOW + timedelta(days=1, seconds=1))

    assert result == ScanResult(opened=0, kept=1, resolved=0)
    assert open_alerts("update_overdue").get().severity == "critical"
    assert stored_severity(project) == "critical"


def test_an_acknowledged_overdue_warning_turning_critical_is_handed_back_to_be_handled(project, owner):
    overdue_project(project, days_overdue=6, cadence=7)
    scans.update_overdue(NOW)
    assert open_alerts("update_overdue").get().severity == "warning"
    Alert.objects.filter(kind="update_overdue").update(acknowledged_at=NOW, acknowledged_by=owner)

    scans.update_overdue(NOW + timedelta(days=1, seconds=1))

    alert = open_alerts("update_overdue").get()
    assert (alert.severity, alert.acknowledged_at, alert.acknowledged_by) == ("critical", None, None)


def test_a_longer_cadence_lowers_a_critical_alert_to_a_warning(project, owner):
    overdue_project(project, days_overdue=20, cadence=7)
    scans.update_overdue(NOW)
    assert stored_severity(project) == "critical"
    # A 30-day cadence from the last update: overdue, but by less than one more cadence.
    project.last_client_update_at = NOW - timedelta(days=40)
    project.save()
    services.project_update(project=project, update_cadence_days=30)

    scans.update_overdue(NOW)

    assert open_alerts("update_overdue").get().severity == "warning"
    assert stored_severity(project) == "warning"


def test_putting_a_project_on_hold_resolves_its_update_alert(project):
    overdue_project(project)
    scans.update_overdue(NOW)
    project.status = "on_hold"
    project.save()

    assert scans.update_overdue(NOW) == ScanResult(opened=0, kept=0, resolved=1)
    assert stored_severity(project) == ""


def test_renaming_a_project_rewrites_its_open_alert_message(project):
    overdue_project(project)
    scans.update_overdue(NOW)

    services.project_update(project=project, name="Harbour Wind Phase II")
    result = scans.update_overdue(NOW)

    assert result == ScanResult(opened=0, kept=1, resolved=0)
    assert open_alerts("update_overdue").get().message == f"{project.code} Harbour Wind Phase II"
    assert stored_severity(project) == "warning"


def test_a_renamed_project_updated_before_the_next_scan_has_its_alert_resolved(project, owner):
    overdue_project(project)
    scans.update_overdue(NOW)
    services.project_update(project=project, name="Harbour Wind Phase II")
    with time_machine.travel(NOW, tick=False):
        services.touchpoint_log(
            project=project,
            channel="meeting",
            occurred_at=NOW - timedelta(minutes=5),
            summary="Site visit with the sponsor.",
            logged_by=owner,
            is_client_update=True,
        )

    assert scans.update_overdue(NOW) == ScanResult(opened=0, kept=0, resolved=1)
    assert stored_severity(project) == ""


def test_saving_a_project_read_before_a_scan_keeps_the_scan_severity(project):
    overdue_project(project)
    read_before = type(project).objects.get(pk=project.pk)
    scans.update_overdue(NOW)

    services.project_update(project=read_before, amount=read_before.amount + 1)

    assert stored_severity(project) == "warning"
    assert scans.update_overdue(NOW) == ScanResult(opened=0, kept=1, resolved=0)


def test_stored_severities_out_of_step_with_the_alerts_are_rewritten(project):
    overdue_project(project)
    scans.update_overdue(NOW)
    type(project).objects.update(update_alert_severity="")  # as before the severities were stored

    result = scans.update_overdue(NOW)

    assert result == ScanResult(opened=0, kept=1, resolved=0)
    assert stored_severity(project) == "warning"
    assert open_alerts("update_overdue").count() == 1


# --- commitment_due_soon / commitment_missed -----------------------------------------------


def test_a_commitment_due_within_48_hours_is_flagged_info_then_warning(project):
    far = CommitmentFactory(project=project, due_at=NOW + timedelta(hours=48))
    near = CommitmentFactory(project=project, due_at=NOW + timedelta(hours=24))
    CommitmentFactory(project=project, due_at=NOW + timedelta(hours=48, seconds=1))

    assert scans.commitment_due_soon(NOW).opened == 2
    severities = dict(open_alerts("commitment_due_soon").values_list("subject_id", "severity"))
    assert severities == {far.pk: "info", near.pk: "warning"}


def test_the_due_soon_window_follows_the_setting(project, settings):
    settings.CEM = {**settings.CEM, "COMMITMENT_DUE_SOON_HOURS": 4}
    CommitmentFactory(project=project, due_at=NOW + timedelta(hours=5))

    assert scans.commitment_due_soon(NOW).opened == 0


def test_a_commitment_due_exactly_now_is_due_soon_and_not_missed(project):
    commitment = CommitmentFactory(project=project, due_at=NOW)

    assert scans.commitment_missed(NOW).opened == 0
    assert scans.commitment_due_soon(NOW).opened == 1
    assert open_alerts("commitment_due_soon").get().subject_id == commitment.pk


def test_a_missed_commitment_raises_exactly_one_alert(project):
    commitment = CommitmentFactory(project=project, kind="document", due_at=NOW - timedelta(minutes=1))

    first = scans.commitment_missed(NOW)
    second = scans.commitment_missed(NOW + timedelta(hours=1))

    assert first == ScanResult(opened=1, kept=0, resolved=0)
    assert second == ScanResult(opened=0, kept=1, resolved=0)
    alert = open_alerts("commitment_missed").get()
    assert (alert.subject_type, alert.subject_id, alert.severity) == ("commitment", commitment.pk, "warning")


def test_missed_schedule_and_pricing_promises_are_critical(project):
    for kind in ("schedule", "pricing", "response"):
        CommitmentFactory(project=project, kind=kind, due_at=NOW - timedelta(days=1))

    scans.commitment_missed(NOW)

    assert sorted(open_alerts("commitment_missed").values_list("severity", flat=True)) == [
        "critical",
        "critical",
        "warning",
    ]


def test_when_a_due_soon_commitment_becomes_missed_the_due_soon_alert_is_resolved(project):
    CommitmentFactory(project=project, due_at=NOW + timedelta(hours=1))
    scans.commitment_due_soon(NOW)
    later = NOW + timedelta(hours=2)

    assert scans.commitment_due_soon(later) == ScanResult(opened=0, kept=0, resolved=1)
    assert scans.commitment_missed(later).opened == 1
    assert not open_alerts("commitment_due_soon").exists()


def test_fulfilling_a_missed_commitment_resolves_its_alert(project, owner):
    commitment = CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))
    scans.commitment_missed(NOW)

    services.commitment_fulfil(commitment=commitment, by=owner, at=NOW)

    assert scans.commitment_missed(NOW) == ScanResult(opened=0, kept=0, resolved=1)


def test_renegotiating_a_missed_commitment_resolves_it_and_the_new_date_is_not_missed(project, owner):
    commitment = CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))
    scans.commitment_missed(NOW)

    with time_machine.travel(NOW, tick=False):
        successor = services.commitment_renegotiate(
            commitment=commitment,
            new_due_at=NOW + timedelta(days=10),
            reason="Waiting on the appraisal",
            by=owner,
        )

    assert scans.commitment_missed(NOW) == ScanResult(opened=0, kept=0, resolved=1)
    assert scans.commitment_due_soon(NOW).opened == 0
    assert not Alert.objects.filter(subject_id=successor.pk, resolved_at__isnull=True).exists()


def test_commitments_of_closed_projects_raise_no_alert(project):
    project.status = "closed"
    project.save()
    CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))

    assert scans.commitment_missed(NOW).opened == 0


def test_missed_is_decided_in_utc_across_the_shanghai_midnight(project):
    midnight = datetime(2025, 3, 11, 0, 0, tzinfo=SHANGHAI)  # 2025-03-10 16:00 UTC
    CommitmentFactory(project=project, due_at=midnight)

    assert scans.commitment_missed(midnight - timedelta(microseconds=1)).opened == 0
    assert scans.commitment_missed(midnight).opened == 0
    assert scans.commitment_missed(midnight + timedelta(microseconds=1)).opened == 1


# --- stage_overrun -------------------------------------------------------------------------


def overrun_project(days_in_stage, **kwargs):
    entered = NOW - timedelta(days=days_in_stage)
    return ProjectFactory(stage="inquiry", stage_entered_at=entered, **kwargs)  # inquiry: 14 days


def test_a_stage_is_overrun_only_after_its_expected_days(db):
    on_time = overrun_project(14)
    late = overrun_project(15)
    very_late = overrun_project(29)

    assert scans.stage_overrun(NOW).opened == 2
    alerts = dict(open_alerts("stage_overrun").values_list("project_id", "severity"))
    assert alerts == {late.pk: "warning", very_late.pk: "critical"}
    assert on_time.pk not in alerts
    current = StageTransition.objects.get(project=late, left_at__isnull=True)
    assert open_alerts("stage_overrun").get(project=late).subject == {
        "type": "stage_transition",
        "id": current.pk,
    }


def test_moving_the_project_on_resolves_the_stage_overrun(owner, client_org):
    project = overrun_project(20, client=client_org)
    scans.stage_overrun(NOW)

    with time_machine.travel(NOW, tick=False):
        services.project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)

    assert scans.stage_overrun(NOW) == ScanResult(opened=0, kept=0, resolved=1)


# --- every scan ----------------------------------------------------------------------------


def busy_portfolio(size):
    for n in range(size):
        project = overrun_project(20 + n)
        project.next_update_due_at = NOW - timedelta(days=1 + n)
        project.save()
        CommitmentFactory(project=project, kind="schedule", due_at=NOW - timedelta(hours=1 + n))
        CommitmentFactory(project=project, kind="other", due_at=NOW + timedelta(hours=1 + n))


@pytest.mark.parametrize(
    "name", ["update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"]
)
def test_a_second_run_changes_nothing(name):
    busy_portfolio(3)
    first = scans.run_scan(name, at=NOW)
    before = list(Alert.objects.order_by("id").values())

    second = scans.run_scan(name, at=NOW)

    assert first.opened == 3
    assert second == ScanResult(opened=0, kept=3, resolved=0)
    assert list(Alert.objects.order_by("id").values()) == before


@pytest.mark.parametrize(
    "name", ["update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"]
)
def test_scan_query_count_does_not_grow_with_the_portfolio(name, django_assert_max_num_queries):
    # Each scan first checks its stored severities, then writes the changed subjects'.
    busy_portfolio(2)
    with django_assert_max_num_queries(16):
        scans.run_scan(name, at=NOW)
    busy_portfolio(12)
    with django_assert_max_num_queries(16):
        result = scans.run_scan(name, at=NOW + timedelta(seconds=1))
    assert result.opened + result.kept == 14


def test_a_handled_alert_keeps_its_assignee_acknowledgement_and_snooze(project, teammate):
    commitment = CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))
    alert = AlertFactory(
        project=project,
        kind="commitment_missed",
        subject_type="commitment",
        subject_id=commitment.pk,
        severity="warning",
        message=f"{project.code} · {commitment.title}",
        assignee=teammate,
        acknowledged_at=NOW,
        snoozed_until=NOW + timedelta(days=1),
    )

    assert scans.commitment_missed(NOW) == ScanResult(opened=0, kept=1, resolved=0)
    alert.refresh_from_db()
    assert (alert.assignee, alert.acknowledged_at, alert.snoozed_until) == (
        teammate,
        NOW,
        NOW + timedelta(days=1),
    )


def test_a_resolved_alert_is_not_reopened_but_a_new_one_is_raised(project):
    commitment = CommitmentFactory(project=project, due_at=NOW - timedelta(days=1))
    old = AlertFactory(
        project=project,
        kind="commitment_missed",
        subject_type="commitment",
        subject_id=commitment.pk,
        resolved_at=NOW - timedelta(days=2),
    )

    assert scans.commitment_missed(NOW).opened == 1
    old.refresh_from_db()
    assert old.resolved_at == NOW - timedelta(days=2)


def test_the_registry_lists_the_core_scans():
    assert {"update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"} <= set(
        scans.SCAN_REGISTRY
    )


def test_scans_default_to_now(project):
    project.next_update_due_at = timezone.now() - timedelta(days=1)
    project.save()

    assert scans.run_scan("update_overdue").opened == 1
