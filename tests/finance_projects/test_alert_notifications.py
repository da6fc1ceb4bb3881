"""Critical-alert e-mails and escalations: batched per recipient, claimed once, never twice."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import Role
from finance_projects import notifications, scans, tasks
from finance_projects.models import Alert, AlertKind
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ContactFactory,
    ProjectFactory,
    UserFactory,
)
from tests.finance_projects.alert_engine import sync_project_alert

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def critical(project, **kwargs):
    return AlertFactory(project=project, severity="critical", opened_at=NOW - timedelta(hours=1), **kwargs)


def test_three_critical_alerts_for_one_manager_make_one_email_and_a_rerun_sends_none(
    project, owner, settings
):
    settings.SITE_URL = "https://cem.bank.example"
    alerts = [critical(project, message=f"PF · promise {n}") for n in range(3)]

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert notifications.notify_critical_alerts(at=NOW + timedelta(minutes=5)) == 0

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "3" in message.subject
    for n in range(3):
        assert f"PF · promise {n}" in message.body
    assert "https://cem.bank.example/" in message.body
    assert "https://cem.bank.example/" in message.alternatives[0][0]
    assert all(alert.notified_at is None for alert in alerts)  # in memory, unchanged
    assert set(Alert.objects.values_list("notified_at", flat=True)) == {NOW}


def test_each_recipient_gets_their_own_message(project, owner, manager):
    critical(project)
    critical(project, assignee=manager)

    assert notifications.notify_critical_alerts(at=NOW) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, manager.email])


def test_warnings_acknowledged_resolved_and_snoozed_alerts_are_not_emailed(project):
    AlertFactory(project=project, severity="warning")
    critical(project, acknowledged_at=NOW)
    critical(project, resolved_at=NOW)
    snoozed = critical(project, snoozed_until=NOW + timedelta(hours=2))

    assert notifications.notify_critical_alerts(at=NOW) == 0
    assert notifications.notify_critical_alerts(at=NOW + timedelta(hours=3)) == 1
    snoozed.refresh_from_db()
    assert snoozed.notified_at == NOW + timedelta(hours=3)


def test_the_email_is_in_the_recipients_language(project, owner):
    owner.language = "zh-hans"
    owner.save()
    critical(project, kind="commitment_missed")
    with translation.override("zh-hans"):
        label = str(AlertKind.COMMITMENT_MISSED.label)

    notifications.notify_critical_alerts(at=NOW)

    message = mail.outbox[0]
    assert label != "Commitment missed"
    assert label in message.body
    assert "critical alert" not in message.subject
    assert 'lang="zh-hans"' in message.alternatives[0][0]
    assert "2025-03-10 09:00" in message.body  # opened 01:00 UTC, shown in Asia/Shanghai


def test_a_recipient_whose_mail_fails_is_retried_next_run_and_the_others_are_sent(
    project, owner, manager, monkeypatch
):
    critical(project)
    critical(project, assignee=manager)
    real_send = notifications.EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to == [manager.email]:
            raise ConnectionRefusedError("mail relay down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", send)
    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert Alert.objects.get(assignee=manager).notified_at is None

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", real_send)
    assert notifications.notify_critical_alerts(at=NOW + timedelta(minutes=5)) == 1
    assert [m.to for m in mail.outbox] == [[owner.email], [manager.email]]


def test_an_alert_unacknowledged_24_hours_after_turning_critical_is_escalated_to_the_team_manager_once(
    project, manager
):
    alert = critical(project, critical_since=NOW - timedelta(hours=24))
    fresh = critical(project, critical_since=NOW - timedelta(hours=1))

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 1
    assert notifications.escalate_unacknowledged_alerts(at=NOW + timedelta(hours=1)) == 0

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager.email]
    assert alert.message in mail.outbox[0].body
    fresh.refresh_from_db()
    assert fresh.escalated_at is None


def test_the_escalation_window_follows_the_setting(project, manager, settings):
    settings.CEM = {**settings.CEM, "ALERT_ESCALATION_HOURS": 2}
    critical(project, critical_since=NOW - timedelta(hours=2))

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 1


def test_an_old_warning_that_turns_critical_gives_its_owner_the_full_window_before_escalation(
    project, owner, manager
):
    sync_project_alert(project, "warning", NOW - timedelta(days=10))
    sync_project_alert(project, "critical", NOW)

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 0
    assert notifications.escalate_unacknowledged_alerts(at=NOW + timedelta(hours=23)) == 0
    assert notifications.escalate_unacknowledged_alerts(at=NOW + timedelta(hours=24)) == 1
    assert [m.to for m in mail.outbox] == [[owner.email], [manager.email]]


def test_a_snoozed_critical_alert_still_escalates_when_nobody_acknowledged_it(project, manager):
    critical(project, critical_since=NOW - timedelta(days=2), snoozed_until=NOW + timedelta(days=5))

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 1


def test_an_acknowledged_alert_is_not_escalated(project, manager, owner):
    critical(
        project,
        critical_since=NOW - timedelta(days=3),
        acknowledged_at=NOW - timedelta(hours=20),
        acknowledged_by=owner,
    )

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 0


def test_alerts_of_a_team_without_a_manager_are_not_claimed_for_escalation(db):
    lone = UserFactory(username="lone-rm", team__name="No manager team", role=Role.RELATIONSHIP_MANAGER)
    project = ProjectFactory(client=ClientFactory(relationship_manager=lone))
    alert = critical(project, critical_since=NOW - timedelta(days=2))

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 0
    alert.refresh_from_db()
    assert alert.escalated_at is None


def test_the_scan_task_raises_alerts_and_emails_the_critical_ones(project, owner, eager_celery):
    CommitmentFactory(project=project, kind="schedule", due_at=timezone.now() - timedelta(hours=3))

    results = tasks.run_all_scans.delay().get()

    assert results["commitment_missed"] == [1, None, 0]  # the beat does not count kept alerts
    assert Alert.objects.get(kind="commitment_missed").notified_at is not None
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert tasks.run_scan.delay("commitment_missed").get() == [0, 1, 0]


def test_the_scan_beat_leaves_out_scans_that_have_a_beat_entry_of_their_own(project, eager_celery):
    ContactFactory(client=project.client)  # never surveyed: the relationship scan would invite them

    results = tasks.run_all_scans.delay().get()

    assert {"update_overdue", "commitment_due_soon", "commitment_missed", "stage_overrun"} <= set(results)
    assert "relationship_surveys" not in results  # its own daily entry, which the admin may switch off
    assert "complaint_ack_overdue" not in results  # the complaints' own SLA beat
    assert not project.survey_invitations.exists()
    assert "relationship_surveys" in scans.SCAN_REGISTRY  # `run_scans` still runs it by hand


def test_the_run_scans_command_prints_each_scans_counts_and_sends_the_emails(project, owner, capsys):
    CommitmentFactory(project=project, kind="pricing", due_at=timezone.now() - timedelta(hours=3))

    call_command("run_scans")

    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("commitment_missed"))
    assert line.split()[1:4] == ["1", "0", "0"]
    assert "update_overdue" in out and "stage_overrun" in out
    assert len(mail.outbox) == 1


def test_the_run_scans_command_refuses_an_unknown_scan(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_scans", scan=["no_such_scan"])


def test_migrate_creates_the_beat_entry_for_the_scans(db, settings):
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(task="finance_projects.run_all_scans")
    assert entry.interval.every == settings.SCAN_INTERVAL_SECONDS


def test_a_recipient_with_an_unknown_time_zone_still_gets_their_critical_alerts(project, owner):
    owner.time_zone = "Mars/Olympus_Mons"
    owner.save()
    critical(project)

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_an_alert_critical_again_after_a_warning_spell_is_not_emailed_twice(project, owner):
    sync_project_alert(project, "critical", NOW)
    assert notifications.notify_critical_alerts(at=NOW) == 1
    sync_project_alert(project, "warning", NOW + timedelta(hours=1))
    assert Alert.objects.get().critical_since is None
    sync_project_alert(project, "critical", NOW + timedelta(hours=2))
    assert Alert.objects.get().critical_since == NOW + timedelta(hours=2)

    assert notifications.notify_critical_alerts(at=NOW + timedelta(hours=2)) == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("unreachable", [{"is_active": False}, {"email": ""}])
def test_an_alert_whose_owner_cannot_be_emailed_waits_unclaimed_for_someone_who_can_be(
    project, owner, manager, unreachable
):
    alert = critical(project, assignee=owner)
    for name, value in unreachable.items():
        setattr(owner, name, value)
    owner.save()

    assert notifications.notify_critical_alerts(at=NOW) == 0
    alert.refresh_from_db()
    assert alert.notified_at is None

    Alert.objects.filter(pk=alert.pk).update(assignee=manager)
    assert notifications.notify_critical_alerts(at=NOW + timedelta(minutes=5)) == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_an_escalation_waits_for_a_manager_who_can_be_emailed(project, manager):
    critical(project, critical_since=NOW - timedelta(hours=25))
    manager.is_active = False
    manager.save()

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 0
    assert Alert.objects.get().escalated_at is None

    manager.is_active = True
    manager.save()
    assert notifications.escalate_unacknowledged_alerts(at=NOW + timedelta(minutes=5)) == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_an_alert_whose_owner_cannot_be_emailed_is_still_escalated(project, manager, monkeypatch):
    critical(project, critical_since=NOW - timedelta(hours=25))
    real_send = notifications.EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to != [manager.email]:
            raise ConnectionRefusedError("the owner's mailbox is down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", send)
    assert notifications.notify_critical_alerts(at=NOW) == 0
    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]


@pytest.fixture
def legal_colleague(project):
    """Department staff who see the project through the commitment they own on it."""
    colleague = UserFactory(username="legal", role=Role.DEPARTMENT)
    CommitmentFactory(project=project, owner=colleague)
    return colleague


def test_an_alert_is_emailed_to_an_assignee_who_sees_the_project(project, legal_colleague):
    critical(project, assignee=legal_colleague)

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[legal_colleague.email]]


def test_an_assignee_who_lost_sight_of_the_project_is_not_emailed_its_relationship_manager_is(
    project, owner, legal_colleague
):
    critical(project, assignee=legal_colleague, message="PF · schedule slipped")
    project.commitments.update(owner=UserFactory(role=Role.DEPARTMENT))  # handed on: no longer theirs

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "PF · schedule slipped" in mail.outbox[0].body


def test_a_manager_moved_to_lead_another_team_is_not_emailed_the_old_teams_alerts(
    project, owner, manager, team, other_team
):
    critical(project, assignee=manager)
    team.manager, other_team.manager = None, manager
    team.save()
    other_team.save()
    manager.team = other_team
    manager.save()

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_an_inactive_assignees_alert_goes_to_the_relationship_manager(project, owner, legal_colleague):
    critical(project, assignee=legal_colleague)
    legal_colleague.is_active = False
    legal_colleague.save()

    assert notifications.notify_critical_alerts(at=NOW) == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_an_alert_nobody_who_sees_it_can_be_told_of_waits_unclaimed(project, owner, legal_colleague):
    alert = critical(project, assignee=legal_colleague)
    project.commitments.update(owner=UserFactory(role=Role.DEPARTMENT))
    owner.email = ""
    owner.save()

    assert notifications.notify_critical_alerts(at=NOW) == 0
    assert mail.outbox == []
    alert.refresh_from_db()
    assert alert.notified_at is None

    owner.email = "owner@bank.example"
    owner.save()
    assert notifications.notify_critical_alerts(at=NOW + timedelta(minutes=5)) == 1
    assert [m.to for m in mail.outbox] == [["owner@bank.example"]]


@pytest.mark.parametrize("alerts_per_assignee", [1, 20])
def test_finding_who_still_sees_the_alerts_costs_a_portfolio_check_per_assignee_not_per_alert(
    project, owner, manager, legal_colleague, django_assert_num_queries, alerts_per_assignee
):
    for assignee in (manager, legal_colleague, None):
        for _ in range(alerts_per_assignee):
            critical(project, assignee=assignee)

    # The claim (in its savepoint: 3), the load, the manager's teams and portfolio, the
    # colleague's portfolio, the relationship manager's (for the unassigned alerts).
    with django_assert_num_queries(8):
        assert notifications.notify_critical_alerts(at=NOW) == 3  # owner, manager, colleague


def test_a_relationship_manager_who_no_longer_sees_the_project_is_not_emailed_it_waits(project, other_team):
    alert = critical(project, assignee=None)
    moved = UserFactory(username="moved", role=Role.MANAGER, team=other_team)
    project.relationship_manager = moved  # now leads another team, whose projects are all they see
    project.save()

    assert notifications.notify_critical_alerts(at=NOW) == 0
    assert mail.outbox == []
    alert.refresh_from_db()
    assert alert.notified_at is None
