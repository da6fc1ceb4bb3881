"""An RM's day in headless Chromium: log in, acknowledge an alert in place, log a touchpoint,
fulfil a commitment, switch to Chinese; and a client opening their status link on a phone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from finance_projects import services
from finance_projects.models import Alert, Commitment, Touchpoint
from tests.e2e.browser import ARTIFACTS, PHONE, log_in
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ContactFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TeamFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rm_world():
    team = TeamFactory(name="Infrastructure East")
    rm = UserFactory(
        username="wang.fang", first_name="Fang", last_name="Wang", team=team, role=Role.RELATIONSHIP_MANAGER
    )
    client_org = ClientFactory(name="华能新能源 Huaneng Renewables", relationship_manager=rm, team=team)
    contact = ContactFactory(client=client_org, name="李伟 Li Wei", language="zh-hans")
    project = ProjectFactory(client=client_org, name="Rudong offshore wind 300MW", code="PF-RD-300")
    ProjectFactory(client=client_org, name="Yancheng solar 120MW", code="PF-YC-120")
    TouchpointFactory(project=project, summary="Term sheet walked through with the CFO", shareable=True)
    alert = AlertFactory(
        project=project, severity="critical", message="PF-RD-300: credit memo promised to the client"
    )
    commitment = CommitmentFactory(
        project=project, title="Send the signed term sheet", due_at=timezone.now() + timedelta(days=2)
    )
    return {"rm": rm, "project": project, "contact": contact, "alert": alert, "commitment": commitment}


def test_rm_acknowledges_logs_fulfils_and_switches_to_chinese(chromium, live_server, rm_world):
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="en-US")
    log_in(page, live_server, rm_world["rm"])
    alert = rm_world["alert"]

    # English from the browser; acknowledge the alert in place (HTMX swaps the row).
    page.click("form.lang-switch button[value=en]")
    page.click(f"#alert-{alert.pk} button[data-action=acknowledge]")
    page.wait_for_selector(f"#alert-{alert.pk} .badge.ok")
    page.screenshot(path=str(ARTIFACTS / "dashboard-home.png"), full_page=True)
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == rm_world["rm"]

    # Log a touchpoint on the project page: opening the section loads its form in place.
    page.click("text=Rudong offshore wind 300MW")
    page.click("#log-touchpoint summary")
    page.fill("#id_touchpoint_summary", "Called the CFO: credit committee meets on Friday")
    page.click("#log-touchpoint button[type=submit]")
    page.wait_for_selector("text=Touchpoint logged.")
    assert Touchpoint.objects.filter(summary__startswith="Called the CFO").exists()

    # Fulfil the commitment.
    page.click(f"#commitment-{rm_world['commitment'].pk} button.primary")
    page.wait_for_selector("text=Commitment fulfilled.")
    assert Commitment.objects.get(pk=rm_world["commitment"].pk).status == "fulfilled"
    page.screenshot(path=str(ARTIFACTS / "dashboard-project.png"), full_page=True)

    # Switch to Chinese.
    page.click("form.lang-switch button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.screenshot(path=str(ARTIFACTS / "dashboard-home-zh.png"), full_page=True)


def test_client_opens_the_status_link_on_a_phone(chromium, live_server, rm_world):
    _link, token = services.status_link_create(
        project=rm_world["project"], contact=rm_world["contact"], created_by=rm_world["rm"]
    )
    page = chromium.new_page(**PHONE)

    response = page.goto(f"{live_server.url}/p/{token}/")

    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("text=Term sheet walked through with the CFO").is_visible()
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "status-page-mobile.png"), full_page=True)

    page.fill("#id_description", "三周没有收到利率的消息了。")
    page.click("#concern button[type=submit]")
    page.wait_for_selector(".notice-ok")
    assert rm_world["project"].complaints.count() == 1
    page.screenshot(path=str(ARTIFACTS / "status-page-mobile-sent.png"), full_page=True)

    # The language switch is a link back to the same page: no POST, so no CSRF check to fail
    # on the `Origin: null` this no-referrer page sends.
    page.click("nav.public-lang a[lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url == f"{live_server.url}/p/{token}/?lang=en"
    assert page.locator("h2", has_text="Where we are").is_visible()
    # A concern sent without text comes back refused, still in English.
    page.click("#concern button[type=submit]")
    page.wait_for_selector("#id_description_error")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#concern h2").inner_text() == "Something worrying you?"
    page.fill("#id_description", "Still no word on the rate.")
    page.click("#concern button[type=submit]")
    page.wait_for_selector(".notice-ok")
    assert page.locator("html").get_attribute("lang") == "en"
    assert rm_world["project"].complaints.count() == 2


def test_team_view_charts_render(chromium, live_server, rm_world):
    team = rm_world["rm"].team
    manager = UserFactory(
        username="zhao.lei", first_name="Lei", last_name="Zhao", team=team, role=Role.MANAGER
    )
    team.manager = manager
    team.save()
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, manager)

    page.goto(f"{live_server.url}/team/")
    page.wait_for_function("document.querySelector('#trend-rates').width > 0")

    assert errors == []
    page.screenshot(path=str(ARTIFACTS / "dashboard-team.png"), full_page=True)


def test_the_client_satisfaction_chart_draws_each_score_against_its_whole_scale(
    chromium, live_server, rm_world
):
    project, contact = rm_world["project"], rm_world["contact"]
    SurveyResponseFactory(invitation__project=project, invitation__contact=contact, nps=2, csat=2)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, rm_world["rm"])

    page.goto(f"{live_server.url}/clients/{project.client_id}/")
    page.wait_for_function("document.querySelector('#satisfaction').width > 0")
    scales = page.evaluate(
        "() => { const s = Chart.getChart('satisfaction').scales;"
        " return [[s.nps.min, s.nps.max, s.nps.position], [s.csat.min, s.csat.max, s.csat.position]]; }"
    )

    assert errors == []
    assert scales == [[0, 10, "left"], [1, 5, "right"]]


@pytest.mark.parametrize(
    ("viewport", "actions_first"), [(PHONE, True), ({"viewport": {"width": 1366, "height": 900}}, False)]
)
def test_on_a_phone_the_projects_actions_come_before_its_timeline(
    chromium, live_server, rm_world, viewport, actions_first
):
    page = chromium.new_page(**viewport)
    log_in(page, live_server, rm_world["rm"])

    page.goto(f"{live_server.url}/projects/{rm_world['project'].pk}/")
    actions = page.locator("#log-touchpoint").bounding_box()
    commitments = page.locator(".col-main").bounding_box()

    assert (actions["y"] < commitments["y"]) is actions_first
    if not actions_first:
        assert actions["x"] > commitments["x"]  # side by side
