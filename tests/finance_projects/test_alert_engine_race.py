"""The alert engines on PostgreSQL when another run holds the same alerts uncommitted: the
generic one (commitment_missed) retries after losing the race on the unique index, the one
for stored severities (update_overdue) waits its turn; both keep the first run's alerts."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from finance_projects import scans
from finance_projects.alerts import ScanResult
from finance_projects.models import Alert, FinancingProject
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


def test_a_client_update_committed_while_a_beat_writes_is_caught_by_the_next_beat(monkeypatch):
    from django.db.backends.utils import CursorWrapper

    overdue_projects(1)
    project = FinancingProject.objects.get()
    execute = CursorWrapper.execute

    def update_logged_meanwhile(self, sql, params=None):
        result = execute(self, sql, params)
        if sql.lstrip().startswith("INSERT INTO") and "alert_sync_target" in sql:
            worker = threading.Thread(target=log_update)  # another session, committed at once
            worker.start()
            worker.join()
        return result

    def log_update():
        FinancingProject.objects.filter(pk=project.pk).update(next_update_due_at=NOW + timedelta(days=10))
        connection.close()

    monkeypatch.setattr(CursorWrapper, "execute", update_logged_meanwhile)
    first = scans.run_scan("update_overdue", at=NOW)
    monkeypatch.setattr(CursorWrapper, "execute", execute)

    assert first == ScanResult(opened=1, kept=0, resolved=0)
    assert scans.run_scan("update_overdue", at=NOW) == ScanResult(opened=0, kept=0, resolved=1)
    project.refresh_from_db()
    assert project.update_alert_severity == ""
