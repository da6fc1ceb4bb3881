"""The home page lists the recovery actions handed to the user and not done yet, soonest due
first, whatever their role (an RM, a team's manager, department staff): each links to its
complaint's page, names the project, says what to do and by when, and says in words when it is
overdue. Done actions and other people's leave the list; none at all shows no list. One query
reads the list, however long it is."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services
from tests.factories import ComplaintFactory, ProjectFactory, RecoveryActionFactory, ensure_sla_policies

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _setting(settings, time_machine):
    settings.LANGUAGE_CODE = "en"
    time_machine.move_to(NOW, tick=False)
    ensure_sla_policies()


@pytest.fixture
def complaint(project):
    return ComplaintFactory(project=project, received_at=NOW - timedelta(days=5))


def action_for(complaint, owner, *, due_in: timedelta, description: str, **fields):
    return RecoveryActionFactory(
        complaint=complaint, owner=owner, due_at=NOW + due_in, description=description, **fields
    )


def section(body: str) -> str:
    found = re.search(r'<section[^>]*id="my-recovery-actions".*?</section>', body, re.S)
    return found.group(0) if found else ""


def rows(body: str) -> list[str]:
    return re.findall(r'<li class="recovery-action-item.*?</li>', section(body), re.S)


def home(browser, user, language="en") -> str:
    response = browser(user).get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_owners_open_actions_are_listed_soonest_first_with_a_link_to_the_complaint(
    browser, department_user, complaint, project
):
    later = action_for(complaint, department_user, due_in=timedelta(days=3), description="Write to the CFO.")
    sooner = action_for(complaint, department_user, due_in=timedelta(hours=5), description="Call the CFO.")

    listed = rows(home(browser, department_user))

    assert len(listed) == 2
    assert sooner.description in listed[0] and later.description in listed[1]
    link = reverse("complaints:detail", args=[complaint.pk])
    assert f'<a href="{link}">{complaint.reference}</a>' in listed[0]
    assert project.name in listed[0] and project.code in listed[0]
    assert "Apology: Call the CFO." in listed[0]
    assert "due 2026-03-10 14:00" in listed[0]  # in the owner's zone, Asia/Shanghai
    assert "Overdue" not in listed[0]
    assert 'id="recovery-actions-title">My recovery actions <span class="count">2</span>' in section(
        home(browser, department_user)
    )


def test_the_due_date_reads_in_the_owners_time_zone(browser, department_user, complaint):
    department_user.time_zone = "Europe/London"
    department_user.save()
    action_for(complaint, department_user, due_in=timedelta(hours=5), description="Call the CFO.")

    (row,) = rows(home(browser, department_user))

    assert "due 2026-03-10 06:00" in row


def test_a_done_action_leaves_the_list_and_an_empty_list_shows_nothing(browser, manager, complaint):
    action = action_for(complaint, manager, due_in=timedelta(days=1), description="Call the CFO.")
    assert len(rows(home(browser, manager))) == 1

    services.recovery_action_complete(action=action, by=manager)

    body = home(browser, manager)
    assert section(body) == ""
    assert "My recovery actions" not in body


def test_other_peoples_actions_are_not_listed(browser, owner, manager, department_user, complaint):
    action_for(complaint, department_user, due_in=timedelta(days=1), description="Check the covenant.")
    mine = action_for(complaint, owner, due_in=timedelta(days=2), description="Call the CFO.")

    (row,) = rows(home(browser, owner))
    assert mine.description in row
    assert section(home(browser, manager)) == ""


def test_an_overdue_action_says_so_in_words(browser, owner, complaint):
    action_for(complaint, owner, due_in=-timedelta(days=2), description="Call the CFO.")
    action_for(complaint, owner, due_in=timedelta(days=2), description="Write to the CFO.")

    late, on_time = rows(home(browser, owner))

    assert '<span class="badge late">Overdue</span>' in late
    assert 'data-state="overdue"' in late
    assert '<span class="late">was due 2026-03-08 09:00</span>' in late
    assert "Overdue" not in on_time and "was due" not in on_time


def test_the_list_reads_in_chinese_for_a_chinese_reader(browser, owner, complaint):
    action_for(complaint, owner, due_in=-timedelta(days=2), description="致电客户财务总监致歉。")

    body = home(browser, owner, language="zh-hans")

    assert "我的补救措施" in section(body)
    (row,) = rows(body)
    assert '<span class="badge late">已逾期</span>' in row
    assert "原定 2026-03-08 09:00 到期" in row
    assert "致歉：致电客户财务总监致歉。" in row


def test_the_owner_opens_the_complaint_from_the_home_page(browser, department_user, complaint):
    action_for(complaint, department_user, due_in=timedelta(days=1), description="Check the covenant.")
    page = browser(department_user)

    link = re.search(r'<a href="([^"]+)">' + re.escape(complaint.reference), page.get("/").content.decode())

    opened = page.get(link.group(1), HTTP_ACCEPT_LANGUAGE="en")
    assert opened.status_code == 200
    assert "Check the covenant." in opened.content.decode()


def _home_queries(browser, user) -> int:
    page = browser(user)
    page.get("/")  # the first request's one-off reads out of the way
    with CaptureQueriesContext(connection) as queries:
        assert page.get("/").status_code == 200
    return len(queries)


def test_the_list_reads_in_one_query_however_many_actions_there_are(browser, owner, project):
    def add(count):
        for i in range(count):
            other = ComplaintFactory(project=ProjectFactory(client=project.client))
            action_for(other, owner, due_in=timedelta(hours=i - 3), description=f"Call {i}.")

    add(1)
    with_one = _home_queries(browser, owner)
    add(20)

    assert len(rows(home(browser, owner))) == 21
    assert _home_queries(browser, owner) == with_one


def test_an_action_of_a_closed_complaint_leaves_the_list(browser, department_user, complaint):
    action_for(
        complaint, department_user, due_in=timedelta(days=-1), description="Send the revised schedule."
    )
    type(complaint).objects.filter(pk=complaint.pk).update(
        status="closed",
        acknowledged_at=NOW - timedelta(days=4),
        resolved_at=NOW,
        closed_at=NOW,
        client_confirmed=True,
    )

    assert rows(home(browser, department_user)) == []
