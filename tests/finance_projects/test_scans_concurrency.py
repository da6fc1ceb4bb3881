"""Two workers at once, on PostgreSQL: no duplicate alert, no error, no e-mail sent twice."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from finance_projects import notifications, scans
from finance_projects.models import Alert, Commitment, StageDefinition
from tests.factories import AlertFactory, CommitmentFactory, ProjectFactory
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def in_two_threads(work):
    """Run `work()` in two threads released together; the results, or the first error."""
    results, errors = at_once(work)
    assert errors == []
    return results


def portfolio(size):
    # A transactional test starts from flushed tables: the stage definitions are gone too.
    StageDefinition.objects.get_or_create(
        stage="inquiry", defaults={"expected_days": 14, "purpose_zh": "询价", "purpose_en": "Inquiry"}
    )
    for n in range(size):
        project = ProjectFactory(stage="inquiry", stage_entered_at=NOW - timedelta(days=20 + n))
        project.next_update_due_at = NOW - timedelta(days=1 + n)
        project.save()
        CommitmentFactory(project=project, kind="schedule", due_at=NOW - timedelta(hours=1 + n))
        CommitmentFactory(project=project, due_at=NOW + timedelta(hours=1 + n))


@pytest.mark.parametrize(
    "name", ["update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"]
)
def test_two_workers_running_the_same_scan_raise_exactly_one_alert_per_subject(name):
    portfolio(25)

    for round_ in range(3):
        results = in_two_threads(lambda: scans.run_scan(name, at=NOW))
        if round_ == 0:
            assert sum(result.opened for result in results) == 25

    per_subject = Alert.objects.filter(kind=name, resolved_at__isnull=True).values_list(
        "subject_id", flat=True
    )
    assert len(per_subject) == len(set(per_subject)) == 25


def test_two_workers_resolving_at_once_resolve_each_alert_once():
    portfolio(10)
    scans.run_scan("commitment_missed", at=NOW)
    Commitment.objects.filter(due_at__lt=NOW).update(due_at=NOW + timedelta(days=30))

    results = in_two_threads(lambda: scans.run_scan("commitment_missed", at=NOW))

    assert sum(result.resolved for result in results) == 10
    assert not Alert.objects.filter(kind="commitment_missed", resolved_at__isnull=True).exists()


def test_two_workers_notifying_at_once_send_each_manager_one_email(owner, manager, project):
    for assignee in (owner, owner, manager):  # the team's manager sees every project of the team
        AlertFactory(project=project, severity="critical", assignee=assignee)

    results = in_two_threads(lambda: notifications.notify_critical_alerts(at=NOW))

    assert sum(results) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, manager.email])


def test_two_workers_escalating_at_once_escalate_once(manager, project):
    alert = AlertFactory(project=project, severity="critical")
    Alert.objects.filter(pk=alert.pk).update(critical_since=NOW - timedelta(days=2))

    results = in_two_threads(lambda: notifications.escalate_unacknowledged_alerts(at=NOW))

    assert sorted(results) == [0, 1]
    assert [m.to for m in mail.outbox] == [[manager.email]]
