"""A real Celery worker consuming from Redis runs the scan task against the database."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from finance_projects import tasks
from finance_projects.models import Alert
from tests.factories import CommitmentFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_worker_consuming_from_redis_runs_the_scans_and_the_alert_appears(project, settings):
    from celery.contrib.testing.worker import start_worker

    from cem.celery import app

    assert app.conf.broker_url.startswith("redis://")
    commitment = CommitmentFactory(
        project=project, kind="schedule", due_at=timezone.now() - timedelta(hours=2)
    )

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        tasks.run_all_scans.delay()
        appeared = wait_for(
            lambda: Alert.objects.filter(
                kind="commitment_missed", subject_id=commitment.pk, notified_at__isnull=False
            ).exists()
        )

    assert appeared, "the worker did not raise and notify the missed-commitment alert"
    alert = Alert.objects.get(kind="commitment_missed", subject_id=commitment.pk)
    assert (alert.severity, alert.assignee_id) == ("critical", project.relationship_manager_id)
