"""The stored alert severities of the commitment and stage scans: they follow the open alerts
through every change of the rule's inputs, and a beat where nothing changed reads only them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from finance_projects import scans, services
from finance_projects.alerts import ScanResult
from finance_projects.models import DORMANT_SEVERITY, Alert, Commitment, StageDefinition, StageTransition
from tests.factories import CommitmentFactory, ProjectFactory
from tests.finance_projects.admin_forms import post_project_change

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)

DUE_SOON, MISSED, OVERRUN = "commitment_due_soon", "commitment_missed", "stage_overrun"
KINDS = [DUE_SOON, MISSED, OVERRUN]
COMMITMENT_KINDS = [DUE_SOON, MISSED]

# Where each scan stores the severity of its open alerts.
MIRRORS = {
    DUE_SOON: (Commitment, "due_soon_alert_severity"),
    MISSED: (Commitment, "missed_alert_severity"),
    OVERRUN: (StageTransition, "overrun_alert_severity"),
}

NOTHING = ScanResult(opened=0, kept=0, resolved=0)
KEPT_ONE = ScanResult(opened=0, kept=1, resolved=0)
OPENED_ONE = ScanResult(opened=1, kept=0, resolved=0)
RESOLVED_ONE = ScanResult(opened=0, kept=0, resolved=1)


def open_alerts(kind):
    return Alert.objects.filter(kind=kind, resolved_at__isnull=True)


def open_severities(kind):
    return dict(open_alerts(kind).values_list("subject_id", "severity"))


def stored_severities(kind):
    """The stored values that stand for an open alert, by subject."""
    model, column = MIRRORS[kind]
    return dict(model.objects.exclude(**{f"{column}__in": ["", DORMANT_SEVERITY]}).values_list("pk", column))


def stored(kind, subject):
    column = MIRRORS[kind][1]
    subject.refresh_from_db(fields=[column])
    return getattr(subject, column)


def scan(kind, at=NOW):
    return scans.SCAN_REGISTRY[kind](at=at)  # the scan alone, not `run_scan`'s note of the run


def scan_all(kinds=KINDS, at=NOW):
    return {kind: scan(kind, at) for kind in kinds}


def in_stage_since(project, days):
    """The project's current stay, entered `days` before NOW (inquiry expects 14 days)."""
    entered = NOW - timedelta(days=days)
    project.stage_entered_at = entered
    project.save(update_fields=["stage_entered_at"])
    StageTransition.objects.filter(project=project).update(entered_at=entered)
    return StageTransition.objects.get(project=project, left_at__isnull=True)


def warned(kind, project):
    """A subject of `project` whose rule gives a warning at NOW and for hours after."""
    if kind == DUE_SOON:
        return CommitmentFactory(project=project, due_at=NOW + timedelta(hours=10))
    if kind == MISSED:
        return CommitmentFactory(project=project, kind="document", due_at=NOW - timedelta(days=1))
    return in_stage_since(project, days=20)


def with_the_other_severity(kind, project):
    """A second subject whose rule gives the kind's other severity at NOW and for hours after."""
    if kind == DUE_SOON:
        return CommitmentFactory(project=project, due_at=NOW + timedelta(hours=40))
    if kind == MISSED:
        return CommitmentFactory(project=project, kind="schedule", due_at=NOW - timedelta(days=1))
    return in_stage_since(ProjectFactory(client=project.client), days=30)


OTHER_SEVERITY = {DUE_SOON: "info", MISSED: "critical", OVERRUN: "critical"}


# --- a beat where nothing changed ----------------------------------------------------------


@pytest.mark.parametrize(
    "later", [timedelta(0), timedelta(minutes=5)], ids=["same_moment", "5_minutes_later"]
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_run_that_changes_nothing_reads_only_the_stored_severities(
    project, kind, later, django_assert_num_queries, quiet_beat_queries
):
    warned(kind, project)
    with_the_other_severity(kind, project)
    assert scan(kind) == ScanResult(opened=2, kept=0, resolved=0)
    before = list(Alert.objects.order_by("id").values())

    with django_assert_num_queries(quiet_beat_queries):
        result = scan(kind, NOW + later)

    assert result == ScanResult(opened=0, kept=2, resolved=0)
    assert sorted(open_severities(kind).values()) == sorted(["warning", OTHER_SEVERITY[kind]])
    assert stored_severities(kind) == open_severities(kind)
    assert list(Alert.objects.order_by("id").values()) == before


@pytest.mark.parametrize("status", ["on_hold", "closed"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_subject_of_a_project_that_does_not_run_is_read_once_and_then_left_alone(
    project, kind, status, django_assert_num_queries, quiet_beat_queries
):
    project.status = status
    project.save()
    subject = warned(kind, project)
    raises = kind != OVERRUN and status == "on_hold"  # promises still stand while on hold
    assert scan(kind) == (OPENED_ONE if raises else NOTHING)

    with django_assert_num_queries(quiet_beat_queries):
        result = scan(kind, NOW + timedelta(minutes=5))

    assert result == (KEPT_ONE if raises else NOTHING)
    assert stored(kind, subject) == ("warning" if raises else DORMANT_SEVERITY)


# --- due soon ------------------------------------------------------------------------------


def test_a_due_soon_alert_turns_warning_in_the_window_last_half_and_its_stored_severity_follows(project):
    commitment = CommitmentFactory(project=project, due_at=NOW + timedelta(hours=30))
    assert scan(DUE_SOON) == OPENED_ONE
    assert (open_alerts(DUE_SOON).get().severity, stored(DUE_SOON, commitment)) == ("info", "info")

    # Due in 24 hours: the last half of the 48-hour window.
    assert scan(DUE_SOON, NOW + timedelta(hours=6)) == KEPT_ONE

    assert (open_alerts(DUE_SOON).get().severity, stored(DUE_SOON, commitment)) == ("warning", "warning")


def test_a_due_soon_commitment_that_becomes_past_due_trades_its_due_soon_alert_for_a_missed_one(project):
    commitment = CommitmentFactory(project=project, kind="document", due_at=NOW + timedelta(hours=10))
    scan_all([DUE_SOON, MISSED])
    past_due = NOW + timedelta(hours=11)

    assert scan_all([DUE_SOON, MISSED], at=past_due) == {DUE_SOON: RESOLVED_ONE, MISSED: OPENED_ONE}
    assert (stored(DUE_SOON, commitment), stored(MISSED, commitment)) == ("", "warning")
    assert open_severities(MISSED) == {commitment.pk: "warning"}
    assert not open_alerts(DUE_SOON).exists()


@pytest.mark.parametrize(
    ("hours", "result", "severities"),
    [
        (4, ScanResult(opened=0, kept=0, resolved=2), {}),
        (16, ScanResult(opened=0, kept=1, resolved=1), {"10 hours": "info"}),
        (30, ScanResult(opened=0, kept=1, resolved=1), {"10 hours": "warning"}),
        (
            96,
            ScanResult(opened=1, kept=2, resolved=0),
            {"10 hours": "warning", "40 hours": "warning", "60 hours": "info"},
        ),
    ],
    ids=["narrowed_below_both", "narrowed_so_a_warning_is_info", "narrowed_between", "widened"],
)
def test_changing_the_due_soon_window_moves_its_alerts_on_the_next_beat(
    project, settings, hours, result, severities
):
    for due_in in (10, 40, 60):
        CommitmentFactory(project=project, title=f"{due_in} hours", due_at=NOW + timedelta(hours=due_in))
    assert scan(DUE_SOON).opened == 2

    settings.CEM = {**settings.CEM, "COMMITMENT_DUE_SOON_HOURS": hours}

    assert scan(DUE_SOON) == result
    titles = dict(Commitment.objects.values_list("pk", "title"))
    assert {titles[pk]: severity for pk, severity in open_severities(DUE_SOON).items()} == severities
    assert stored_severities(DUE_SOON) == open_severities(DUE_SOON)


# --- missed --------------------------------------------------------------------------------


def test_changing_the_kind_of_a_missed_commitment_changes_its_alert_severity(project, owner):
    commitment = CommitmentFactory(project=project, kind="other", due_at=NOW - timedelta(days=1))
    scan(MISSED)
    alert = open_alerts(MISSED).get()
    assert stored(MISSED, commitment) == "warning"

    services.commitment_update(commitment=commitment, by=owner, kind="schedule")
    assert scan(MISSED) == KEPT_ONE
    assert (open_alerts(MISSED).get().severity, stored(MISSED, commitment)) == ("critical", "critical")

    services.commitment_update(commitment=commitment, by=owner, kind="other")
    assert scan(MISSED) == KEPT_ONE
    assert (open_alerts(MISSED).get().severity, stored(MISSED, commitment)) == ("warning", "warning")
    assert open_alerts(MISSED).get().pk == alert.pk


# --- renames -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", COMMITMENT_KINDS)
def test_renaming_a_commitment_rewrites_its_open_alert_message(project, owner, kind):
    commitment = warned(kind, project)
    scan(kind)

    services.commitment_update(commitment=commitment, by=owner, title="Send the signed term sheet")
    assert stored(kind, commitment) == "stale"

    assert scan(kind) == KEPT_ONE
    assert open_alerts(kind).get().message == f"{project.code} · Send the signed term sheet"
    assert stored(kind, commitment) == "warning"


@pytest.mark.parametrize(("field", "value"), [("name", "Harbour Wind Phase II"), ("code", "PF-RENAMED")])
def test_renaming_a_project_rewrites_the_messages_of_its_commitment_and_stage_alerts(project, field, value):
    subjects = {kind: warned(kind, project) for kind in KINDS}
    scan_all()

    services.project_update(project=project, **{field: value})

    assert scan_all() == {kind: KEPT_ONE for kind in KINDS}
    assert {kind: open_alerts(kind).get().message for kind in KINDS} == {
        DUE_SOON: f"{project.code} · {subjects[DUE_SOON].title}",
        MISSED: f"{project.code} · {subjects[MISSED].title}",
        OVERRUN: f"{project.code} {project.name}",
    }
    assert {kind: stored(kind, subject) for kind, subject in subjects.items()} == {
        kind: "warning" for kind in KINDS
    }


# --- the project's status ------------------------------------------------------------------


def test_a_project_on_hold_has_its_stage_alert_resolved_until_it_runs_again_and_keeps_its_promise_alerts(
    project,
):
    subjects = {kind: warned(kind, project) for kind in KINDS}
    scan_all()
    alert_ids = {kind: open_alerts(kind).get().pk for kind in COMMITMENT_KINDS}

    services.project_update(project=project, status="on_hold")

    # Overrun counts for active projects only; the promises of a project on hold still stand.
    assert scan_all() == {DUE_SOON: KEPT_ONE, MISSED: KEPT_ONE, OVERRUN: RESOLVED_ONE}
    assert {kind: stored(kind, subject) for kind, subject in subjects.items()} == {
        DUE_SOON: "warning",
        MISSED: "warning",
        OVERRUN: DORMANT_SEVERITY,
    }
    assert {kind: open_alerts(kind).get().pk for kind in COMMITMENT_KINDS} == alert_ids

    services.project_update(project=project, status="active")
    assert scan_all() == {DUE_SOON: KEPT_ONE, MISSED: KEPT_ONE, OVERRUN: OPENED_ONE}
    assert stored(OVERRUN, subjects[OVERRUN]) == "warning"


def test_closing_a_project_resolves_its_alerts_and_reopening_it_raises_new_ones(project):
    subjects = {kind: warned(kind, project) for kind in KINDS}
    scan_all()
    old_ids = set(Alert.objects.values_list("pk", flat=True))

    services.project_update(project=project, status="closed")
    assert scan_all() == {kind: RESOLVED_ONE for kind in KINDS}
    # Past their deadlines, but the project does not run: no alert until it runs again.
    assert {kind: stored(kind, subject) for kind, subject in subjects.items()} == {
        kind: DORMANT_SEVERITY for kind in KINDS
    }

    services.project_update(project=project, status="active")
    assert scan_all() == {kind: OPENED_ONE for kind in KINDS}
    assert {kind: stored(kind, subject) for kind, subject in subjects.items()} == {
        kind: "warning" for kind in KINDS
    }
    assert old_ids.isdisjoint(Alert.objects.filter(resolved_at__isnull=True).values_list("pk", flat=True))


def test_closing_a_project_through_the_closed_stage_resolves_its_alerts(project, manager):
    subjects = {kind: warned(kind, project) for kind in KINDS}
    scan_all()

    closing = services.project_move_stage(
        project=project, to_stage="closed", moved_by=manager, override=True, note="Repaid early", at=NOW
    )

    assert scan_all() == {kind: RESOLVED_ONE for kind in KINDS}
    # The stay it left stands for nothing; its open promises wait dormant.
    assert {kind: stored(kind, subject) for kind, subject in subjects.items()} == {
        DUE_SOON: DORMANT_SEVERITY,
        MISSED: DORMANT_SEVERITY,
        OVERRUN: "",
    }
    assert stored(OVERRUN, closing) == ""


# --- stages --------------------------------------------------------------------------------


def test_moving_the_project_to_its_next_stage_resolves_the_overrun_and_clears_its_stored_severity(
    project, owner, django_assert_num_queries, quiet_beat_queries
):
    stay = warned(OVERRUN, project)
    scan(OVERRUN)

    next_stay = services.project_move_stage(project=project, to_stage="term_sheet", moved_by=owner, at=NOW)

    assert scan(OVERRUN) == RESOLVED_ONE
    assert (stored(OVERRUN, stay), stored(OVERRUN, next_stay)) == ("", "")
    with django_assert_num_queries(quiet_beat_queries):
        assert scan(OVERRUN, NOW + timedelta(minutes=5)) == NOTHING


@pytest.mark.parametrize(
    ("days_in_stage", "expected_days", "before", "after", "result"),
    [
        (20, 30, "warning", "", RESOLVED_ONE),
        (30, 40, "critical", "", RESOLVED_ONE),
        (30, 20, "critical", "warning", KEPT_ONE),
        (20, 9, "warning", "critical", KEPT_ONE),
        (10, 7, "", "warning", OPENED_ONE),
    ],
    ids=[
        "raised_past_a_late_stay",
        "raised_past_a_very_late_stay",
        "raised_halfway",
        "lowered",
        "lowered_below",
    ],
)
def test_changing_a_stage_expected_days_moves_its_overrun_alerts_on_the_next_beat(
    project, days_in_stage, expected_days, before, after, result
):
    stay = in_stage_since(project, days=days_in_stage)
    scan(OVERRUN)
    assert (open_severities(OVERRUN).get(stay.pk, ""), stored(OVERRUN, stay)) == (before, before)

    definition = StageDefinition.objects.get(stage="inquiry")
    definition.expected_days = expected_days
    definition.save()  # as the admin's list edit does

    assert scan(OVERRUN) == result
    assert (open_severities(OVERRUN).get(stay.pk, ""), stored(OVERRUN, stay)) == (after, after)


# --- saves of rows read before a scan ------------------------------------------------------


def reword(kind, read_before, save, owner):
    if save == "service":
        services.commitment_update(commitment=read_before, by=owner, description="Chased the valuer twice.")
    elif kind == OVERRUN:
        read_before.note = "Waiting on the sponsor's board."
        read_before.save()
    else:
        read_before.description = "Chased the valuer twice."
        read_before.save()


@pytest.mark.parametrize(
    ("kind", "save"),
    [(DUE_SOON, "service"), (DUE_SOON, "save"), (MISSED, "service"), (MISSED, "save"), (OVERRUN, "save")],
)
def test_a_subject_read_before_a_scan_and_saved_after_it_keeps_the_scan_severity(
    project, owner, kind, save, django_assert_num_queries, quiet_beat_queries
):
    subject = warned(kind, project)
    read_before = type(subject).objects.get(pk=subject.pk)
    scan(kind)

    reword(kind, read_before, save, owner)

    assert stored(kind, subject) == "warning"
    with django_assert_num_queries(quiet_beat_queries):
        assert scan(kind) == KEPT_ONE


# --- stored severities out of step ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_stored_severities_out_of_step_with_the_alerts_are_rewritten(project, kind):
    subject = warned(kind, project)
    scan(kind)
    model, column = MIRRORS[kind]
    model.objects.update(**{column: ""})  # as before the severities were stored

    assert scan(kind) == KEPT_ONE
    assert stored(kind, subject) == "warning"
    assert open_alerts(kind).count() == 1


# --- closing a commitment ------------------------------------------------------------------


def close(commitment, how, owner):
    if how == "fulfil":
        services.commitment_fulfil(commitment=commitment, by=owner, at=NOW)
    else:
        services.commitment_cancel(commitment=commitment, reason="The client withdrew the request", by=owner)


@pytest.mark.parametrize("how", ["fulfil", "cancel"])
@pytest.mark.parametrize("kind", COMMITMENT_KINDS)
def test_closing_a_commitment_resolves_its_alert_and_clears_its_stored_severity(project, owner, kind, how):
    commitment = warned(kind, project)
    scan(kind)

    with time_machine.travel(NOW, tick=False):
        close(commitment, how, owner)

    assert scan(kind) == RESOLVED_ONE
    assert stored(kind, commitment) == ""
    assert stored_severities(kind) == {}


@pytest.mark.parametrize(
    ("new_due", "due_soon"),
    [(timedelta(days=10), NOTHING), (timedelta(hours=10), OPENED_ONE)],
    ids=["beyond_the_window", "within_the_window"],
)
def test_renegotiating_a_missed_commitment_resolves_its_alert_and_the_successor_is_not_missed(
    project, owner, new_due, due_soon
):
    commitment = warned(MISSED, project)
    scan(MISSED)

    with time_machine.travel(NOW, tick=False):
        successor = services.commitment_renegotiate(
            commitment=commitment, new_due_at=NOW + new_due, reason="Waiting on the appraisal", by=owner
        )

    assert scan_all([MISSED, DUE_SOON]) == {MISSED: RESOLVED_ONE, DUE_SOON: due_soon}
    assert stored(MISSED, commitment) == ""
    assert stored(MISSED, successor) == ""
    assert stored_severities(MISSED) == open_severities(MISSED) == {}
    assert stored_severities(DUE_SOON) == open_severities(DUE_SOON)


# --- the back office -----------------------------------------------------------------------


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_change(staff, project, **changes):
    """Post the project's admin change form with `changes` (the inlines are read-only)."""
    response = post_project_change(staff, project, **changes)
    assert response.status_code == 302, response.content
    project.refresh_from_db()


def test_renaming_a_project_in_the_admin_rewrites_the_messages_of_its_alerts(staff, project):
    subjects = {kind: warned(kind, project) for kind in KINDS}
    scan_all()

    admin_change(staff, project, code="PF-RENAMED", name="Harbour Wind Phase II")

    assert (project.code, project.name) == ("PF-RENAMED", "Harbour Wind Phase II")
    assert scan_all() == {kind: KEPT_ONE for kind in KINDS}
    assert {kind: open_alerts(kind).get().message for kind in KINDS} == {
        DUE_SOON: f"PF-RENAMED · {subjects[DUE_SOON].title}",
        MISSED: f"PF-RENAMED · {subjects[MISSED].title}",
        OVERRUN: "PF-RENAMED Harbour Wind Phase II",
    }


def test_closing_a_project_in_the_admin_resolves_its_alerts(staff, project):
    for kind in KINDS:
        warned(kind, project)
    scan_all()

    admin_change(staff, project, status="closed")

    assert project.status == "closed"
    assert scan_all() == {kind: RESOLVED_ONE for kind in KINDS}
    assert {kind: stored_severities(kind) for kind in KINDS} == {kind: {} for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_an_alerted_subject_cannot_be_deleted_in_the_admin(staff, project, kind):
    # A deleted subject falls out of every change range: its alert would stay open for good.
    subject = warned(kind, project)
    scan(kind)
    model = type(subject)._meta.model_name

    response = staff.post(
        reverse(f"admin:finance_projects_{model}_delete", args=[subject.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert type(subject).objects.filter(pk=subject.pk).exists()
    assert scan(kind) == KEPT_ONE
    assert stored_severities(kind) == open_severities(kind)
