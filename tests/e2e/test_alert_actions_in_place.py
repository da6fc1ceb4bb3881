"""The RM's open alerts on the home page, acted on in place in headless Chromium: snoozing,
unsnoozing and assigning drop the row from the list shown and update its count, its links and
its status line out of band, and the rows of the next page move up; acknowledging keeps the
row, marked. No action reloads the page."""

import pytest

from accounts.models import Role
from finance_projects.models import Alert
from tests.e2e.browser import log_in
from tests.factories import AlertFactory, ClientFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Long enough for a slow shared machine, short enough that a row htmx left behind fails fast.
SWAP_TIMEOUT_MS = 10_000


@pytest.fixture
def rm_alerts():
    """An RM with three open alerts, one on a project a teammate manages under the RM's client."""
    team = TeamFactory(name="Infrastructure East")
    rm = UserFactory(
        username="wang.fang", first_name="Fang", last_name="Wang", team=team, role=Role.RELATIONSHIP_MANAGER
    )
    teammate = UserFactory(
        username="li.na", first_name="Na", last_name="Li", team=team, role=Role.RELATIONSHIP_MANAGER
    )
    client_org = ClientFactory(name="Huaneng Renewables", relationship_manager=rm, team=team)
    wind = ProjectFactory(client=client_org, name="Rudong offshore wind 300MW", code="PF-RD-300")
    solar = ProjectFactory(
        client=client_org, name="Yancheng solar 120MW", code="PF-YC-120", relationship_manager=teammate
    )
    storage = ProjectFactory(client=client_org, name="Nantong storage 50MW", code="PF-NT-050")
    alerts = {
        "snooze": AlertFactory(project=wind, assignee=rm, message="Credit memo promised to the client"),
        "assign": AlertFactory(project=solar, assignee=rm, message="Rate lock confirmation overdue"),
        "acknowledge": AlertFactory(project=storage, assignee=rm, message="Site visit report missing"),
    }
    return {"rm": rm, "teammate": teammate, "alerts": alerts}


def open_home(browser_page, live_server, user):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, user)
    assert page.locator("#alerts-title").inner_text().startswith("My open alerts")
    return page, errors


def stay_marker(page):
    """A mark only this document holds: gone if the action reloads or leaves the page."""
    page.evaluate("window.__stay = 1")


def assert_stayed(page, url):
    assert page.evaluate("window.__stay") == 1, "the action reloaded the page instead of swapping in place"
    assert page.url == url


def wait_for_row_gone(page, pk):
    """Fails, saying so, when htmx left the alert's row in the list."""
    try:
        page.wait_for_selector(f"#alert-{pk}", state="detached", timeout=SWAP_TIMEOUT_MS)
    except Exception as exc:  # playwright's TimeoutError
        raise AssertionError(
            f"the row #alert-{pk} is still in the list after the action; the list reads:\n"
            + page.locator("#alerts").inner_text()
        ) from exc


def wait_for_status(page, text):
    """Fails, saying what it reads, when the list's status line does not say `text`."""
    try:
        page.wait_for_function(
            "text => document.getElementById('alerts-status').textContent.includes(text)",
            arg=text,
            timeout=SWAP_TIMEOUT_MS,
        )
    except Exception as exc:  # playwright's TimeoutError
        status = page.locator("#alerts-status").inner_text()
        raise AssertionError(f"the status line reads {status!r}, not {text!r}") from exc


def wait_for_empty_state(page, text):
    """Fails, saying what the list reads, when the list does not show its empty state `text`."""
    try:
        page.wait_for_selector(
            f"#alerts-empty .empty:has-text('{text}')", state="visible", timeout=SWAP_TIMEOUT_MS
        )
    except Exception as exc:  # playwright's TimeoutError
        raise AssertionError(
            f"the emptied list does not say {text!r}; it reads:\n" + page.locator("#alerts").inner_text()
        ) from exc


def alert_list(page):
    """What the alert list reads, its summary line and page links included."""
    return page.locator("#alerts").inner_text()


def count(page):
    return page.locator("#alerts-count").inner_text().strip()


def snoozed_link(page):
    return page.locator("#alert-links a[data-list=snoozed]")


def test_snoozing_an_alert_in_place_drops_it_and_unsnoozing_it_from_the_snoozed_list_drops_it_there(
    browser_page, live_server, rm_alerts
):
    alert = rm_alerts["alerts"]["snooze"]
    page, errors = open_home(browser_page, live_server, rm_alerts["rm"])
    home = page.url
    assert count(page) == "3"
    assert snoozed_link(page).count() == 0  # nothing snoozed: no link to an empty list
    assert page.locator("#alerts-status").get_attribute("role") == "status"

    stay_marker(page)
    page.select_option(f"#snooze-{alert.pk}", "24")
    page.click(f"#alert-{alert.pk} form[action$='/snooze/'] button[type=submit]")
    wait_for_row_gone(page, alert.pk)
    assert_stayed(page, home)
    wait_for_status(page, "Snoozed the alert on PF-RD-300 until")
    assert count(page) == "2"
    assert snoozed_link(page).inner_text() == "1 snoozed"
    assert page.locator(".alert-list > li.alert-row").count() == 2
    assert Alert.objects.get(pk=alert.pk).snoozed_until is not None

    # The link opens the snoozed list (a page of its own), where the alert can be woken up.
    snoozed_link(page).click()
    page.wait_for_selector("#alerts-title:has-text('My snoozed alerts')")
    snoozed_page = page.url
    assert "alerts=snoozed" in snoozed_page
    assert count(page) == "1"
    row = page.locator(f"#alert-{alert.pk}")
    assert row.locator("[data-state=snoozed]").is_visible()
    unsnooze = row.locator("button[data-action=unsnooze]")
    assert unsnooze.inner_text() == "Unsnooze"

    stay_marker(page)
    unsnooze.click()
    wait_for_row_gone(page, alert.pk)
    assert_stayed(page, snoozed_page)
    wait_for_status(page, "Ended the snooze: the alert on PF-RD-300 is open again.")
    assert count(page) == "0"
    assert snoozed_link(page).inner_text() == "0 snoozed"  # the list shown keeps its link
    assert page.locator("#alert-links a[data-list=open]").is_visible()
    # The list is empty now: it says so, as the page reloaded would.
    wait_for_empty_state(page, "No alert is snoozed.")
    assert Alert.objects.get(pk=alert.pk).snoozed_until is None
    assert errors == []


def test_assigning_an_alert_to_a_teammate_in_place_drops_it_from_my_open_alerts(
    browser_page, live_server, rm_alerts
):
    alert, teammate = rm_alerts["alerts"]["assign"], rm_alerts["teammate"]
    page, errors = open_home(browser_page, live_server, rm_alerts["rm"])
    home = page.url
    assert count(page) == "3"

    stay_marker(page)
    page.select_option(f"#assign-{alert.pk}", str(teammate.pk))
    page.click(f"#alert-{alert.pk} form[action$='/assign/'] button[type=submit]")
    wait_for_row_gone(page, alert.pk)
    assert_stayed(page, home)
    wait_for_status(page, "Assigned the alert on PF-YC-120 to Na Li.")
    assert count(page) == "2"
    assert page.locator(".alert-list > li.alert-row").count() == 2
    assert snoozed_link(page).count() == 0
    assert Alert.objects.get(pk=alert.pk).assignee == teammate
    assert errors == []


def test_acknowledging_an_alert_in_place_keeps_it_in_the_list_marked_acknowledged(
    browser_page, live_server, rm_alerts
):
    alert = rm_alerts["alerts"]["acknowledge"]
    page, errors = open_home(browser_page, live_server, rm_alerts["rm"])
    home = page.url

    stay_marker(page)
    page.click(f"#alert-{alert.pk} button[data-action=acknowledge]")
    page.wait_for_selector(f"#alert-{alert.pk} .badge.ok", timeout=SWAP_TIMEOUT_MS)
    assert_stayed(page, home)
    wait_for_status(page, "Acknowledged the alert on PF-NT-050.")
    row = page.locator(f"#alert-{alert.pk}")
    assert row.locator(".badge.ok").inner_text() == "✓ Acknowledged"
    assert row.locator("button[data-action=acknowledge]").count() == 0
    assert count(page) == "3"
    assert page.locator(".alert-list > li.alert-row").count() == 3
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == rm_alerts["rm"]
    assert errors == []


def test_acting_in_place_on_a_long_list_keeps_its_summary_line_true(browser_page, live_server, rm_alerts):
    """21 open alerts: two pages. Snoozing one leaves 20, one page: the line and the page links go,
    as on the page reloaded."""
    project = rm_alerts["alerts"]["snooze"].project
    for n in range(18):
        AlertFactory(project=project, assignee=rm_alerts["rm"], message=f"Covenant check {n + 1} overdue")
    page, errors = open_home(browser_page, live_server, rm_alerts["rm"])
    home = page.url
    assert count(page) == "21"
    assert "1–20 of 21, most urgent first" in alert_list(page)
    assert "Page 1 of 2" in alert_list(page)

    stay_marker(page)
    pk = page.locator(".alert-list > li.alert-row").first.get_attribute("id").removeprefix("alert-")
    page.select_option(f"#snooze-{pk}", "24")
    page.click(f"#alert-{pk} form[action$='/snooze/'] button[type=submit]")
    wait_for_row_gone(page, pk)
    assert_stayed(page, home)
    wait_for_status(page, "Snoozed the alert on")
    assert count(page) == "20"
    # One page holds them all now: no "1–20 of 21" nor page links left behind.
    assert "of 21" not in alert_list(page)
    assert "Page 1 of 2" not in alert_list(page)
    assert page.locator("#alerts nav.pagination").count() == 0
    # The 21st alert moved up into the page, as on the page reloaded.
    shown = row_ids(page)
    assert len(shown) == 20

    page.reload()
    assert count(page) == "20"
    assert "most urgent first" not in alert_list(page)
    assert row_ids(page) == shown
    assert errors == []


def row_ids(page) -> list[str]:
    return [row.get_attribute("id") for row in page.locator(".alert-list > li.alert-row").all()]


def test_emptying_the_last_page_in_place_shows_the_page_before_and_its_rows_act_in_place(
    browser_page, live_server, rm_alerts
):
    """21 open alerts, the second page holds one. Snoozing it shows the first page, whose rows
    (drawn by the answer) act in place like the page's own."""
    project = rm_alerts["alerts"]["snooze"].project
    for n in range(18):
        AlertFactory(project=project, assignee=rm_alerts["rm"], message=f"Covenant check {n + 1} overdue")
    page, errors = open_home(browser_page, live_server, rm_alerts["rm"])
    page.click("#alerts nav.pagination a[rel=next]")
    page.wait_for_selector("#alerts-summary:has-text('21–21 of 21')")
    [last] = row_ids(page)
    second_page = page.url

    stay_marker(page)
    pk = last.removeprefix("alert-")
    page.select_option(f"#snooze-{pk}", "24")
    page.click(f"#alert-{pk} form[action$='/snooze/'] button[type=submit]")
    wait_for_row_gone(page, pk)
    assert_stayed(page, second_page)
    wait_for_status(page, "Snoozed the alert on")
    assert len(row_ids(page)) == 20
    assert page.locator("#alerts-empty .empty").count() == 0

    other = row_ids(page)[0].removeprefix("alert-")
    page.click(f"#alert-{other} button[data-action=acknowledge]")
    page.wait_for_selector(f"#alert-{other} .badge.ok", timeout=SWAP_TIMEOUT_MS)
    assert_stayed(page, second_page)
    assert Alert.objects.get(pk=other).acknowledged_by == rm_alerts["rm"]
    assert errors == []
