"""The core schema can be taken down and rebuilt, and its data migrations restore what they should."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from finance_projects.models import Stage, StageDefinition

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def test_the_models_and_the_migrations_agree(db):
    call_command("makemigrations", "finance_projects", "--check", "--dry-run", verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_finance_projects_migrates_to_zero_and_back():
    call_command("migrate", "finance_projects", "zero", verbosity=0)

    assert "finance_projects_financingproject" not in connection.introspection.table_names()
    assert (
        MigrationExecutor(connection)
        .loader.applied_migrations.keys()
        .isdisjoint({("finance_projects", "0001_initial")})
    )

    call_command("migrate", verbosity=0)

    assert "finance_projects_financingproject" in connection.introspection.table_names()
    assert set(StageDefinition.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert not MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )


def _client_before(migration):
    """The schema as of `migration`, with a team, an RM and a client in it."""
    executor = MigrationExecutor(connection)
    executor.migrate(migration)
    old = executor.loader.project_state(migration).apps
    team = old.get_model("accounts", "Team").objects.create(name="Energy")
    rm = old.get_model("accounts", "User").objects.create(username="rm-before", team=team)
    client = old.get_model("finance_projects", "Client").objects.create(
        name="Harbour Wind", team=team, relationship_manager=rm
    )
    return old, team, rm, client


@pytest.mark.django_db(transaction=True)
def test_an_update_alert_open_before_the_stored_severities_is_copied_to_its_project():
    before, after = (
        [("finance_projects", "0005_alert_scan_write_indexes")],
        [("finance_projects", "0006_project_update_alert_severity")],
    )
    old, team, rm, client = _client_before(before)
    projects = [
        old.get_model("finance_projects", "FinancingProject").objects.create(
            client=client, name=f"Phase {n}", code=f"HW-{n}", amount=1, team=team, relationship_manager=rm
        )
        for n in range(3)
    ]
    alert = old.get_model("finance_projects", "Alert")
    alert.objects.create(
        kind="update_overdue",
        severity="critical",
        project=projects[0],
        subject_type="project",
        subject_id=projects[0].pk,
        message="HW-0 Phase 0",
        last_seen_at=NOW,
    )
    alert.objects.create(
        kind="update_overdue",
        severity="warning",
        project=projects[1],
        subject_type="project",
        subject_id=projects[1].pk,
        message="HW-1 Phase 1",
        last_seen_at=NOW,
        resolved_at=NOW,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("finance_projects", "FinancingProject")

    assert dict(new.objects.values_list("code", "update_alert_severity")) == {
        "HW-0": "critical",
        "HW-1": "",
        "HW-2": "",
    }
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_open_commitment_and_stage_alerts_are_copied_to_their_subjects_and_orphans_resolved():
    before, after = (
        [("finance_projects", "0007_alert_open_index_covers_severity_message")],
        [("finance_projects", "0008_scan_alert_severities")],
    )
    old, team, rm, client = _client_before(before)
    project = old.get_model("finance_projects", "FinancingProject").objects.create(
        client=client, name="Phase 1", code="HW-1", amount=1, team=team, relationship_manager=rm
    )
    commitment = old.get_model("finance_projects", "Commitment")
    due_soon, missed, _quiet = (
        commitment.objects.create(project=project, title=title, owner=rm, due_at=NOW)
        for title in ("due soon", "missed", "quiet")
    )
    transition = old.get_model("finance_projects", "StageTransition")
    left = transition.objects.create(project=project, stage="inquiry", entered_at=NOW, left_at=NOW)
    current = transition.objects.create(project=project, stage="term_sheet", entered_at=NOW)
    alert = old.get_model("finance_projects", "Alert")
    for kind, severity, subject_type, subject, resolved_at in [
        ("commitment_due_soon", "info", "commitment", due_soon, None),
        ("commitment_missed", "critical", "commitment", missed, None),
        ("stage_overrun", "warning", "stage_transition", current, None),
        # Resolved alerts stand for nothing: not copied.
        ("commitment_missed", "warning", "commitment", due_soon, NOW),
        ("stage_overrun", "critical", "stage_transition", left, NOW),
    ]:
        alert.objects.create(
            kind=kind,
            severity=severity,
            project=project,
            subject_type=subject_type,
            subject_id=subject.pk,
            message="HW-1",
            last_seen_at=NOW,
            resolved_at=resolved_at,
        )
    # About a commitment deleted since: no scan would look at it again.
    orphan = alert.objects.create(
        kind="commitment_missed",
        severity="warning",
        project=project,
        subject_type="commitment",
        subject_id=max(due_soon.pk, missed.pk, _quiet.pk) + 1000,
        message="HW-1",
        last_seen_at=NOW,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    assert new.get_model("finance_projects", "Alert").objects.get(pk=orphan.pk).resolved_at is not None
    commitments = new.get_model("finance_projects", "Commitment").objects
    transitions = new.get_model("finance_projects", "StageTransition").objects

    assert {
        title: (due_soon_severity, missed_severity)
        for title, due_soon_severity, missed_severity in commitments.values_list(
            "title", "due_soon_alert_severity", "missed_alert_severity"
        )
    } == {"due soon": ("info", ""), "missed": ("", "critical"), "quiet": ("", "")}
    assert dict(transitions.values_list("stage", "overrun_alert_severity")) == {
        "inquiry": "",
        "term_sheet": "warning",
    }
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_department_typed_freely_before_becomes_its_owners():
    before, after = (
        [("finance_projects", "0014_project_amount_fits_fifteen_digits")],
        [("finance_projects", "0015_commitment_department_is_one_of_the_banks")],
    )
    old, team, rm, client = _client_before(before)
    lawyer = old.get_model("accounts", "User").objects.create(
        username="lawyer", team=team, department="legal"
    )
    project = old.get_model("finance_projects", "FinancingProject").objects.create(
        client=client, name="Phase 1", code="HW-1", amount=1, team=team, relationship_manager=rm
    )
    commitment = old.get_model("finance_projects", "Commitment")
    for title, department in [("typed", "marketing"), ("chosen", "risk"), ("none", "")]:
        commitment.objects.create(
            project=project, title=title, due_at=NOW, owner=lawyer, department=department
        )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("finance_projects", "Commitment")

    assert dict(new.objects.values_list("title", "department")) == {
        "typed": "legal",
        "chosen": "risk",
        "none": "",
    }
    call_command("migrate", verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_holding_new_amounts_to_fifteen_digits_alters_no_column():
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration("finance_projects", "0014_project_amount_fits_fifteen_digits")

    before = executor.loader.project_state(("finance_projects", "0013_note_length_limits"))
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        migration.apply(before, editor, collect_sql=True)

    assert [sql for sql in editor.collected_sql if not sql.startswith("--")] == []
