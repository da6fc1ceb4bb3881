"""Acting on an alert in place (HTMX) keeps the list true: the count is redrawn out of band, a
row that left the list is removed, and a status line says what was done. Without HTMX the same
actions come back to the page with a message."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_projects.models import Alert
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db


def act(page, alert, action, *, alerts_list="mine:open", next_url="/", **data):
    return page.post(
        reverse("dashboard:alert-action", args=[alert.pk, action]),
        {"alerts_list": alerts_list, "next": next_url, **data},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()


def oob_count(body: str) -> int:
    match = re.search(r'<span class="count" id="alerts-count" hx-swap-oob="true">(\d+)</span>', body)
    assert match, body
    return int(match.group(1))


def oob_list(body: str) -> str:
    """The list's rows the answer swaps in (out of band) after a row left the list."""
    list_tag = r'<ul class="alert-list" id="alert-list" hx-swap-oob="true"[^>]*>'
    match = re.search(list_tag + r"(.*?)</ul>", body, re.S)
    assert match, body
    return match.group(1)


def listed_ids(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="alert-row[^"]*" id="alert-(\d+)"', body)]


def status_line(body: str) -> str:
    match = re.search(r'<p id="alerts-status" hx-swap-oob="innerHTML">(.*?)</p>', body, re.S)
    assert match, body
    return match.group(1)


def test_the_home_list_carries_the_list_name_and_a_live_status_line(browser, owner, project):
    AlertFactory(project=project)

    body = browser(owner).get("/").content.decode()

    assert '<input type="hidden" name="alerts_list" value="mine:open">' in body
    assert '<p id="alerts-status" class="alert-status small" role="status">' in body


def test_acknowledging_in_place_keeps_the_row_and_redraws_the_count(browser, owner, project):
    alert, _other = AlertFactory(project=project), AlertFactory(project=project)

    body = act(browser(owner), alert, "acknowledge")

    assert f'id="alert-{alert.pk}"' in body
    assert oob_count(body) == 2
    assert status_line(body) == f"Acknowledged the alert on {project.code}."


def test_snoozing_in_place_removes_the_row_from_my_open_alerts_and_counts_it_snoozed(browser, owner, project):
    alert, _other = AlertFactory(project=project), AlertFactory(project=project)

    body = act(browser(owner), alert, "snooze", hours=24)

    assert f'id="alert-{alert.pk}"' not in body
    assert re.findall(r'<li class="alert-row[^"]*" id="alert-(\d+)"', oob_list(body)) == [str(_other.pk)]
    assert oob_count(body) == 1
    assert '<p class="alert-links small" id="alert-links" hx-swap-oob="true">' in body
    assert ">1 snoozed</a>" in body
    assert status_line(body).startswith(f"Snoozed the alert on {project.code} until ")


def test_assigning_to_someone_else_in_place_removes_the_row_from_my_open_alerts(
    browser, owner, manager, project
):
    alert = AlertFactory(project=project)

    body = act(browser(owner), alert, "assign", assignee=manager.pk)

    assert f'id="alert-{alert.pk}"' not in body
    assert oob_count(body) == 0
    assert status_line(body) == f"Assigned the alert on {project.code} to {manager}."


def test_assigning_on_the_team_page_keeps_the_row_there(browser, manager, owner, teammate, project):
    alert = AlertFactory(project=project)

    body = act(
        browser(manager), alert, "assign", alerts_list="team:open", next_url="/team/", assignee=manager.pk
    )

    assert f'id="alert-{alert.pk}"' in body
    assert oob_count(body) == 1


def test_unsnoozing_in_place_removes_the_row_from_the_snoozed_list(browser, owner, project):
    alert = AlertFactory(project=project, snoozed_until=timezone.now() + timedelta(hours=2))

    body = act(browser(owner), alert, "unsnooze", alerts_list="mine:snoozed", next_url="/?alerts=snoozed")

    assert f'id="alert-{alert.pk}"' not in body
    assert oob_count(body) == 0  # the snoozed list is empty now
    assert status_line(body) == f"Ended the snooze: the alert on {project.code} is open again."


def test_a_refused_action_keeps_the_row_with_its_error(browser, owner, project):
    alert = AlertFactory(project=project)

    body = act(browser(owner), alert, "snooze", hours=999)

    assert f'id="alert-{alert.pk}"' in body
    assert 'role="alert"' in body
    assert oob_count(body) == 1
    assert status_line(body) == ""


def test_without_htmx_the_action_comes_back_with_a_message_and_the_fresh_count(
    browser, owner, manager, project
):
    alert, _other = AlertFactory(project=project), AlertFactory(project=project)
    page = browser(owner)

    response = page.post(
        reverse("dashboard:alert-action", args=[alert.pk, "assign"]),
        {"alerts_list": "mine:open", "next": "/", "assignee": manager.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    home = page.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert response.status_code == 302
    assert f"Assigned the alert on {project.code} to {manager}." in home
    assert 'My open alerts <span class="count" id="alerts-count">1</span>' in home
    assert f'id="alert-{alert.pk}"' not in home


def test_the_status_line_is_in_chinese_for_a_chinese_reader(browser, owner, project):
    alert = AlertFactory(project=project)

    body = (
        browser(owner)
        .post(
            reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]),
            {"alerts_list": "mine:open", "next": "/"},
            HTTP_HX_REQUEST="true",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        .content.decode()
    )

    assert f"已确认 {project.code} 的预警。" in body


def test_pages_load_no_inline_script(browser, owner, manager, project):
    AlertFactory(project=project)

    for page, path in ((browser(owner), "/"), (browser(manager), "/team/")):
        body = page.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", body)


# --- The summary line, the page links and the empty state, out of band ------------------------


def oob_block(body: str, block: str) -> str:
    """What the answer swaps into the list's `block` (`alerts-summary`, `alerts-pages`,
    `alerts-empty`), whitespace collapsed."""
    match = re.search(rf'<div id="{block}" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert match, body
    return " ".join(match.group(1).split())


def _open_alerts(project, n, **fields):
    return [AlertFactory(project=project, **fields) for _ in range(n)]


def test_snoozing_in_place_redraws_the_summary_line_and_page_links(browser, owner, project):
    alert, *_others = _open_alerts(project, 28)

    body = act(browser(owner), alert, "snooze", hours=24)

    assert oob_count(body) == 27
    assert oob_block(body, "alerts-summary") == '<p class="muted small">1–20 of 27, most urgent first</p>'
    assert "Page 1 of 2" in oob_block(body, "alerts-pages")
    assert 'href="?alerts_page=2#alerts"' in oob_block(body, "alerts-pages")
    assert oob_block(body, "alerts-empty") == ""


def test_the_summary_line_redrawn_in_place_matches_the_page_reloaded(browser, owner, project):
    alerts = _open_alerts(project, 28)
    page = browser(owner)

    for alert in alerts[:8]:
        body = act(page, alert, "snooze", hours=24)
    reloaded = page.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert oob_count(body) == 20
    # One page holds them all now: the line and the page links go, as on the page reloaded.
    assert oob_block(body, "alerts-summary") == ""
    assert oob_block(body, "alerts-pages") == ""
    assert 'My open alerts <span class="count" id="alerts-count">20</span>' in reloaded
    assert ", most urgent first" not in reloaded
    assert 'class="pagination"' not in reloaded


def test_an_action_on_a_later_page_redraws_that_page_and_keeps_the_rest_of_its_query(
    browser, manager, project
):
    alerts = _open_alerts(project, 31)

    body = act(
        browser(manager),
        alerts[-1],
        "assign",
        alerts_list="team:open",
        next_url="/team/?days=90&alerts_page=2",
        assignee=manager.pk,
    )

    assert oob_block(body, "alerts-summary") == '<p class="muted small">21–31 of 31, most urgent first</p>'
    assert 'href="?days=90&amp;alerts_page=1#alerts"' in oob_block(body, "alerts-pages")
    assert "Page 2 of 2" in oob_block(body, "alerts-pages")


def test_unsnoozing_the_last_snoozed_alert_in_place_shows_the_empty_state(browser, owner, project):
    alert = AlertFactory(project=project, snoozed_until=timezone.now() + timedelta(hours=2))

    body = act(browser(owner), alert, "unsnooze", alerts_list="mine:snoozed", next_url="/?alerts=snoozed")

    assert f'id="alert-{alert.pk}"' not in body
    assert oob_block(body, "alerts-empty") == '<p class="empty">No alert is snoozed.</p>'
    assert oob_block(body, "alerts-summary") == ""


def test_snoozing_the_last_open_alert_in_place_shows_the_empty_state(browser, owner, project):
    alert = AlertFactory(project=project)

    body = act(browser(owner), alert, "snooze", hours=24)

    assert oob_block(body, "alerts-empty") == '<p class="empty">Nothing needs your attention. Well done.</p>'


def test_the_page_draws_the_blocks_an_action_swaps(browser, owner, project):
    body = browser(owner).get("/?alerts=snoozed", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<div id="alerts-summary"></div>' in body
    assert '<div id="alerts-pages"></div>' in body
    assert '<div id="alerts-empty"><p class="empty">No alert is snoozed.</p>' in body


@pytest.mark.parametrize("size", [2, 45])
def test_an_action_in_place_takes_the_same_queries_however_many_alerts_are_open(
    browser, owner, project, size, django_assert_num_queries
):
    alert, *_others = _open_alerts(project, size)
    page = browser(owner)
    act(page, _others[0], "acknowledge")  # the first action's one-off reads out of the way

    # The session, the user, the alert, the write (read, update, history, two savepoints),
    # whether the row stays in the list, and the page of the list the form came from: its rows
    # carry the count and the snoozed count. The row left, so the page's rows are drawn again:
    # whom their assign menus offer (the user's teams and their people) and who sees which project.
    with django_assert_num_queries(13):
        act(page, alert, "snooze", hours=24)


def _listed_on(page, path: str) -> list[int]:
    return listed_ids(page.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode())


def test_a_row_leaving_a_full_page_pulls_the_next_pages_first_row_up_as_the_page_reloaded(
    browser, owner, project
):
    _open_alerts(project, 23)
    page = browser(owner)
    first, *_rest = _listed_on(page, "/")

    body = act(page, Alert.objects.get(pk=first), "snooze", hours=24)

    rows = listed_ids(oob_list(body))
    assert len(rows) == 20
    assert first not in rows
    assert rows == _listed_on(page, "/")


def test_emptying_a_later_page_in_place_draws_the_last_page_there_is(browser, manager, project):
    _open_alerts(project, 21)
    page = browser(manager)
    [last] = _listed_on(page, "/team/?alerts_page=2")

    body = act(
        page,
        Alert.objects.get(pk=last),
        "snooze",
        alerts_list="team:open",
        next_url="/team/?alerts_page=2",
        hours=24,
    )

    assert listed_ids(oob_list(body)) == _listed_on(page, "/team/")
    assert len(listed_ids(oob_list(body))) == 20
    assert oob_block(body, "alerts-empty") == ""
    assert oob_block(body, "alerts-pages") == ""


def test_a_row_that_stays_is_redrawn_alone(browser, owner, project):
    alert, *_others = _open_alerts(project, 3)

    body = act(browser(owner), alert, "acknowledge")

    assert listed_ids(body) == [alert.pk]
    assert 'id="alert-list"' not in body


def test_emptying_the_list_in_place_reads_no_one_for_assign_menus(
    browser, owner, project, django_assert_num_queries
):
    alert, other = _open_alerts(project, 2)
    page = browser(owner)
    act(page, other, "snooze", hours=24)  # the first action's one-off reads out of the way

    # As an action that keeps rows on the page, less the people of the assign menus (two).
    with django_assert_num_queries(11):
        act(page, alert, "snooze", hours=24)
