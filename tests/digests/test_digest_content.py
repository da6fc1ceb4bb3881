from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.kpis import team_kpis
from digests.emails import render_digest
from digests.selectors import LIST_LIMIT, build_digest
from digests.weeks import IsoWeek
from feedback.models import Survey, SurveyInvitation, SurveyResponse
from finance_projects.selectors import portfolio_for
from tests.factories import ContactFactory, ProjectFactory, TouchpointFactory

from .conftest import NEW_YORK, SHANGHAI, W10, at

pytestmark = pytest.mark.django_db


def detractor(project, *, comment="Nobody called us back about the rate.", followed_up=False):
    survey = Survey.objects.create(kind="relationship", name_zh="关系调查", name_en="Relationship survey")
    contact = ContactFactory(client=project.client)
    invitation = SurveyInvitation.objects.create(
        project=project,
        contact=contact,
        survey=survey,
        trigger="manual",
        stage=project.stage,
        expires_at=timezone.now() + timedelta(days=30),
        sent_at=at(2025, 3, 4),
    )
    return SurveyResponse.objects.create(
        invitation=invitation,
        submitted_at=at(2025, 3, 6),
        nps=3,
        is_detractor=True,
        comment=comment,
        followed_up_at=timezone.now() if followed_up else None,
    )


def test_the_week_figures_are_worked_out_from_the_known_dataset(week10, manager):
    digest = build_digest(recipient=manager, week=W10)
    rows = digest.by_key
    assert rows["on_time_update_rate"].current == 50.0  # wind on time, Jiangsu 22 days late
    assert rows["promise_kept_rate"].current == 33.3  # one of three promises kept
    assert rows["missed_commitments"].current == 2
    assert rows["promise_kept_rate"].previous == 100.0
    assert rows["promise_kept_rate"].delta == -66.7
    assert rows["promise_kept_rate"].tone == "bad"
    assert rows["missed_commitments"].delta_display == "+2"
    assert rows["new_complaints"].current == 1
    assert rows["new_complaints"].previous == 0
    assert rows["overdue_complaints"].current == 1  # the January complaint, never decided
    assert rows["nps"].current is None
    assert rows["nps"].current_display == "–"


def test_the_digest_figures_match_the_dashboard_team_view_for_that_week(week10, manager):
    digest = build_digest(recipient=manager, week=W10)
    start, end = W10.bounds(SHANGHAI)
    team_view = team_kpis(projects=portfolio_for(manager), start=start, end=end)
    assert {key: digest.kpis[key] for key in team_view} == team_view


def test_a_manager_sees_only_the_projects_of_their_own_team(week10, manager, other_manager):
    mine = build_digest(recipient=manager, week=W10)
    theirs = build_digest(recipient=other_manager, week=W10)
    assert [a.message for a in mine.critical_alerts] == ["Credit approval promise missed"]
    assert [c.title for c in mine.due_commitments] == ["Send the signed term sheet"]
    assert "Hidden Hydro Co" not in {client.name for client in mine.health_drops}
    assert theirs.by_key["missed_commitments"].current == 1
    assert [a.message for a in theirs.critical_alerts] == ["Hidden alert"]
    rendered = render_digest(mine)
    assert "Hidden" not in rendered.html and "Hidden" not in rendered.text


def test_the_clients_whose_health_fell_are_listed_biggest_fall_first(week10, manager):
    digest = build_digest(recipient=manager, week=W10)
    assert [(c.name, c.health_before, c.health_after) for c in digest.health_drops] == [
        ("华能新能源 Huaneng Renewables", 82.0, 58.0)
    ]  # Yellow Sea Wind improved, so it is not listed


def test_while_the_next_snapshot_is_missing_the_fall_is_measured_against_todays_score(week10, manager):
    week10.wind.health = 40
    week10.wind.save(update_fields=["health"])
    digest = build_digest(recipient=manager, week=IsoWeek(2025, 11))  # no W12 snapshot yet
    assert [(c.name, c.health_drop) for c in digest.health_drops] == [("Yellow Sea Wind", 35.0)]


def test_only_detractors_not_yet_followed_up_need_attention(week10, manager):
    detractor(week10.jiangsu, comment="Nobody called us back about the rate.")
    detractor(week10.wind, comment="Already handled", followed_up=True)
    detractor(week10.hidden, comment="Another team's client")
    digest = build_digest(recipient=manager, week=W10)
    assert [r.comment for r in digest.detractors] == ["Nobody called us back about the rate."]
    assert digest.detractor_count == 1


def test_every_link_in_both_parts_is_absolute(week10, manager, settings):
    settings.SITE_URL = "https://cem.bank.example"
    detractor(week10.jiangsu)
    rendered = render_digest(build_digest(recipient=manager, week=W10))
    project_link = f"https://cem.bank.example/projects/{week10.jiangsu.pk}/"
    client_link = f"https://cem.bank.example/clients/{week10.jiangsu.client_id}/"
    for part in (rendered.html, rendered.text):
        assert project_link in part
        assert client_link in part
        assert "https://cem.bank.example/digests/unsubscribe/" in part
    assert 'href="/' not in rendered.html


def test_the_trend_chart_is_table_bars_without_script(week10, manager):
    digest = build_digest(recipient=manager, week=W10)
    assert len(digest.trend) == 8
    assert digest.trend[-1].monday == W10.monday
    assert digest.trend[-1].promise_bar == 33
    html = render_digest(digest).html
    assert "<script" not in html.lower()
    assert 'width="33%"' in html and 'width="50%"' in html


def test_the_week_is_cut_at_midnight_in_the_recipients_own_zone(clock, manager, client_org):
    """An update on Sunday 23:30 in New York (Monday 11:30 in Shanghai) belongs to W10 in New
    York and to W11 in Shanghai; that week New York changed to summer time."""
    project = ProjectFactory(client=client_org)
    clock.move_to(at(2025, 3, 12))
    TouchpointFactory(project=project, occurred_at=at(2025, 3, 9, 23, 30, tz=NEW_YORK))
    assert build_digest(recipient=manager, week=W10).kpis["updates"] == 0
    manager.time_zone = "America/New_York"
    assert build_digest(recipient=manager, week=W10).kpis["updates"] == 1
    assert build_digest(recipient=manager, week=W10).start == at(2025, 3, 3, 0, tz=NEW_YORK)


def test_a_list_cut_at_its_limit_says_how_many_more_the_dashboard_holds(week10, manager):
    for n in range(LIST_LIMIT + 2):
        detractor(week10.jiangsu, comment=f"Complaint number {n}")

    digest = build_digest(recipient=manager, week=W10)
    rendered = render_digest(digest)

    assert (len(digest.detractors), digest.detractor_count) == (LIST_LIMIT, LIST_LIMIT + 2)
    for part in (rendered.text, rendered.html):
        assert f"Detractor responses not yet followed up ({LIST_LIMIT + 2})" in part
        assert "… and 2 more on the dashboard" in part


def test_a_list_that_shows_every_row_says_nothing_more(week10, manager):
    for n in range(LIST_LIMIT):
        detractor(week10.jiangsu, comment=f"Complaint number {n}")

    rendered = render_digest(build_digest(recipient=manager, week=W10))

    assert "more on the dashboard" not in rendered.text + rendered.html


def test_the_teams_covered_are_listed_in_the_digests_language(week10, manager, other_team):
    from django.utils import translation

    other_team.manager = manager
    other_team.save()
    digest = build_digest(recipient=manager, week=W10)

    with translation.override("zh-hans"):
        assert digest.scope_text == "、".join(digest.scope)
    with translation.override("en"):
        assert digest.scope_text == ", ".join(digest.scope)
    assert len(digest.scope) == 2
