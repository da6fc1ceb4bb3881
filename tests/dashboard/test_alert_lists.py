"""The alert lists of the RM home and the team view: whom each assign menu offers, and how many
alerts are open beyond the ones listed."""

import re
from datetime import timedelta

import pytest
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


def test_the_home_badge_counts_every_open_alert_and_says_how_many_are_shown(browser, owner, project):
    _open_alerts(project, 28)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'My open alerts <span class="count">28</span>' in body
    assert "20 of 28 shown, most urgent first" in body
    assert alert_rows(body) == 20


def test_the_team_badge_counts_every_open_alert_of_the_team(browser, manager, project, teammates_project):
    _open_alerts(project, 15)
    _open_alerts(teammates_project, 13)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'Team alerts <span class="count">28</span>' in body
    assert "20 of 28 shown, most urgent first" in body
    assert alert_rows(body) == 20


def test_a_list_that_shows_every_open_alert_says_nothing_more(browser, owner, project):
    _open_alerts(project, 20)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'My open alerts <span class="count">20</span>' in body
    assert " shown, most urgent first" not in body
    assert alert_rows(body) == 20


def test_the_shown_line_is_in_chinese_for_a_chinese_reader(browser, owner, project):
    _open_alerts(project, 21)

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "共 21 条，显示最紧急的 20 条" in body


def test_open_alerts_lists_the_most_urgent_and_counts_only_the_open_unsnoozed_ones_in_one_query(
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
        alerts = selectors.open_alerts(scope, mine_only=True, at=now)

    assert alerts.total == 23
    assert alerts.cut
    assert [row["pk"] for row in alerts.rows] == [a.pk for a in critical + warnings[:17]]


def test_no_open_alert_counts_zero(owner, project):
    alerts = selectors.open_alerts(Scope.of(owner), mine_only=True)

    assert (alerts.rows, alerts.total, alerts.cut) == ([], 0, False)


@pytest.fixture
def foreign_project(outsider):
    return ProjectFactory(client=ClientFactory(relationship_manager=outsider))
