"""The staff pages: RM home, team view, project 360°, client profile, alert actions, exports."""

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import selectors
from dashboard.scans import refresh_health
from dashboard.sql import Scope
from finance_projects import services
from finance_projects.models import Alert, Commitment, FinancingProject, ProjectStatusLink, Touchpoint
from finance_projects.selectors import clients_for, portfolio_for
from finance_projects.tokens import hash_token
from tests.dashboard.conftest import PROJECT_PAGE_QUERIES
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ContactFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_project(outsider):
    return ProjectFactory(client__relationship_manager=outsider, client__team=outsider.team)


# --- RM home ---------------------------------------------------------------------------------


def test_home_needs_a_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_home_lists_my_projects_alerts_and_commitments_due_this_week(
    browser, owner, project, foreign_project
):
    AlertFactory(project=project, severity="critical", message="Draft agreement is late")
    CommitmentFactory(
        project=project, title="Send the rate quote", due_at=timezone.now() + timedelta(hours=2)
    )

    response = browser(owner).get("/")

    body = response.content.decode()
    assert response.status_code == 200
    assert project.code in body
    assert foreign_project.code not in body
    assert "Draft agreement is late" in body
    assert "Send the rate quote" in body


def test_portfolio_shows_the_stored_health_score_with_its_reasons(browser, owner, project):
    FinancingProject.objects.filter(pk=project.pk).update(
        health=42, health_factors=[{"points": -15, "code": "update_overdue", "days": 3}]
    )

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'band-bg-red" title="-15: client update overdue by 3 days&#10;">42</span>' in body


def test_a_project_the_refresh_has_not_scored_yet_gets_a_live_score(browser, owner, project):
    CommitmentFactory(project=project, title="Rate quote", due_at=timezone.now() - timedelta(days=2))

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "-20: commitment missed 2 days ago: Rate quote" in body


def test_portfolio_search_filters_the_table(browser, owner, client_org):
    wanted = ProjectFactory(client=client_org, name="Offshore wind Rudong")
    other = ProjectFactory(client=client_org, name="Coal retrofit")

    response = browser(owner).get("/", {"q": "wind"})

    assert wanted.code in response.content.decode()
    assert other.code not in response.content.decode()


def test_portfolio_htmx_request_returns_only_the_table(browser, owner, project):
    response = browser(owner).get(
        "/", {"sort": "-health"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio"
    )

    body = response.content.decode()
    assert project.code in body
    assert "<html" not in body


def test_portfolio_paginates(browser, owner, client_org):
    for _ in range(27):
        ProjectFactory(client=client_org)

    first = browser(owner).get("/").content.decode()
    second = browser(owner).get("/", {"page": 2}).content.decode()

    assert "Page 1 of 2" in first or "第 1 页" in first
    assert second.count('data-label="NPS"') == 2


def _varied_portfolio(client_org):
    """Projects that differ in every sortable column, with ties and empty values."""
    now = timezone.now()
    projects = [
        ProjectFactory(client=client_org, name=name, stage=stage, health=health)
        for name, stage, health in [
            ("Wind A", "inquiry", 80),
            ("Wind B", "term_sheet", None),
            ("Coal C", "inquiry", 40),
            ("Solar D", "due_diligence", 60),
            ("Solar E", "term_sheet", 80),
        ]
    ]
    FinancingProject.objects.filter(pk=projects[1].pk).update(last_client_update_at=now - timedelta(days=3))
    FinancingProject.objects.filter(pk=projects[3].pk).update(stage_entered_at=now - timedelta(days=40))
    CommitmentFactory(project=projects[0], due_at=now + timedelta(days=2))
    CommitmentFactory(project=projects[2], due_at=now - timedelta(days=1))
    CommitmentFactory(project=projects[4], due_at=now + timedelta(days=2))
    return projects


# Sort key → the portfolio row's value it orders by.
SORTED_BY = {
    "client": "client__name",
    "project": "name",
    "stage": "stage_rank",
    "days": "stage_entered_at",
    "update": "last_client_update_at",
    "commitment": "next_commitment_at",
    "complaints": "open_complaints",
    "nps": "latest_nps",
    "health": "health",
}


@pytest.mark.parametrize("sort", [*SORTED_BY, *(f"-{key}" for key in SORTED_BY)])
def test_the_portfolio_table_sorts_by_the_column_empty_values_last_then_by_code(owner, client_org, sort):
    _varied_portfolio(client_org)
    filters = selectors.PortfolioFilters.from_query({"sort": sort})
    table = selectors.PortfolioTable(Scope.of(owner), filters=filters)
    key = SORTED_BY[sort.lstrip("-")]

    rows = table[0:25]
    present = sorted((row for row in rows if row[key] is not None), key=lambda row: row["code"])
    present.sort(key=lambda row: row[key], reverse=sort.startswith("-"))  # stable: ties by code
    missing = sorted((row for row in rows if row[key] is None), key=lambda row: row["code"])

    assert table.count() == 5
    assert [row["code"] for row in rows] == [row["code"] for row in present + missing]
    assert [row["code"] for row in table.stream(chunk_size=2)] == [row["code"] for row in rows]


@pytest.mark.parametrize(
    "query",
    [{"q": "wind"}, {"q": "PF-"}, {"stage": "inquiry"}, {"band": "amber"}, {"band": "red", "sort": "-nps"}],
)
def test_the_portfolio_table_shows_exactly_the_filtered_projects_in_scope(owner, client_org, outsider, query):
    _varied_portfolio(client_org)
    ProjectFactory(client__relationship_manager=outsider, client__team=outsider.team, name="Wind X")
    filters = selectors.PortfolioFilters.from_query(query)

    table = selectors.PortfolioTable(Scope.of(owner), filters=filters)
    expected = filters.apply(portfolio_for(owner)).values_list("code", flat=True)

    assert sorted(row["code"] for row in table[0 : table.count()]) == sorted(expected)


# --- Alerts in place -------------------------------------------------------------------------


def test_acknowledging_an_alert_in_place_returns_the_updated_row(browser, owner, project):
    alert = AlertFactory(project=project)

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]), HTTP_HX_REQUEST="true"
    )

    alert.refresh_from_db()
    assert response.status_code == 200
    assert alert.acknowledged_by == owner
    assert f'id="alert-{alert.pk}"' in response.content.decode()


def test_snoozing_hides_the_alert_from_the_home_page(browser, owner, project):
    alert = AlertFactory(project=project, message="Snooze me please")

    browser(owner).post(reverse("dashboard:alert-action", args=[alert.pk, "snooze"]), {"hours": 24})

    alert.refresh_from_db()
    assert alert.snoozed_until > timezone.now() + timedelta(hours=23)
    assert "Snooze me please" not in browser(owner).get("/").content.decode()


@pytest.mark.parametrize(
    ("language", "line"), [("en", "Snoozed until {until}"), ("zh-hans", "已暂缓至 {until}")]
)
def test_snoozing_an_alert_in_place_shows_until_when_in_the_users_time_zone(
    browser, owner, project, language, line
):
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    alert = AlertFactory(project=project)

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "snooze"]),
        {"hours": 24},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    alert.refresh_from_db()
    until = alert.snoozed_until.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'class="alert-row sev-border-warning snoozed" id="alert-{alert.pk}"' in body
    assert line.format(until=until) in body


def test_acting_on_an_alert_that_is_not_snoozed_says_nothing_of_snoozing(browser, owner, project):
    alert = AlertFactory(project=project, snoozed_until=timezone.now() - timedelta(hours=1))

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]),
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "Snoozed until" not in response.content.decode()
    assert 'data-state="snoozed"' not in response.content.decode()


def test_snoozing_without_htmx_goes_back_to_the_page_and_counts_the_alert_snoozed(browser, owner, project):
    alert = AlertFactory(project=project, message="Snooze me please")
    page = browser(owner)

    response = page.post(reverse("dashboard:alert-action", args=[alert.pk, "snooze"]), {"hours": 24})
    home = page.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert response.status_code == 302
    assert "Snooze me please" not in home
    assert "1 snoozed" in home


def test_an_alert_action_without_htmx_comes_back_to_the_alert_page_it_was_taken_on(browser, manager, project):
    alerts = [AlertFactory(project=project) for _ in range(25)]
    page = browser(manager)
    body = page.get("/team/", {"alerts_page": 2}).content.decode()
    last = alerts[-1]
    form = re.search(rf'action="/alerts/{last.pk}/acknowledge/".*?name="next" value="([^"]*)"', body)

    response = page.post(
        reverse("dashboard:alert-action", args=[last.pk, "acknowledge"]), {"next": form.group(1)}
    )

    assert form.group(1) == "/team/?alerts_page=2"
    assert response["Location"] == "/team/?alerts_page=2"


def test_assigning_an_alert_to_a_teammate_who_cannot_see_it_shows_the_error(
    browser, owner, teammate, project
):
    alert = AlertFactory(project=project)

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "assign"]),
        {"assignee": teammate.pk},
        HTTP_HX_REQUEST="true",
    )

    alert.refresh_from_db()
    assert alert.assignee == owner
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("snooze", {"hours": 999}, "Choose how long to snooze."),
        ("assign", {"assignee": "nobody"}, "Choose someone to assign the alert to."),
    ],
)
def test_bad_alert_input_without_htmx_comes_back_as_a_message_and_saves_nothing(
    browser, owner, project, action, data, message, settings
):
    settings.LANGUAGE_CODE = "en"
    alert = AlertFactory(project=project)

    page = browser(owner).post(reverse("dashboard:alert-action", args=[alert.pk, action]), data, follow=True)

    assert message in page.content.decode()
    alert.refresh_from_db()
    assert (alert.snoozed_until, alert.assignee) == (None, owner)


def test_an_outsider_cannot_act_on_an_alert(browser, outsider, project):
    alert = AlertFactory(project=project)

    response = browser(outsider).post(reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]))

    assert response.status_code == 404
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


# --- Team view -------------------------------------------------------------------------------


def test_team_view_shows_kpis_and_every_rm_of_the_team(browser, manager, owner, teammate, project):
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)

    response = browser(manager).get("/team/", {"days": 7})

    body = response.content.decode()
    assert response.status_code == 200
    assert project.code in body and theirs.code in body
    assert 'id="trend-data"' in body
    assert 'data-kpi="promise_kept_rate"' in body


def test_team_view_is_for_managers(browser, owner):
    assert browser(owner).get("/team/").status_code == 403


# --- Project page ----------------------------------------------------------------------------


def test_project_page_shows_stage_path_timeline_and_audit_trail(browser, owner, project):
    TouchpointFactory(project=project, summary="Walked the CFO through the term sheet")
    commitment = CommitmentFactory(project=project, title="Send the credit memo")

    response = browser(owner).get(reverse("dashboard:project", args=[project.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Walked the CFO through the term sheet" in body
    assert commitment.title in body
    assert "stage-path" in body


def test_the_audit_trail_says_who_changed_what(browser, owner, project):
    commitment = CommitmentFactory(project=project, title="Send the credit memo")
    services.commitment_renegotiate(
        commitment=commitment,
        new_due_at=timezone.now() + timedelta(days=10),
        reason="The client asked for a week",
        by=owner,
    )
    project.amount, project.currency, project._history_user = Decimal("99.10"), "USD", owner
    project.save()

    body = browser(owner).get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")
    body = body.content.decode()

    assert (
        f"<td>{owner}</td><td>Project</td>"
        "<td>amount: 120000000.00 → 99.10; currency: Chinese yuan → US dollar"
    ) in body
    assert (
        f"<td>{owner}</td><td>Send the credit memo</td>"
        "<td>status: Open → Renegotiated; reason: — → The client asked for a week</td>"
    ) in body


def test_an_open_commitment_shows_the_dates_it_replaced(browser, owner, project):
    first = CommitmentFactory(project=project, title="Send the credit memo")
    services.commitment_renegotiate(
        commitment=first,
        new_due_at=timezone.now() + timedelta(days=10),
        reason="Waiting for the audit",
        by=owner,
    )

    url = reverse("dashboard:project", args=[project.pk])
    body = browser(owner).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    due = timezone.localtime(first.due_at, timezone=owner.zone).strftime("%Y-%m-%d")
    assert f"was due {due} (Waiting for the audit)" in body


def test_the_side_forms_load_when_opened(browser, owner, project, contact):
    page = browser(owner)
    url = reverse("dashboard:project", args=[project.pk])

    whole = page.get(url).content.decode()
    opened = page.get(f"{url}?form=touchpoint", headers={"HX-Request": "true"}).content.decode()

    assert 'id="id_touchpoint_summary"' not in whole and f'hx-get="{url}?form=touchpoint"' in whole
    assert 'id="id_touchpoint_summary"' in opened and "<html" not in opened
    assert contact.name in opened


def test_a_side_form_opens_in_the_page_without_javascript(browser, owner, project):
    url = reverse("dashboard:project", args=[project.pk])

    body = browser(owner).get(f"{url}?form=commitment").content.decode()

    assert "<html" in body and 'id="id_commitment_due_at"' in body
    assert 'id="id_touchpoint_summary"' not in body


def test_department_staff_cannot_open_a_side_form(browser, department_user, project):
    CommitmentFactory(project=project, owner=department_user)
    url = reverse("dashboard:project", args=[project.pk])

    assert browser(department_user).get(f"{url}?form=stage").status_code == 403


def test_another_teams_project_answers_404(browser, outsider, project):
    assert browser(outsider).get(reverse("dashboard:project", args=[project.pk])).status_code == 404
    assert browser(outsider).get(reverse("dashboard:client", args=[project.client_id])).status_code == 404
    url = reverse("dashboard:project", args=[project.pk])
    assert browser(outsider).get(f"{url}?form=touchpoint", headers={"HX-Request": "true"}).status_code == 404


def test_logging_a_touchpoint_from_the_project_page(browser, owner, project):
    response = browser(owner).post(
        reverse("dashboard:project-action", args=[project.pk, "touchpoint"]),
        {
            "channel": "call",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "summary": "Confirmed the disbursement schedule",
            "is_client_update": "on",
        },
    )

    assert response.status_code == 302
    touchpoint = Touchpoint.objects.get(project=project)
    assert touchpoint.logged_by == owner and touchpoint.is_client_update


def test_a_touchpoint_in_the_future_is_refused_next_to_the_field(browser, owner, project):
    future = timezone.localtime() + timedelta(days=2)

    response = browser(owner).post(
        reverse("dashboard:project-action", args=[project.pk, "touchpoint"]),
        {"channel": "call", "occurred_at": future.strftime("%Y-%m-%dT%H:%M"), "summary": "Later"},
    )

    assert response.status_code == 400
    assert 'id="id_touchpoint_occurred_at_error"' in response.content.decode()
    assert not Touchpoint.objects.filter(project=project).exists()


def test_a_commitment_due_in_the_past_is_refused_next_to_the_field(browser, owner, project):
    past = timezone.localtime() - timedelta(days=1)

    response = browser(owner).post(
        reverse("dashboard:project-action", args=[project.pk, "commitment"]),
        {
            "title": "Send it",
            "kind": "document",
            "due_at": past.strftime("%Y-%m-%dT%H:%M"),
            "owner": owner.pk,
        },
    )

    assert response.status_code == 400
    assert 'id="id_commitment_due_at_error"' in response.content.decode()
    assert not Commitment.objects.filter(project=project).exists()


def test_fulfilling_and_renegotiating_a_commitment(browser, owner, project):
    kept = CommitmentFactory(project=project)
    moved = CommitmentFactory(project=project)
    new_due = timezone.localtime() + timedelta(days=20)

    browser(owner).post(reverse("dashboard:commitment-action", args=[kept.pk, "fulfil"]))
    browser(owner).post(
        reverse("dashboard:commitment-action", args=[moved.pk, "renegotiate"]),
        {"new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "reason": "Credit committee moved"},
    )

    kept.refresh_from_db()
    moved.refresh_from_db()
    assert kept.status == "fulfilled"
    assert moved.status == "renegotiated"
    assert timezone.localtime(moved.renegotiated_to.due_at).date() == new_due.date()


def test_renegotiating_without_a_reason_shows_the_error(browser, owner, project):
    commitment = CommitmentFactory(project=project)
    new_due = timezone.localtime() + timedelta(days=20)

    response = browser(owner).post(
        reverse("dashboard:commitment-action", args=[commitment.pk, "renegotiate"]),
        {"new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "reason": ""},
    )

    assert response.status_code == 400
    assert f'id="id_renegotiate_{commitment.pk}_reason_error"' in response.content.decode()


def test_skipping_a_stage_without_override_is_refused(browser, owner, project):
    response = browser(owner).post(
        reverse("dashboard:project-action", args=[project.pk, "stage"]), {"to_stage": "documentation"}
    )

    assert response.status_code == 400
    assert 'id="id_stage_to_stage_error"' in response.content.decode()
    project.refresh_from_db()
    assert project.stage == "inquiry"


def test_department_staff_cannot_change_the_project(browser, department_user, project):
    CommitmentFactory(project=project, owner=department_user)

    response = browser(department_user).post(
        reverse("dashboard:project-action", args=[project.pk, "stage"]), {"to_stage": "term_sheet"}
    )

    assert response.status_code == 403


def test_creating_a_status_link_shows_the_url_once(browser, owner, project, contact):
    response = browser(owner).post(
        reverse("dashboard:project-action", args=[project.pk, "status_link"]),
        {"contact": contact.pk, "days": 30},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "/p/" in body
    again = browser(owner).get(reverse("dashboard:project", args=[project.pk])).content.decode()
    assert 'id="new-status-url"' not in again


def _status_link_form(client, project) -> dict:
    """The status-link form's fields as the page renders them (its one-time request key)."""
    body = client.get(reverse("dashboard:project", args=[project.pk]) + "?form=status_link").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', body)
    assert key is not None, "the form carries no request key"
    return {"request_key": key.group(1)}


def test_sending_the_status_link_form_again_shows_the_same_link_and_creates_no_other(
    browser, owner, project, contact
):
    client = browser(owner)
    sent = {**_status_link_form(client, project), "contact": contact.pk, "days": 30}
    action = reverse("dashboard:project-action", args=[project.pk, "status_link"])

    first, reloaded = client.post(action, sent), client.post(action, sent)

    assert (first.status_code, reloaded.status_code) == (200, 200)
    assert ProjectStatusLink.objects.filter(project=project).count() == 1
    assert first.context["new_status_url"] == reloaded.context["new_status_url"]
    link = ProjectStatusLink.objects.get(project=project)
    token = first.context["new_status_url"].rstrip("/").rsplit("/", 1)[1]
    assert link.token_hash == hash_token(token)
    # The page shown after it offers a new form, which asks for another link.
    again = {**_status_link_form(client, project), "contact": contact.pk, "days": 30}
    assert again["request_key"] != sent["request_key"]
    assert client.post(action, again).context["new_status_url"] != first.context["new_status_url"]
    assert ProjectStatusLink.objects.filter(project=project).count() == 2


def test_a_status_link_form_whose_link_was_revoked_since_is_refused_and_offers_a_fresh_form(
    browser, owner, project, contact
):
    client = browser(owner)
    sent = {**_status_link_form(client, project), "contact": contact.pk, "days": 30}
    action = reverse("dashboard:project-action", args=[project.pk, "status_link"])
    client.post(action, sent)
    services.status_link_revoke(link=ProjectStatusLink.objects.get(project=project))

    resent, again = client.post(action, sent), client.post(action, sent)

    assert (resent.status_code, again.status_code) == (400, 400)
    assert not resent.context["new_status_url"]
    assert "此表单创建的链接已被撤销或已过期" in resent.content.decode()
    assert ProjectStatusLink.objects.filter(project=project).count() == 1
    # The form shown with the refusal carries a new key: sent, it creates a new link.
    fresh = re.search(r'name="request_key" value="([^"]+)"', resent.content.decode()).group(1)
    assert fresh != sent["request_key"]
    created = client.post(action, {**sent, "request_key": fresh})
    assert created.status_code == 200
    token = created.context["new_status_url"].rstrip("/").rsplit("/", 1)[1]
    assert services.status_link_resolve(token) is not None


def test_the_request_key_of_one_form_gives_another_person_or_contact_a_link_of_their_own(
    owner, teammate, project, contact
):
    other_contact = ContactFactory(client=project.client)
    mine, my_token = services.status_link_create(
        project=project, contact=contact, created_by=owner, request_key="k"
    )
    for who, whom in ((teammate, contact), (owner, other_contact)):
        theirs, their_token = services.status_link_create(
            project=project, contact=whom, created_by=who, request_key="k"
        )
        assert (theirs.pk, their_token) != (mine.pk, my_token)


# --- Client profile --------------------------------------------------------------------------


@pytest.fixture
def mixed_portfolio(owner, teammate, outsider, department_user, client_org):
    """Projects reaching the owner each way the rule allows (and reaching others), and not."""
    colleagues_client = ClientFactory(relationship_manager=teammate)
    mine_at_a_colleagues_client = ProjectFactory(client=colleagues_client, relationship_manager=owner)
    colleagues_at_my_client = ProjectFactory(client=client_org, relationship_manager=teammate)
    colleagues = ProjectFactory(client=colleagues_client)
    foreign = ProjectFactory(client=ClientFactory(relationship_manager=outsider))
    CommitmentFactory(project=colleagues, owner=department_user)
    ClientFactory(relationship_manager=owner)  # no project yet
    return [mine_at_a_colleagues_client, colleagues_at_my_client, colleagues, foreign]


@pytest.mark.parametrize("who", ["owner", "teammate", "manager", "department_user", "outsider", "admin_user"])
def test_project_and_client_pages_show_exactly_what_the_scoping_rule_lets_through(
    request, browser, mixed_portfolio, who
):
    user = request.getfixturevalue(who)
    page = browser(user)
    projects = set(portfolio_for(user).values_list("pk", flat=True))
    clients = set(clients_for(user).values_list("pk", flat=True))

    for project in mixed_portfolio:
        response = page.get(reverse("dashboard:project", args=[project.pk]))
        assert response.status_code == (200 if project.pk in projects else 404)
    for client in selectors.model("finance_projects.Client").objects.all():
        response = page.get(reverse("dashboard:client", args=[client.pk]))
        assert response.status_code == (200 if client.pk in clients else 404)
        body = response.content.decode()
        for project in client.projects.all():
            assert (project.code in body) == (project.pk in projects), (client, project)


def test_a_client_without_projects_shows_its_heading(browser, owner):
    client = ClientFactory(relationship_manager=owner, name="Qinghai Solar Holdings")

    response = browser(owner).get(reverse("dashboard:client", args=[client.pk]))

    assert response.status_code == 200
    assert "Qinghai Solar Holdings" in response.content.decode()
    assert response.context["projects"] == []


def test_client_profile_lists_projects_and_contacts(browser, owner, project, contact):
    response = browser(owner).get(reverse("dashboard:client", args=[project.client_id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert project.code in body and contact.name in body


# --- Exports ---------------------------------------------------------------------------------


def test_portfolio_csv_holds_only_what_the_viewer_sees(browser, owner, project, foreign_project):
    response = browser(owner).get(reverse("dashboard:export-portfolio", args=["csv"]))

    body = b"".join(response.streaming_content).decode()
    assert project.code in body
    assert foreign_project.code not in body


def test_portfolio_csv_shows_times_in_the_viewers_zone_and_amounts_to_the_cent(browser, owner, client_org):
    from datetime import UTC, datetime

    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    project = ProjectFactory(client=client_org, amount=Decimal("1000000.10"))
    FinancingProject.objects.filter(pk=project.pk).update(
        last_client_update_at=datetime(2025, 1, 1, 3, 0, tzinfo=UTC)
    )

    response = browser(owner).get(reverse("dashboard:export-portfolio", args=["csv"]))

    body = b"".join(response.streaming_content).decode()
    assert "2024-12-31 22:00" in body  # 03:00 UTC is the evening before in New York
    assert "1000000.10" in body


def test_portfolio_xlsx_is_a_spreadsheet_with_the_filtered_rows(browser, owner, client_org):
    import io

    import openpyxl

    wanted = ProjectFactory(client=client_org, name="Offshore wind")
    other = ProjectFactory(client=client_org, name="Coal retrofit")

    response = browser(owner).get(reverse("dashboard:export-portfolio", args=["xlsx"]), {"q": "wind"})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    codes = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [wanted.code]
    assert other.code not in codes


def test_kpi_export_is_for_managers(browser, owner, manager):
    assert browser(owner).get(reverse("dashboard:export-kpis", args=["csv"])).status_code == 403
    response = browser(manager).get(reverse("dashboard:export-kpis", args=["xlsx"]))
    assert response.status_code == 200


# --- Query counts ----------------------------------------------------------------------------


def _grow(project, owner, n):
    for i in range(n):
        other = ProjectFactory(client=project.client)
        AlertFactory(project=other, severity="critical" if i % 2 else "warning")
        CommitmentFactory(project=other, due_at=timezone.now() + timedelta(hours=i + 1))
        TouchpointFactory(project=other)


@pytest.mark.parametrize("size", [2, 20])
def test_home_query_count_does_not_grow(browser, owner, project, size, django_assert_max_num_queries):
    _grow(project, owner, size)
    page = browser(owner)

    # Two of them draw the assign menus: the teams of the team's manager (to compile what they
    # see) and one statement for who of the team sees which alert's project.
    with django_assert_max_num_queries(19):
        assert page.get("/").status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_home_with_stored_scores_runs_no_live_scoring(
    browser, owner, project, size, django_assert_max_num_queries
):
    _grow(project, owner, size)
    refresh_health()
    page = browser(owner)

    # Five fewer than with live scoring: the health queries are gone.
    with django_assert_max_num_queries(14):
        assert page.get("/").status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_client_page_query_count_does_not_grow(browser, owner, project, size, django_assert_max_num_queries):
    _grow(project, owner, size)
    refresh_health()
    page = browser(owner)

    with django_assert_max_num_queries(9):
        assert page.get(reverse("dashboard:client", args=[project.client_id])).status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_team_query_count_does_not_grow(
    browser, manager, project, owner, size, django_assert_max_num_queries
):
    _grow(project, owner, size)
    page = browser(manager)

    # Two of them draw the assign menus, as on the home page; four read the client-feedback
    # tables (survey_metrics' two aggregates, by RM and by stage), whatever the data size.
    with django_assert_max_num_queries(32):
        assert page.get("/team/").status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_project_page_query_count_does_not_grow(browser, owner, project, size, django_assert_max_num_queries):
    for i in range(size):
        TouchpointFactory(project=project)
        commitment = CommitmentFactory(project=project, due_at=timezone.now() + timedelta(days=i + 1))
        AlertFactory(project=project, subject_id=commitment.pk)
        SurveyResponseFactory(invitation=InvitationFactory(project=project))
        InvitationFactory(project=project)
    page = browser(owner)

    with django_assert_max_num_queries(PROJECT_PAGE_QUERIES):
        assert page.get(reverse("dashboard:project", args=[project.pk])).status_code == 200


# --- Hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize("rm", ["²", "99999999999999999999999"])
def test_a_malformed_rm_filter_is_ignored_not_a_server_error(browser, owner, project, rm):
    response = browser(owner).get("/", {"rm": rm})

    assert response.status_code == 200
    assert project.code in response.content.decode()


def test_a_malformed_kpi_export_period_falls_back_to_thirty_days(browser, manager, project):
    response = browser(manager).get(reverse("dashboard:export-kpis", args=["csv"]), {"days": "²"})

    assert response.status_code == 200


def test_an_alert_action_never_redirects_to_another_site(browser, owner, project):
    alert = AlertFactory(project=project)

    response = browser(owner).post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]), {"next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")


def test_an_alert_action_goes_back_to_the_page_it_came_from(browser, manager, project):
    alert = AlertFactory(project=project)

    response = browser(manager).post(
        reverse("dashboard:alert-action", args=[alert.pk, "acknowledge"]), {"next": "/team/?sort=days"}
    )

    assert response["Location"] == "/team/?sort=days"


def test_home_greets_a_chinese_user_by_the_whole_name(browser, owner):
    owner.first_name, owner.last_name, owner.language = "浩", "黄", "zh-hans"
    owner.save()

    body = browser(owner).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "<h1>黄浩，您好</h1>" in body


def test_department_staff_are_offered_actions_only_on_the_commitments_they_own(
    browser, owner, department_user, project
):
    theirs = CommitmentFactory(project=project, owner=department_user)
    others = CommitmentFactory(project=project, owner=owner)

    body = browser(department_user).get(reverse("dashboard:project", args=[project.pk])).content.decode()

    assert reverse("dashboard:commitment-action", args=[theirs.pk, "fulfil"]) in body
    assert reverse("dashboard:commitment-action", args=[theirs.pk, "renegotiate"]) in body
    assert reverse("dashboard:commitment-action", args=[others.pk, "fulfil"]) not in body
    assert reverse("dashboard:commitment-action", args=[others.pk, "renegotiate"]) not in body
    assert others.title in body  # still listed


def test_the_projects_rm_is_offered_actions_on_every_open_commitment(
    browser, owner, department_user, project
):
    commitments = [
        CommitmentFactory(project=project, owner=department_user),
        CommitmentFactory(project=project),
    ]

    body = browser(owner).get(reverse("dashboard:project", args=[project.pk])).content.decode()

    assert all(reverse("dashboard:commitment-action", args=[c.pk, "fulfil"]) in body for c in commitments)


def test_chinese_labels_end_with_a_full_width_colon_and_checkboxes_with_none(browser, owner, project):
    url = reverse("dashboard:project", args=[project.pk])

    body = browser(owner).get(f"{url}?form=touchpoint", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<label for="id_touchpoint_channel">渠道：</label>' in body
    assert '<label for="id_touchpoint_is_client_update">属于向客户通报进展</label>' in body
    assert "渠道:" not in body


def test_department_staff_count_only_the_open_complaints_they_can_open(
    owner, department_user, project, contact
):
    from tests.factories import ComplaintFactory, ensure_sla_policies

    ensure_sla_policies()
    CommitmentFactory(project=project, owner=department_user)  # how they see the project
    ComplaintFactory(project=project, contact=contact)
    ComplaintFactory(project=project, contact=contact, owner=department_user)
    table = selectors.PortfolioTable(Scope.of(department_user), filters=selectors.PortfolioFilters())

    assert [row["open_complaints"] for row in table[0:25]] == [1]
    assert [
        row["open_complaints"]
        for row in selectors.PortfolioTable(Scope.of(owner), filters=selectors.PortfolioFilters())[0:25]
    ] == [2]


def test_the_navigation_leads_to_the_bulk_import_for_those_who_may_import(browser, owner, department_user):
    link = f'<a href="{reverse("import-start")}">'

    assert link in browser(owner).get("/").content.decode()
    assert link not in browser(department_user).get("/").content.decode()
