"""A scan run that rewrites many stored severities vacuums their table once it has committed
(PostgreSQL), so the next beat does not pay for the dead row versions it left."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from finance_projects import scans
from finance_projects.models import FinancingProject
from tests.factories import ProjectFactory

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
PROJECTS = FinancingProject._meta.db_table


def overdue_projects(count):
    ProjectFactory.create_batch(count, next_update_due_at=NOW - timedelta(days=1))


def manual_vacuums_and_analyzes(table):
    """How often the table was vacuumed and analyzed by hand (autovacuum is counted apart)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table]
        )
        return cursor.fetchone()


@pytest.fixture
def vacuum_after(settings):
    def set_rows(rows):
        settings.CEM = {**settings.CEM, "SCAN_VACUUM_AFTER_ROWS": rows}

    return set_rows


@pytest.mark.django_db(transaction=True)
def test_a_run_rewriting_as_many_stored_severities_as_the_threshold_vacuums_and_analyzes_their_table(
    vacuum_after,
):
    overdue_projects(3)
    vacuum_after(3)
    vacuums, analyzes = manual_vacuums_and_analyzes(PROJECTS)

    assert scans.run_scan("update_overdue", at=NOW).opened == 3

    assert manual_vacuums_and_analyzes(PROJECTS) == (vacuums + 1, analyzes + 1)


@pytest.mark.django_db(transaction=True)
def test_a_run_rewriting_fewer_stored_severities_than_the_threshold_leaves_vacuuming_to_autovacuum(
    vacuum_after,
):
    overdue_projects(3)
    vacuum_after(4)
    before = manual_vacuums_and_analyzes(PROJECTS)

    assert scans.run_scan("update_overdue", at=NOW).opened == 3
    assert scans.run_scan("update_overdue", at=NOW).opened == 0  # a beat rewriting nothing

    assert manual_vacuums_and_analyzes(PROJECTS) == before


@pytest.mark.django_db
def test_a_bulk_run_inside_a_transaction_commits_its_alerts_without_vacuuming(vacuum_after):
    overdue_projects(3)
    vacuum_after(1)
    before = manual_vacuums_and_analyzes(PROJECTS)

    with transaction.atomic():
        assert scans.run_scan("update_overdue", at=NOW).opened == 3

    assert scans.run_scan("update_overdue", at=NOW).kept == 3
    assert manual_vacuums_and_analyzes(PROJECTS) == before
