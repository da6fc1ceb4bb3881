"""A service that changes a project or commitment while a beat is writing, on PostgreSQL: the next
beats still leave exactly the alerts the rule lists (the service waits for the beat's lock)."""

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from finance_projects import scans, services
from finance_projects.models import Alert, Commitment, FinancingProject
from tests.factories import ClientFactory, CommitmentFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The beat has read the rule into its temporary table and not yet written its verdict.
MID_BEAT = "CREATE TEMPORARY TABLE alert_sync_target"


@contextmanager
def service_during_beat(service):
    """Start `service` in another connection once the beat is mid-way; let the beat go on while
    the service waits (or finishes), then wait for the service."""
    errors, threads = [], []

    def run():
        try:
            service()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if MID_BEAT in sql and not threads:
            threads.append(threading.Thread(target=run))
            threads[0].start()
            time.sleep(0.3)  # long enough to reach the lock, or to commit without it
        return result

    with connection.execute_wrapper(wrapper):
        yield
    assert threads, "the beat never reached its write"
    threads[0].join(timeout=30)
    assert errors == []


def missed_alerts(commitment):
    return list(
        Alert.objects.filter(
            kind="commitment_missed", subject_id=commitment.pk, resolved_at__isnull=True
        ).values_list("severity", "message")
    )


def listed(commitment, at):
    sql, params = scans.commitment_missed_candidates(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT severity, message FROM ({sql}) AS c WHERE c.subject_id = %s", [*params, commitment.pk]
        )
        return list(cursor.fetchall())


def beats_after(now):
    for minutes in (5, 10):
        scans.run_scan("commitment_missed", at=now + timedelta(minutes=minutes))
    return now + timedelta(minutes=10)


@pytest.mark.parametrize(
    "status_before, status_during",
    [("lost", "active"), ("active", "lost")],
    ids=["reopened", "lost"],
)
def test_a_project_status_changed_mid_beat_is_seen_by_the_next_beat(status_before, status_during):
    now = timezone.now()
    project = ProjectFactory(client=ClientFactory(), status=status_before)
    commitment = CommitmentFactory(project=project, due_at=now - timedelta(days=1))

    def change_status():
        services.project_update(project=FinancingProject.objects.get(pk=project.pk), status=status_during)

    with service_during_beat(change_status):
        scans.run_scan("commitment_missed", at=now)
    last = beats_after(now)

    assert missed_alerts(commitment) == listed(commitment, last)


def test_a_project_closed_while_a_beat_rewrites_its_renamed_alerts_is_seen_by_the_next_beat():
    now = timezone.now()
    project = ProjectFactory(client=ClientFactory(), status="active")
    commitment = CommitmentFactory(project=project, due_at=now - timedelta(days=1))
    scans.run_scan("commitment_missed", at=now)
    services.project_update(project=FinancingProject.objects.get(pk=project.pk), name="Renamed")

    def close():
        services.project_update(project=FinancingProject.objects.get(pk=project.pk), status="lost")

    with service_during_beat(close):
        scans.run_scan("commitment_missed", at=now + timedelta(minutes=1))
    last = beats_after(now)

    assert missed_alerts(commitment) == listed(commitment, last) == []


def test_a_commitment_renamed_mid_beat_has_its_alert_rewritten():
    now = timezone.now()
    project = ProjectFactory(client=ClientFactory(), status="active")
    commitment = CommitmentFactory(project=project, due_at=now - timedelta(days=1), title="Old title")

    def retitle():
        services.commitment_update(
            commitment=Commitment.objects.get(pk=commitment.pk),
            by=project.relationship_manager,
            title="New title",
        )

    with service_during_beat(retitle):
        scans.run_scan("commitment_missed", at=now)
    last = beats_after(now)

    assert missed_alerts(commitment) == listed(commitment, last)
    assert "New title" in missed_alerts(commitment)[0][1]


def test_the_missed_beat_waits_for_a_due_soon_beat_writing_the_same_commitments():
    """Both beats write the commitments that just fell due, each in its own row order: run side
    by side they could deadlock, so the second waits for the first."""
    now = timezone.now()
    project = ProjectFactory(client=ClientFactory(), status="active")
    commitments = CommitmentFactory.create_batch(3, project=project, due_at=now + timedelta(hours=1))
    scans.run_scan("commitment_due_soon", at=now)
    later = now + timedelta(hours=2)  # every commitment has fallen due: both beats rewrite all three
    finished = {}

    def missed_beat():
        scans.run_scan("commitment_missed", at=later)
        finished["missed"] = time.monotonic()

    with service_during_beat(missed_beat):
        scans.run_scan("commitment_due_soon", at=later)
        finished["due_soon"] = time.monotonic()

    assert finished["due_soon"] < finished["missed"]
    stored = Commitment.objects.filter(pk__in=[c.pk for c in commitments])
    assert set(stored.values_list("due_soon_alert_severity", "missed_alert_severity")) == {("", "warning")}
