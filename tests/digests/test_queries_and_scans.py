import threading
from datetime import timedelta

import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask

from digests import scans
from digests.models import ClientHealthSnapshot, DigestRun, DigestStatus
from digests.selectors import build_digest
from digests.services import digest_send
from finance_projects.scans import SCAN_REGISTRY
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ComplaintFactory,
    DigestRunFactory,
    ProjectFactory,
    TouchpointFactory,
)

from .conftest import REPORT_MOMENT, W10, at

pytestmark = pytest.mark.django_db

QUERIES_PER_DIGEST = 19
QUERIES_PER_SEND = QUERIES_PER_DIGEST + 3  # claim, load the run, record the outcome


def grow_portfolio(owner, clock, *, projects: int):
    clock.move_to(at(2025, 3, 1))
    for n in range(projects):
        client = ClientFactory(relationship_manager=owner, team=owner.team, name=f"Grown client {n}")
        project = ProjectFactory(client=client, health=90 - n)
        TouchpointFactory(project=project, occurred_at=at(2025, 3, 4))
        CommitmentFactory(project=project, due_at=at(2025, 3, 5))
        CommitmentFactory(project=project, due_at=at(2025, 3, 11))
        AlertFactory(project=project, severity="critical")
        ComplaintFactory(project=project, received_at=at(2025, 3, 1))
    clock.move_to(REPORT_MOMENT)


@pytest.mark.parametrize("projects", [1, 12])
def test_a_digest_costs_the_same_number_of_queries_whatever_the_portfolio_size(
    projects, clock, manager, owner, django_assert_max_num_queries
):
    grow_portfolio(owner, clock, projects=projects)
    with django_assert_max_num_queries(QUERIES_PER_DIGEST):
        digest = build_digest(recipient=manager, week=W10)
    assert digest.due_commitment_count == projects
    run = DigestRunFactory(recipient=manager)
    with django_assert_max_num_queries(QUERIES_PER_SEND):
        assert digest_send(run_id=run.pk) == DigestStatus.SENT


def test_the_health_snapshot_records_each_clients_mean_score_once_a_week(clock, owner):
    clock.move_to(at(2025, 3, 3, 0, 30))
    client = ClientFactory(relationship_manager=owner, team=owner.team)
    ProjectFactory(client=client, health=80)
    ProjectFactory(client=client, health=61)
    ProjectFactory(client=client, health=10, status="closed")  # history, not scored
    ClientFactory(relationship_manager=owner, team=owner.team)  # no scored project: no snapshot
    assert scans.snapshot_client_health().kept == 1
    snapshot = ClientHealthSnapshot.objects.get()
    assert (snapshot.iso_year, snapshot.iso_week, snapshot.health, snapshot.project_count) == (
        2025,
        10,
        71,
        2,
    )


def test_a_second_snapshot_run_in_the_same_week_changes_nothing(clock, owner):
    clock.move_to(at(2025, 3, 3, 0, 30))
    project = ProjectFactory(client=ClientFactory(relationship_manager=owner, team=owner.team), health=80)
    scans.snapshot_client_health()
    project.health = 20
    project.save(update_fields=["health"])
    clock.move_to(at(2025, 3, 9, 23, 59))
    assert scans.snapshot_client_health().kept == 0
    assert ClientHealthSnapshot.objects.get().health == 80
    clock.move_to(at(2025, 3, 10, 0, 1))  # a new week in Shanghai
    scans.snapshot_client_health()
    assert list(ClientHealthSnapshot.objects.order_by("iso_week").values_list("health", flat=True)) == [
        80,
        20,
    ]


def test_the_snapshot_runs_with_every_scan_and_the_digest_plan_runs_hourly(db):
    assert SCAN_REGISTRY["client_health_snapshot"] is scans.snapshot_client_health
    beat = PeriodicTask.objects.get(task="digests.plan_weekly_digests")
    assert (beat.crontab.minute, beat.crontab.hour, beat.crontab.day_of_week) == ("0", "*", "*")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claiming_one_run_send_it_once(manager):
    run = DigestRunFactory(recipient=manager)
    results, barrier = [], threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(digest_send(run_id=run.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [None, None, None, DigestStatus.SENT]
    assert DigestRun.objects.get(pk=run.pk).attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lease_taken_over_twice_at_once_is_taken_once(manager):
    from django.utils import timezone

    stale = timezone.now() - timedelta(hours=1)
    run = DigestRunFactory(recipient=manager, status=DigestStatus.SENDING, claimed_at=stale, attempts=1)
    results, barrier = [], threading.Barrier(3)

    def worker():
        try:
            barrier.wait()
            results.append(digest_send(run_id=run.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(DigestStatus.SENT) == 1
    assert DigestRun.objects.get(pk=run.pk).attempts == 2
