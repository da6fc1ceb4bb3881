"""The complaint page gives a recovery action's due time with its date, in the reader's time zone
(as the owner's e-mail and home page do), and its timeline tells adding an action from carrying
it out, in either language, from the events as they were stored."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import ComplaintEvent, EventKind

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 4, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WHAT = "Call the CFO to apologise for the silence."


@pytest.fixture
def action(acknowledged, manager):
    return services.recovery_action_add(
        complaint=acknowledged, kind="apology", description=WHAT, owner=manager, due_at=DUE, by=manager
    )


def page(client, user, complaint, language="en") -> str:
    client.force_login(user)
    response = client.get(reverse("complaints:detail", args=[complaint.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def actions_list(body: str) -> str:
    return re.search(r'<ul class="stack" id="recovery-actions">.*?</ul>', body, re.S).group(0)


def timeline_headlines(body: str) -> list[str]:
    timeline = re.search(r'<ol class="stack" id="timeline">.*?</ol>', body, re.S).group(0)
    return re.findall(r"<li><strong>(.*?)</strong>", timeline)


def test_the_action_is_due_at_a_time_in_the_readers_zone(client, action, manager):
    assert "due 2026-03-04 17:00" in actions_list(page(client, manager, action.complaint))

    manager.time_zone = "Europe/London"
    manager.save(update_fields=["time_zone"])
    assert "due 2026-03-04 09:00" in actions_list(page(client, manager, action.complaint))


def test_the_timeline_tells_the_action_added_from_the_action_done(client, action, manager):
    services.recovery_action_complete(action=action, by=manager)

    headlines = timeline_headlines(page(client, manager, action.complaint))

    assert headlines[:2] == ["Recovery action done", "Recovery action"]  # newest first


def test_the_done_action_reads_distinctly_in_chinese(client, action, manager):
    services.recovery_action_complete(action=action, by=manager)

    headlines = timeline_headlines(page(client, manager, action.complaint, language="zh-hans"))

    assert headlines[:2] == ["补救措施已完成", "补救措施"]


def test_the_events_are_stored_as_before(action, manager):
    services.recovery_action_complete(action=action, by=manager)

    added, done = ComplaintEvent.objects.filter(complaint=action.complaint, kind=EventKind.ACTION)
    assert (added.summary, added.data) == (
        WHAT,
        {"action": "apology", "owner": str(manager), "action_id": action.pk},
    )
    assert (done.summary, done.data) == (WHAT, {"action": "apology", "done": True, "action_id": action.pk})
