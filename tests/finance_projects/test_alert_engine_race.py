"""The alert engines on PostgreSQL when another run holds the same alerts uncommitted: the
generic one (commitment_missed) retries after losing the race on the unique index, the one
for stored severities (update_overdue) waits its turn; both keep the first run's alerts."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from finance_projects import scans
from finance_projects.alerts import ScanResult
from finance_projects.models import Alert
from tests.factories import CommitmentFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def overdue_projects(size):
    for n in range(size):
        project = ProjectFactory()
        project.next_update_due_at = NOW - timedelta(days=1 + n)
        project.save()


def missed_commitments(size):
    for n in range(size):
        CommitmentFactory(due_at=NOW - timedelta(days=1 + n))


def someone_waits_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize(
    ("name", "subjects"), [("commitment_missed", missed_commitments), ("update_overdue", overdue_projects)]
)
def test_a_run_that_loses_the_race_to_open_alerts_keeps_the_winners_alerts(name, subjects):
    subjects(5)
    holding, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def winner():
        try:
            with transaction.atomic():
                results["winner"] = scans.run_scan(name, at=NOW)
                holding.set()
                release.wait(timeout=20)
        except Exception as error:
            errors.append(error)
        finally:
            holding.set()
            connection.close()

    def loser():
        try:
            holding.wait(timeout=20)
            # Its comparison cannot see the winner's uncommitted alerts: it sets out to open them.
            results["loser"] = scans.run_scan(name, at=NOW)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for thread in threads:
        thread.start()
    holding.wait(timeout=20)
    for _ in range(200):  # until the loser waits on the winner's index entries or its lock
        if someone_waits_for_a_lock():
            break
        threading.Event().wait(0.05)
    else:
        pytest.fail("the second run never waited for the first one's alerts")
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert results == {
        "winner": ScanResult(opened=5, kept=0, resolved=0),
        "loser": ScanResult(opened=0, kept=5, resolved=0),
    }
    assert Alert.objects.filter(kind=name, resolved_at__isnull=True).count() == 5
