from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from digests import tasks
from digests.models import DigestRun, DigestStatus
from digests.selectors import CLAIM_LEASE, MAX_ATTEMPTS
from digests.services import digest_runs_plan, digest_send
from digests.weeks import IsoWeek
from tests.factories import DigestPreferenceFactory, DigestRunFactory, TeamFactory, UserFactory

from .conftest import REPORT_MOMENT, W10, at, digests_in_outbox

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after this line runs."""


class DiesAfter(EmailBackend):
    """Delivers `limit` messages, then the process dies (or SMTP fails) on the next one."""

    limit = 0
    error: type[BaseException] = WorkerKilled

    def send_messages(self, messages):
        if len(mail.outbox) >= DiesAfter.limit:
            raise DiesAfter.error("connection lost")
        return super().send_messages(messages)


@pytest.fixture
def managers(clock):
    clock.move_to(REPORT_MOMENT)
    people = []
    for n in range(5):
        team = TeamFactory(name=f"Project finance {n}")
        manager = UserFactory(username=f"manager{n}", role=Role.MANAGER, team=team)
        team.manager = manager
        team.save()
        people.append(manager)
    return people


def sent_to() -> list[str]:
    return sorted(message.to[0] for message in digests_in_outbox())


def test_running_twice_sends_one_email_per_manager(managers):
    call_command("send_digests")
    call_command("send_digests")
    assert sent_to() == sorted(m.email for m in managers)
    assert DigestRun.objects.filter(status=DigestStatus.SENT, iso_year=2025, iso_week=10).count() == 5


def test_a_worker_killed_mid_run_never_sends_a_second_copy_and_nobody_gets_none(managers, clock, settings):
    settings.EMAIL_BACKEND = "tests.digests.test_sending.DiesAfter"
    DiesAfter.limit, DiesAfter.error = 2, WorkerKilled
    with pytest.raises(WorkerKilled):
        call_command("send_digests")
    assert len(digests_in_outbox()) == 2
    stuck = DigestRun.objects.get(status=DigestStatus.SENDING)

    DiesAfter.limit = 100
    call_command("send_digests")  # the others go out; the dead worker's claim is still live
    assert len(digests_in_outbox()) == 4
    assert DigestRun.objects.get(pk=stuck.pk).status == DigestStatus.SENDING

    clock.move_to(REPORT_MOMENT + CLAIM_LEASE + timedelta(seconds=1))
    call_command("send_digests")
    call_command("send_digests")
    assert sent_to() == sorted(m.email for m in managers)
    assert DigestRun.objects.get(pk=stuck.pk).attempts == 2


def test_the_redelivered_task_of_a_killed_worker_takes_over_its_claim_at_once(managers):
    run = DigestRunFactory(recipient=managers[0])
    tasks.send_digest.apply(args=[run.pk], throw=True)  # a first delivery that is sent
    stuck = DigestRunFactory(recipient=managers[1], status=DigestStatus.SENDING, claimed_at=timezone.now())

    fresh = tasks.send_digest.apply(args=[stuck.pk], throw=True).result
    tasks.send_digest.push_request(delivery_info={"redelivered": True})
    try:
        redelivered = tasks.send_digest.run(stuck.pk)
    finally:
        tasks.send_digest.pop_request()

    assert fresh is None  # a live claim held by another worker is left alone
    assert redelivered == DigestStatus.SENT
    assert sent_to() == sorted(m.email for m in managers[:2])


def test_a_failed_send_is_recorded_and_retried_by_the_next_run(managers, settings):
    settings.EMAIL_BACKEND = "tests.digests.test_sending.DiesAfter"
    DiesAfter.limit, DiesAfter.error = 3, ConnectionRefusedError
    call_command("send_digests")
    failed = DigestRun.objects.filter(status=DigestStatus.FAILED)
    assert failed.count() == 2
    assert all("ConnectionRefusedError: connection lost" in run.error for run in failed)

    DiesAfter.limit = 100
    call_command("send_digests")
    assert sent_to() == sorted(m.email for m in managers)
    assert not DigestRun.objects.exclude(status=DigestStatus.SENT).exists()


def test_a_run_that_keeps_failing_stops_after_the_last_attempt(managers):
    run = DigestRunFactory(recipient=managers[0], status=DigestStatus.FAILED, attempts=MAX_ATTEMPTS)
    assert digest_send(run_id=run.pk) is None
    assert digests_in_outbox() == []


def test_two_workers_given_the_same_run_send_it_once(managers):
    run = DigestRunFactory(recipient=managers[0])
    assert digest_send(run_id=run.pk) == DigestStatus.SENT
    assert digest_send(run_id=run.pk) is None
    assert len(digests_in_outbox()) == 1


def test_a_manager_who_switched_the_digest_off_gets_none(managers):
    DigestPreferenceFactory(user=managers[0], enabled=False)
    call_command("send_digests")
    assert managers[0].email not in sent_to()
    assert len(sent_to()) == 4


def test_a_manager_who_switches_off_after_planning_is_skipped(managers):
    digest_runs_plan()
    DigestPreferenceFactory(user=managers[0], enabled=False)
    call_command("send_digests")
    assert DigestRun.objects.get(recipient=managers[0]).status == DigestStatus.SKIPPED
    assert managers[0].email not in sent_to()


def test_a_relationship_manager_gets_a_digest_only_after_opting_in(managers, owner, teammate):
    DigestPreferenceFactory(user=owner, enabled=True)
    call_command("send_digests")
    assert owner.email in sent_to()
    assert teammate.email not in sent_to()


def test_the_email_has_a_text_and_an_html_part_and_one_click_unsubscribe(week10, manager):
    call_command("send_digests")
    (message,) = [m for m in digests_in_outbox() if m.to == [manager.email]]
    assert message.subject.startswith("Weekly digest 2025-W10")
    assert "Promises kept" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "<table" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"].startswith(f"<digest-{manager.pk}-2025-W10@")


def test_the_digest_is_written_in_the_recipients_language(week10, manager, other_manager):
    other_manager.language = "zh-hans"
    other_manager.save()
    DigestPreferenceFactory(user=manager, language="zh-hans")
    manager.language = "en"
    manager.save()
    call_command("send_digests")
    messages = {m.to[0]: m for m in digests_in_outbox()}
    for user in (manager, other_manager):
        assert messages[user.email].subject.startswith("每周简报 2025-W10")
        assert "承诺兑现率" in messages[user.email].body
    assert DigestRun.objects.get(recipient=manager).language == "zh-hans"


def test_an_english_preference_overrides_a_chinese_profile(week10, manager):
    manager.language = "zh-hans"
    manager.save()
    DigestPreferenceFactory(user=manager, language="en")
    call_command("send_digests")
    (message,) = [m for m in digests_in_outbox() if m.to == [manager.email]]
    assert message.subject.startswith("Weekly digest 2025-W10")


def test_each_time_zone_gets_its_digest_at_its_own_monday_0800(managers, clock):
    new_yorker = managers[0]
    new_yorker.time_zone = "America/New_York"
    new_yorker.save()
    clock.move_to(at(2025, 3, 10, 7, 59))
    assert digest_runs_plan() == [IsoWeek(2025, 9)]
    assert not DigestRun.objects.filter(iso_week=10).exists()
    clock.move_to(at(2025, 3, 10, 8, 0))
    assert digest_runs_plan() == [IsoWeek(2025, 9), IsoWeek(2025, 10)]
    shanghai = {m.pk for m in managers[1:]}
    assert set(DigestRun.objects.filter(iso_week=10).values_list("recipient", flat=True)) == shanghai
    clock.move_to(at(2025, 3, 10, 19, 59))  # 07:59 in New York
    digest_runs_plan()
    assert not DigestRun.objects.filter(recipient=new_yorker, iso_week=10).exists()
    clock.move_to(at(2025, 3, 10, 20, 0))  # 08:00 in New York (summer time since Sunday)
    digest_runs_plan()
    assert DigestRun.objects.filter(recipient=new_yorker, iso_week=10).exists()


def test_a_missed_beat_catches_up_later_in_the_week(managers, clock):
    clock.move_to(at(2025, 3, 13, 15))  # Thursday: the Monday beats never ran
    assert tasks.plan_weekly_digests() == 5
    assert DigestRun.objects.filter(iso_week=10).count() == 5


def test_two_beats_planning_at_once_create_one_run_per_manager(managers):
    digest_runs_plan()
    digest_runs_plan()
    assert DigestRun.objects.filter(iso_week=10).count() == 5


def test_a_past_week_can_be_sent_on_request(managers):
    call_command("send_digests", week="2025-W07")
    assert sorted(m.subject[:22] for m in digests_in_outbox()) == ["Weekly digest 2025-W07"] * 5
    assert W10 not in {IsoWeek(r.iso_year, r.iso_week) for r in DigestRun.objects.all()}
