"""The core schema can be taken down and rebuilt, and its data migration restores the stages."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from finance_projects.models import Stage, StageDefinition


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
