"""The alert lists of the RM home and the team view: whom each assign menu offers, and how many
alerts are open beyond the ones listed."""

import re
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from dashboard import selectors
from dashboard.sql import Scope
from finance_projects.models import Alert
from finance_projects.selectors import portfolio_for
from tests.factories import AlertFactory, ClientFactory, CommitmentFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def assign_menu_html(body: str, alert: Alert) -> str:
    """The options of the assign menu of the alert's row ("" without a menu)."""
    menu = re.search(rf'<select name="assignee" id="assign-{alert.pk}">(.*?)</select>', body, re.S)
    return menu.group(1) if menu else ""


def assign_menu(body: str, alert: Alert) -> set[int]:
    """The user ids the assign menu of the alert's row offers."""
    return {int(pk) for pk in re.findall(r'<option value="(\d+)"', assign_menu_html(body, alert))}


def alert_rows(body: str) -> int:
    return body.count('class="alert-row ')


@pytest.fixture
def teammates_project(teammate):
    return ProjectFactory(client=ClientFactory(relationship_manager=teammate))


@pytest.fixture
def lawyer_on_the_project(team, project):
    """Department staff of the team who own a commitment on `project`: they can see it."""
    lawyer = UserFactory(username="lawyer", role=Role.DEPARTMENT, department="legal", team=team)
    CommitmentFactory(project=project, owner=lawyer)
    return lawyer


# --- Assign menus ------------------------------------------------------------------------------


def test_the_home_assign_menu_offers_only_teammates_who_can_see_the_alerts_project(
    browser, owner, teammate, manager, department_user, lawyer_on_the_project, project
):
    UserFactory(username="gone", team=owner.team, is_active=False)
    ProjectFactory(client=ClientFactory(relationship_manager=teammate))  # teammate sees others, not this one
    alert = AlertFactory(project=project)

    body = browser(owner).get("/").content.decode()

    assert assign_menu(body, alert) == {owner.pk, manager.pk, lawyer_on_the_project.pk}


def test_each_team_alert_offers_the_people_who_can_see_its_own_project(
    browser, manager, owner, teammate, project, teammates_project
):
    mine, theirs = AlertFactory(project=project), AlertFactory(project=teammates_project)

    body = browser(manager).get("/team/").content.decode()

    assert assign_menu(body, mine) == {manager.pk, owner.pk}
    assert assign_menu(body, theirs) == {manager.pk, teammate.pk}


def test_the_assign_service_accepts_everyone_a_menu_offers_and_no_one_else_of_the_team(
    browser, manager, owner, teammate, department_user, lawyer_on_the_project, project, teammates_project
):
    # Reaching the project each way: managed, via the client's RM, through a commitment.
    at_my_client = ProjectFactory(client=project.client, relationship_manager=teammate)
    alerts = [AlertFactory(project=p) for p in (project, teammates_project, at_my_client)]
    page = browser(manager)
    body = page.get("/team/").content.decode()
    team = selectors.assignable_users(user=manager)

    for alert in alerts:
        offered = assign_menu(body, alert)
        assert offered
        for person in team:
            response = page.post(
                reverse("dashboard:alert-action", args=[alert.pk, "assign"]),
                {"assignee": person.pk},
                HTTP_HX_REQUEST="true",
            )
            alert.refresh_from_db()
            accepted = alert.assignee_id == person.pk and 'role="alert"' not in response.content.decode()
            assert accepted == (person.pk in offered), (alert.project.code, person.username)


def test_a_row_redrawn_after_an_action_offers_the_same_people(browser, owner, manager, teammate, project):
    alert = AlertFactory(project=project)
    page = browser(owner)
    listed = assign_menu(page.get("/").content.decode(), alert)

    response = page.post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]), HTTP_HX_REQUEST="true"
    )

    assert assign_menu(response.content.decode(), alert) == listed == {owner.pk, manager.pk}


def test_the_menu_keeps_the_current_assignee_selected(browser, owner, manager, project):
    alert = AlertFactory(project=project, assignee=manager)

    menu = assign_menu_html(browser(manager).get("/team/").content.decode(), alert)

    assert f'<option value="{manager.pk}" selected>' in menu
    assert f'<option value="{owner.pk}">' in menu


def test_who_can_take_an_alert_agrees_with_each_persons_portfolio(
    owner, teammate, manager, department_user, lawyer_on_the_project, admin_user, project, teammates_project
):
    people = [owner, teammate, manager, department_user, lawyer_on_the_project, admin_user]
    projects = [
        project,
        teammates_project,
        ProjectFactory(client=project.client, relationship_manager=teammate),
    ]

    menus = selectors.assignees_by_project(people=people, project_ids=[p.pk for p in projects])

    for p in projects:
        expected = [person for person in people if portfolio_for(person).filter(pk=p.pk).exists()]
        assert menus[p.pk] == expected, p.code


@pytest.mark.parametrize("size", [2, 20])
def test_the_assign_menus_take_the_same_queries_for_two_projects_or_twenty(
    owner, teammate, manager, department_user, client_org, size, django_assert_num_queries
):
    projects = [ProjectFactory(client=client_org) for _ in range(size)]
    people = [owner, teammate, manager, department_user]

    # The manager's teams (to compile what they see), then one statement for every pair.
    with django_assert_num_queries(2):
        menus = selectors.assignees_by_project(people=people, project_ids=[p.pk for p in projects])

    assert all(menu == [owner, manager] for menu in menus.values())


def test_no_one_to_choose_from_reads_nothing(owner, project, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.assignees_by_project(people=[], project_ids=[project.pk]) == {project.pk: []}


# --- How many are open -----------------------------------------------------------------------


def _open_alerts(project, n, **fields):
    return [AlertFactory(project=project, **fields) for _ in range(n)]


def test_the_home_badge_counts_every_open_alert_and_says_which_are_shown(browser, owner, project):
    _open_alerts(project, 28)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'My open alerts <span class="count" id="alerts-count">28</span>' in body
    assert "1–20 of 28, most urgent first" in body
    assert alert_rows(body) == 20


def test_the_team_badge_counts_every_open_alert_of_the_team(browser, manager, project, teammates_project):
    _open_alerts(project, 15)
    _open_alerts(teammates_project, 13)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'Team alerts <span class="count" id="alerts-count">28</span>' in body
    assert "1–20 of 28, most urgent first" in body
    assert alert_rows(body) == 20


def test_a_list_that_shows_every_open_alert_says_nothing_more(browser, owner, project):
    _open_alerts(project, 20)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'My open alerts <span class="count" id="alerts-count">20</span>' in body
    assert ", most urgent first" not in body
    assert "alerts_page=" not in body
    assert alert_rows(body) == 20


def test_the_shown_line_and_pages_are_in_chinese_for_a_chinese_reader(browser, owner, project):
    _open_alerts(project, 21)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "共 21 条，按紧急程度排列，第 1–20 条" in body
    assert "第 1 页，共 2 页" in body


def _ordered(alerts: list[Alert]) -> list[int]:
    """The ids of the alerts most urgent first: by severity, then the oldest first."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    return [a.pk for a in sorted(alerts, key=lambda a: (rank[a.severity], a.opened_at, a.pk))]


def alert_ids(body: str) -> list[int]:
    """The ids of the alert rows of a page, in their order."""
    return [int(pk) for pk in re.findall(r'<li class="alert-row [^"]*" id="alert-(\d+)"', body)]


def alerts_section(body: str) -> str:
    return body[body.index('id="alerts"') : body.index("</section>", body.index('id="alerts"'))]


@pytest.fixture
def thirty_one_team_alerts(project, teammates_project):
    now = timezone.now()
    return (
        _open_alerts(project, 16, opened_at=now - timedelta(days=2))
        + _open_alerts(teammates_project, 12, severity="critical", opened_at=now - timedelta(hours=5))
        + _open_alerts(project, 3, severity="info", opened_at=now - timedelta(days=9))
    )


def test_every_open_team_alert_is_reached_page_by_page_most_urgent_first(
    browser, manager, thirty_one_team_alerts
):
    page = browser(manager)

    first = page.get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    second = page.get("/team/", {"alerts_page": 2}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert alert_ids(first) + alert_ids(second) == _ordered(thirty_one_team_alerts)
    assert "1–20 of 31, most urgent first" in first
    assert "Page 1 of 2" in alerts_section(first)
    assert 'href="?alerts_page=2#alerts"' in alerts_section(first)
    assert "alerts_page=1" not in first
    assert "21–31 of 31, most urgent first" in second
    assert "Page 2 of 2" in alerts_section(second)
    assert 'href="?alerts_page=1#alerts"' in alerts_section(second)
    assert "alerts_page=3" not in second


def test_the_home_pages_through_the_users_own_alerts(browser, owner, project):
    alerts = _open_alerts(project, 28)

    body = browser(owner).get("/", {"alerts_page": 2}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert alert_ids(body) == _ordered(alerts)[20:]
    assert "21–28 of 28, most urgent first" in body


def test_the_alert_page_links_keep_the_rest_of_the_query(browser, manager, thirty_one_team_alerts):
    body = browser(manager).get("/team/", {"days": 90, "sort": "-days", "alerts_page": 1}).content.decode()

    assert 'href="?days=90&amp;sort=-days&amp;alerts_page=2#alerts"' in alerts_section(body)


@pytest.mark.parametrize("number", ["0", "-1", "x", "2.5", "", "99", "99999999999999999999999"])
def test_a_bad_alert_page_number_shows_the_page_the_paginator_picks(
    browser, manager, thirty_one_team_alerts, number
):
    expected = Paginator(_ordered(thirty_one_team_alerts), 20).get_page(number)

    response = browser(manager).get("/team/", {"alerts_page": number})

    assert response.status_code == 200
    assert alert_ids(response.content.decode()) == list(expected.object_list)


def _queries(page, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert page.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("number", ["2", "99", "-1"])
def test_an_alert_page_takes_the_same_queries_however_many_alerts_are_open(
    browser, owner, manager, project, teammates_project, number
):
    home, team = browser(owner), browser(manager)
    _open_alerts(project, 25)
    _open_alerts(teammates_project, 5)
    home.get("/"), team.get("/team/")  # the first visit's one-off reads out of the way
    few = _queries(home, "/", {"alerts_page": number}), _queries(team, "/team/", {"alerts_page": number})
    _open_alerts(project, 60)
    _open_alerts(teammates_project, 40)

    many = _queries(home, "/", {"alerts_page": number}), _queries(team, "/team/", {"alerts_page": number})

    assert few == many


def test_an_alert_page_that_exists_is_read_in_one_query_with_the_total(
    owner, project, foreign_project, django_assert_num_queries
):
    now = timezone.now()
    warnings = _open_alerts(project, 20, severity="warning", opened_at=now - timedelta(days=9))
    critical = _open_alerts(project, 3, severity="critical", opened_at=now - timedelta(days=1))
    AlertFactory(project=project, snoozed_until=now + timedelta(hours=4))
    AlertFactory(project=project, resolved_at=now)
    AlertFactory(project=foreign_project)
    scope = Scope.of(owner)

    with django_assert_num_queries(1):
        first = selectors.open_alerts(scope, mine_only=True, at=now)
    with django_assert_num_queries(1):
        second = selectors.open_alerts(scope, mine_only=True, at=now, page="2")

    assert first.paginator.count == second.paginator.count == 23
    assert (first.number, second.number, first.paginator.num_pages) == (1, 2, 2)
    assert [row["pk"] for row in first] == [a.pk for a in critical + warnings[:17]]
    assert [row["pk"] for row in second] == [a.pk for a in warnings[17:]]


def test_an_alert_page_past_the_end_gives_the_last_page_in_three_queries(
    owner, project, django_assert_num_queries
):
    alerts = _open_alerts(project, 23)

    with django_assert_num_queries(3):
        page = selectors.open_alerts(Scope.of(owner), mine_only=True, page=7)

    assert page.number == 2
    assert [row["pk"] for row in page] == _ordered(alerts)[20:]


def test_no_open_alert_counts_zero(owner, project, django_assert_num_queries):
    with django_assert_num_queries(1):
        alerts = selectors.open_alerts(Scope.of(owner), mine_only=True)

    assert (list(alerts), alerts.paginator.count, alerts.paginator.num_pages) == ([], 0, 1)


# --- Whose alerts the home lists -------------------------------------------------------------


def test_department_staff_home_lists_the_open_alerts_about_commitments_they_own(
    browser, api_as, owner, lawyer_on_the_project, project
):
    lawyer = lawyer_on_the_project
    theirs = CommitmentFactory(project=project, owner=lawyer)
    missed = AlertFactory(
        project=project, kind="commitment_missed", subject_id=theirs.pk
    )  # the RM's to chase
    due_soon = AlertFactory(
        project=project, kind="commitment_due_soon", severity="info", subject_id=theirs.pk, assignee=None
    )
    handed = AlertFactory(
        project=project, kind="update_overdue", subject_type="project", subject_id=project.pk, assignee=lawyer
    )
    someone_elses = CommitmentFactory(project=project, owner=owner)
    AlertFactory(project=project, kind="commitment_missed", subject_id=someone_elses.pk)
    AlertFactory(project=project, kind="stage_overrun", subject_type="project", subject_id=project.pk)
    AlertFactory(
        project=project, kind="commitment_due_soon", subject_id=theirs.pk, resolved_at=timezone.now()
    )

    body = browser(lawyer).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    api = api_as(lawyer).get("/api/v1/alerts/", {"open": "true"}).json()["results"]

    assert set(alert_ids(body)) == {a["id"] for a in api} == {missed.pk, due_soon.pk, handed.pk}
    assert 'My open alerts <span class="count" id="alerts-count">3</span>' in body
    assert "Nothing needs your attention" not in body


def test_department_staff_count_their_snoozed_alerts(browser, owner, lawyer_on_the_project, project):
    theirs = CommitmentFactory(project=project, owner=lawyer_on_the_project)
    AlertFactory(project=project, subject_id=theirs.pk, snoozed_until=timezone.now() + timedelta(hours=3))

    body = browser(lawyer_on_the_project).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1 snoozed" in body


def test_an_rms_home_keeps_to_the_alerts_assigned_to_them_or_unassigned_on_their_projects(
    browser, owner, manager, lawyer_on_the_project, project
):
    mine = AlertFactory(project=project)
    unassigned = AlertFactory(project=project, assignee=None)
    AlertFactory(project=project, assignee=manager)
    AlertFactory(project=project, assignee=lawyer_on_the_project)

    body = browser(owner).get("/").content.decode()

    assert set(alert_ids(body)) == {mine.pk, unassigned.pk}


@pytest.fixture
def foreign_project(outsider):
    return ProjectFactory(client=ClientFactory(relationship_manager=outsider))


def test_department_staff_get_no_assign_menu_and_cannot_reassign_from_the_page(
    browser, owner, lawyer_on_the_project, project
):
    lawyer = lawyer_on_the_project
    theirs = CommitmentFactory(project=project, owner=lawyer)
    missed = AlertFactory(project=project, kind="commitment_missed", subject_id=theirs.pk, assignee=owner)
    page = browser(lawyer)

    body = page.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    refused = page.post(f"/alerts/{missed.pk}/assign/", {"assignee": lawyer.pk})

    assert alert_ids(body) == [missed.pk]
    assert f"/alerts/{missed.pk}/assign/" not in body
    assert refused.status_code == 403
    missed.refresh_from_db()
    assert missed.assignee_id == owner.pk
