"""A run of the alert e-mails that fails after its claim gives the claim back, so the task's
retry sends every message exactly once: nothing is lost, nothing is sent twice."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import WorkerShutdown
from django.core import mail
from django.db import OperationalError, connection

from accounts.models import Role
from finance_projects import notifications
from finance_projects.models import Alert
from tests.factories import AlertFactory, ClientFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
RETRY = NOW + timedelta(minutes=5)


@dataclass
class Delivery:
    run: object  # notify_critical_alerts or escalate_unacknowledged_alerts
    column: str
    recipients: list[str]

    def claimed(self) -> list:
        return list(Alert.objects.order_by("pk").values_list(self.column, flat=True))


def critical(project, **kwargs):
    moment = NOW - timedelta(hours=25)  # critical long enough to be escalated too
    return AlertFactory(
        project=project, severity="critical", opened_at=moment, critical_since=moment, **kwargs
    )


@pytest.fixture(params=["notify", "escalate"])
def delivery(request, project, owner, manager, other_team):
    """Two critical alerts that make two messages, to two people."""
    if request.param == "notify":
        critical(project, assignee=owner)
        critical(project, assignee=manager)  # the team's manager sees every project of the team
        return Delivery(notifications.notify_critical_alerts, "notified_at", [owner.email, manager.email])
    other_manager = UserFactory(username="other_manager", role=Role.MANAGER, team=other_team)
    other_team.manager = other_manager
    other_team.save()
    other_project = ProjectFactory(client=ClientFactory(relationship_manager=UserFactory(team=other_team)))
    critical(project)
    critical(other_project)
    return Delivery(
        notifications.escalate_unacknowledged_alerts, "escalated_at", [manager.email, other_manager.email]
    )


class DatabaseBlip:
    """An execute wrapper that fails the next query, once, after it is armed."""

    def __init__(self):
        self.armed = False

    def __call__(self, execute, sql, params, many, context):
        if self.armed:
            self.armed = False
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def assert_the_retry_sends_each_message_exactly_once(delivery, *, already_sent: int = 0):
    assert delivery.run(at=RETRY) == len(delivery.recipients) - already_sent
    assert delivery.run(at=RETRY + timedelta(minutes=5)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(delivery.recipients)
    assert None not in delivery.claimed()


def test_a_database_blip_while_loading_the_claimed_alerts_releases_them_for_the_retry(delivery, monkeypatch):
    real_load = notifications._load
    calls = []

    def load(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_load(ids)

    monkeypatch.setattr(notifications, "_load", load)

    with pytest.raises(OperationalError):
        delivery.run(at=NOW)

    assert len(calls[0]) == 2  # both alerts had been claimed
    assert delivery.claimed() == [None, None]
    assert mail.outbox == []
    assert_the_retry_sends_each_message_exactly_once(delivery)


def test_a_database_blip_while_batching_the_claimed_alerts_releases_them_for_the_retry(delivery, monkeypatch):
    real_load = notifications._load
    blip = DatabaseBlip()
    calls = []

    def load_without_relations(ids):
        """The alerts come back without their related rows, so batching them has to query."""
        alerts = real_load(ids)
        calls.append(ids)
        if len(calls) == 1:
            for alert in alerts:
                alert._state.fields_cache.pop("assignee", None)
                alert._state.fields_cache.pop("project", None)
            blip.armed = True
        return alerts

    monkeypatch.setattr(notifications, "_load", load_without_relations)

    with connection.execute_wrapper(blip), pytest.raises(OperationalError):
        delivery.run(at=NOW)

    assert not blip.armed  # the blip hit the batching
    assert delivery.claimed() == [None, None]
    assert mail.outbox == []
    assert_the_retry_sends_each_message_exactly_once(delivery)


def test_a_failed_send_whose_release_hits_a_database_blip_is_still_released_and_the_sent_one_is_not_resent(
    delivery, monkeypatch
):
    real_send = notifications.EmailMultiAlternatives.send
    real_release = notifications._release
    attempts = []

    def send(message, *args, **kwargs):
        attempts.append(message.to[0])
        if len(attempts) == 2:
            raise ConnectionRefusedError("mail relay down")
        return real_send(message, *args, **kwargs)

    def release(column, ids, at):
        if len(attempts) == 2 and not getattr(release, "failed", False):
            release.failed = True
            raise OperationalError("server closed the connection unexpectedly")
        return real_release(column, ids, at)

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", send)
    monkeypatch.setattr(notifications, "_release", release)

    with pytest.raises(OperationalError):
        delivery.run(at=NOW)

    assert [m.to[0] for m in mail.outbox] == attempts[:1]
    assert sorted(delivery.claimed(), key=str) == [NOW, None]
    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", real_send)
    assert_the_retry_sends_each_message_exactly_once(delivery, already_sent=1)


def test_a_worker_stopped_in_the_middle_of_sending_releases_only_what_it_did_not_send(delivery, monkeypatch):
    real_send = notifications.EmailMultiAlternatives.send
    attempts = []

    def send(message, *args, **kwargs):
        attempts.append(message.to[0])
        if len(attempts) == 2:
            raise WorkerShutdown()
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", send)

    with pytest.raises(WorkerShutdown):
        delivery.run(at=NOW)

    assert [m.to[0] for m in mail.outbox] == attempts[:1]
    assert_the_retry_sends_each_message_exactly_once(delivery, already_sent=1)


def test_a_failing_run_never_releases_an_alert_another_run_claimed_at_the_same_moment(delivery, monkeypatch):
    """Run A's first message fails and its alert is released; a second worker, at the very same
    moment, claims and sends it; then A is stopped. A must not undo the second worker's claim."""
    real_send = notifications.EmailMultiAlternatives.send
    attempts = []

    def send(message, *args, **kwargs):
        attempts.append(message.to[0])
        if len(attempts) == 1:
            raise ConnectionRefusedError("mail relay down")
        if message.to[0] != attempts[0] and attempts.count(message.to[0]) == 1:
            assert delivery.run(at=NOW) == 1  # the other worker, while A sends its second message
            raise WorkerShutdown()
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", send)

    with pytest.raises(WorkerShutdown):
        delivery.run(at=NOW)

    assert [m.to[0] for m in mail.outbox] == attempts[:1]  # sent by the other worker
    assert sorted(delivery.claimed(), key=str) == [NOW, None]
    assert_the_retry_sends_each_message_exactly_once(delivery, already_sent=1)
