"""Filters in headless Chromium: unticking a box on the survey responses page drops its filter
(the whole list again, at a clean address that a reload keeps), and the portfolio's filters send
each parameter once, keeping the sort and the period."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from accounts.models import Role
from tests.e2e.browser import log_in
from tests.factories import (
    ClientFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SWAP_TIMEOUT_MS = 10_000


@pytest.fixture
def world():
    team = TeamFactory(name="Infrastructure East")
    manager = UserFactory(
        username="zhao.lei", first_name="Lei", last_name="Zhao", team=team, role=Role.MANAGER
    )
    team.manager = manager
    team.save()
    rm = UserFactory(
        username="wang.fang", first_name="Fang", last_name="Wang", team=team, role=Role.RELATIONSHIP_MANAGER
    )
    teammate = UserFactory(
        username="li.na", first_name="Na", last_name="Li", team=team, role=Role.RELATIONSHIP_MANAGER
    )
    client_org = ClientFactory(name="Huaneng Renewables", relationship_manager=rm, team=team)
    wind = ProjectFactory(
        client=client_org, name="Rudong offshore wind 300MW", code="PF-RD-300", stage="inquiry"
    )
    solar = ProjectFactory(
        client=client_org, name="Yancheng solar 120MW", code="PF-YC-120", stage="term_sheet"
    )
    other_client = ClientFactory(name="Three Gorges Solar", relationship_manager=teammate, team=team)
    ProjectFactory(client=other_client, name="Golmud solar 200MW", code="PF-GM-200", stage="term_sheet")
    detractor = SurveyResponseFactory(invitation__project=wind, nps=2, csat=2, is_detractor=True)
    promoter = SurveyResponseFactory(invitation__project=solar, nps=10, csat=5, is_detractor=False)
    return {"manager": manager, "rm": rm, "detractor": detractor, "promoter": promoter}


def params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def assert_each_once(url: str):
    names = [name for name, _value in params(url)]
    assert len(names) == len(set(names)), f"parameters repeated in {url}"


def wait_for_rows(page, selector: str, count: int):
    try:
        page.wait_for_function(
            "([selector, count]) => document.querySelectorAll(selector).length === count",
            arg=[selector, count],
            timeout=SWAP_TIMEOUT_MS,
        )
    except Exception as exc:  # playwright's TimeoutError
        shown = page.locator(selector).count()
        raise AssertionError(f"{shown} rows of {selector} shown, not {count}, at {page.url}") from exc


def shown_responses(page) -> set[int]:
    return {
        int(pk)
        for pk in page.locator("#responses tr[data-response]").evaluate_all(
            "rows => rows.map(row => row.dataset.response)"
        )
    }


@pytest.mark.parametrize("box", ["detractor", "pending"])
def test_unticking_a_box_shows_every_response_again_at_a_clean_address(browser_page, live_server, world, box):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, world["rm"])
    page.goto(f"{live_server.url}/responses/")
    rows = "#responses tr[data-response]"
    wait_for_rows(page, rows, 2)

    page.check(f"input[name={box}]")
    wait_for_rows(page, rows, 1)
    assert shown_responses(page) == {world["detractor"].pk}
    assert (box, "1") in params(page.url)
    assert_each_once(page.url)

    page.uncheck(f"input[name={box}]")
    wait_for_rows(page, rows, 2)
    assert shown_responses(page) == {world["detractor"].pk, world["promoter"].pk}
    assert urlsplit(page.url).path == "/responses/"
    assert box not in dict(params(page.url))
    assert_each_once(page.url)

    page.reload()
    wait_for_rows(page, rows, 2)
    assert not page.locator(f"input[name={box}]").is_checked()
    assert errors == []


def test_a_portfolio_filter_after_a_sort_keeps_the_sort_and_sends_each_parameter_once(
    browser_page, live_server, world
):
    page = browser_page
    log_in(page, live_server, world["rm"])
    rows = "#portfolio tbody tr td[data-label=NPS]"
    wait_for_rows(page, rows, 2)

    # By project name, then the other way round: not the default order (by code).
    page.click("#portfolio th a:has-text('Project')")
    page.wait_for_url("**sort=project**", timeout=SWAP_TIMEOUT_MS)
    page.click("#portfolio th a:has-text('Project')")
    page.wait_for_url("**sort=-project**", timeout=SWAP_TIMEOUT_MS)
    page.select_option("#portfolio-filters select[name=stage]", "term_sheet")
    wait_for_rows(page, rows, 1)
    page.select_option("#portfolio-filters select[name=stage]", "")
    wait_for_rows(page, rows, 2)

    assert urlsplit(page.url).path == "/"
    assert dict(params(page.url)) == {"q": "", "stage": "", "band": "", "sort": "-project"}
    assert_each_once(page.url)
    assert page.locator("#portfolio tbody tr a strong").all_inner_texts() == [
        "Yancheng solar 120MW",
        "Rudong offshore wind 300MW",
    ]


def test_the_team_portfolio_filter_keeps_the_period_once_and_every_rm_shows_everyone(
    browser_page, live_server, world
):
    page = browser_page
    log_in(page, live_server, world["manager"])
    page.goto(f"{live_server.url}/team/?days=90")
    rows = "#portfolio tbody tr td[data-label=NPS]"
    wait_for_rows(page, rows, 3)

    page.select_option("#portfolio-filters select[name=rm]", str(world["rm"].pk))
    wait_for_rows(page, rows, 2)
    page.select_option("#portfolio-filters select[name=rm]", "")
    wait_for_rows(page, rows, 3)

    assert_each_once(page.url)
    assert ("days", "90") in params(page.url)
    assert ("rm", "") in params(page.url)

    # The period form keeps the portfolio's current filters, not those the page opened with.
    page.select_option("#portfolio-filters select[name=stage]", "term_sheet")
    wait_for_rows(page, rows, 2)
    page.select_option("#id_days", "7")
    page.click("form:has(#id_days) button[type=submit]")
    page.wait_for_url("**days=7**", timeout=SWAP_TIMEOUT_MS)
    wait_for_rows(page, rows, 2)
    assert_each_once(page.url)
    assert ("stage", "term_sheet") in params(page.url)
