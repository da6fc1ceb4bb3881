"""The CI-sized worker-kill check from scripts/chaos.py: a real Celery worker consuming from
Redis is SIGKILLed while the scans run, restarted, and afterwards every missed commitment has
exactly one alert and a synchronous scan finds nothing left to open."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from finance_projects import scans, tasks
from finance_projects.models import Alert
from tests.factories import CommitmentFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
MISSED = 20


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def worker_env() -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": "4",  # a killed worker's task comes back after 4 s
    }


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "cem", "worker", "-c", "2", "-l", "error"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)


def test_a_worker_killed_mid_scan_leaves_no_alert_missing_or_duplicated(owner):
    broker = redis.Redis.from_url(settings.REDIS_URL)
    for _ in range(MISSED):
        project = ProjectFactory(relationship_manager=owner, client__relationship_manager=owner)
        CommitmentFactory(project=project, due_at=timezone.now() - timedelta(days=2))
    worker = start_worker()
    try:
        for _ in range(6):
            tasks.run_all_scans.delay()
        time.sleep(1.5)
        stop(worker, signal.SIGKILL)
        worker = start_worker()

        recovered = wait_for(
            lambda: (
                broker.llen("celery") == 0
                and broker.hlen("unacked") == 0
                and Alert.objects.filter(kind="commitment_missed").count() >= MISSED
            ),
            45,
        )
    finally:
        stop(worker)

    assert recovered, "the queue did not drain after the worker was killed and restarted"
    duplicated = (
        Alert.objects.filter(resolved_at__isnull=True)
        .values("kind", "subject_type", "subject_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(duplicated) == []
    assert Alert.objects.filter(kind="commitment_missed").count() == MISSED
    assert {name: result[0] for name, result in scans.run_all().items() if result[0]} == {}
