"""The survey responses page narrowed to a period and a relationship manager: the answers behind
the team page's client-feedback figures. The period is whole days in the reader's time zone, both
ends included (the metrics' [start, end)); the RM is the project's, as the figures group them,
and the filter never widens what the reader may see. A value that is not one is ignored."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from feedback.selectors import survey_metrics
from finance_projects.selectors import portfolio_for
from tests.factories import (
    ClientFactory,
    CommitmentFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

URL = "/responses/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def answered(project, *, at=None, nps=9):
    at = at or timezone.now() - timedelta(hours=2)
    invitation = InvitationFactory(project=project, sent_at=at, responded_at=at)
    return SurveyResponseFactory(
        invitation=invitation, nps=nps, csat=4, ces=6, is_detractor=nps <= 6, submitted_at=at
    )


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def get(client, user, params=None) -> str:
    client.force_login(user)
    response = client.get(URL, params or {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def shown(body) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-response="(\d+)">', body)]


def rm_options(body) -> list[str]:
    """The values of the RM menu's options, the empty "every RM" one first; [] without a menu."""
    menu = re.search(r'<select name="rm".*?</select>', body, re.S)
    return re.findall(r'<option value="([^"]*)"', menu.group(0)) if menu else []


@pytest.fixture
def teammates_project(teammate):
    return ProjectFactory(client=ClientFactory(relationship_manager=teammate, team=teammate.team))


@pytest.fixture
def outsiders_project(outsider):
    return ProjectFactory(client=ClientFactory(relationship_manager=outsider, team=outsider.team))


# --- The period --------------------------------------------------------------------------------


@pytest.fixture
def around_a_period(owner, project):
    """Answers on each side of 10–12 March 2025 in Shanghai. The last two fall on the same UTC
    day (12 March, 15:30 and 16:10): only the reader's zone tells them apart."""
    owner.time_zone = "Asia/Shanghai"
    owner.save()
    return {
        "evening_before": answered(project, at=shanghai(2025, 3, 9, 23, 50)),
        "first_midnight": answered(project, at=shanghai(2025, 3, 10, 0, 0)),
        "middle": answered(project, at=shanghai(2025, 3, 11, 12, 0)),
        "last_evening": answered(project, at=shanghai(2025, 3, 12, 23, 30)),
        "next_morning": answered(project, at=shanghai(2025, 3, 13, 0, 10)),
    }


def test_the_period_takes_both_days_whole_from_local_midnight_to_local_midnight(
    client, owner, around_a_period
):
    made = around_a_period

    body = get(client, owner, {"start": "2025-03-10", "end": "2025-03-12"})

    assert shown(body) == [made["last_evening"].pk, made["middle"].pk, made["first_midnight"].pk]
    assert made["last_evening"].submitted_at.astimezone(SHANGHAI).date().isoformat() == "2025-03-12"
    assert made["next_morning"].pk not in shown(body)  # 00:10 the day after the last is out


def test_one_end_of_the_period_alone(client, owner, around_a_period):
    made = around_a_period

    since = shown(get(client, owner, {"start": "2025-03-13"}))
    until = shown(get(client, owner, {"end": "2025-03-09"}))
    one_day = shown(get(client, owner, {"start": "2025-03-12", "end": "2025-03-12"}))

    assert since == [made["next_morning"].pk]
    assert until == [made["evening_before"].pk]
    assert one_day == [made["last_evening"].pk]


def test_the_days_are_the_readers_own(client, owner, around_a_period):
    """In New York (UTC−4 on 12 March 2025) both of the last answers are on the 12th."""
    made = around_a_period
    owner.time_zone = "America/New_York"
    owner.save()

    body = get(client, owner, {"start": "2025-03-12", "end": "2025-03-12"})

    assert shown(body) == [made["next_morning"].pk, made["last_evening"].pk]


def test_a_period_ending_before_it_starts_matches_nothing(client, owner, around_a_period):
    body = get(client, owner, {"start": "2025-03-12", "end": "2025-03-10"})

    assert shown(body) == []
    assert "No survey responses match." in body


# --- The relationship manager ------------------------------------------------------------------


def test_the_rm_filter_lists_only_the_answers_on_that_rms_projects(
    client, manager, owner, teammate, project, teammates_project
):
    mine = answered(project)
    theirs = answered(teammates_project)
    # The owner's client, a project the teammate manages: the figures count it under the teammate.
    handed = answered(ProjectFactory(client=project.client, relationship_manager=teammate))

    assert set(shown(get(client, manager, {"rm": str(owner.pk)}))) == {mine.pk}
    assert set(shown(get(client, manager, {"rm": str(teammate.pk)}))) == {theirs.pk, handed.pk}
    assert set(shown(get(client, manager))) == {mine.pk, theirs.pk, handed.pk}


def test_a_manager_picks_among_the_rms_of_their_teams_projects(
    client, manager, owner, teammate, outsider, project, teammates_project, outsiders_project
):
    body = get(client, manager, {"rm": str(teammate.pk)})

    assert sorted(rm_options(body)) == sorted(["", str(owner.pk), str(teammate.pk)])
    assert f'<option value="{teammate.pk}" selected>' in body
    assert str(outsider.pk) not in rm_options(body)


def test_an_administrator_picks_among_every_rm(
    client, admin_user, owner, teammate, outsider, project, teammates_project, outsiders_project
):
    theirs = answered(outsiders_project)
    answered(project)

    body = get(client, admin_user, {"rm": str(outsider.pk)})

    assert sorted(rm_options(body)) == sorted(["", str(owner.pk), str(teammate.pk), str(outsider.pk)])
    assert shown(body) == [theirs.pk]


def test_department_staff_pick_among_the_rms_of_the_projects_they_work_on(
    client, department_user, teammate, project, teammates_project
):
    CommitmentFactory(project=teammates_project, owner=department_user)
    theirs = answered(teammates_project)
    answered(project)

    body = get(client, department_user, {"rm": str(teammate.pk)})

    assert rm_options(body) == ["", str(teammate.pk)]
    assert shown(body) == [theirs.pk]


def test_an_rm_gets_no_rm_menu(client, owner, project, teammates_project):
    answered(project)

    assert rm_options(get(client, owner)) == []


def test_an_rm_has_no_rm_filter_and_sees_only_their_own_answers_whatever_the_address_says(
    client, owner, teammate, outsider, project, teammates_project, outsiders_project
):
    own = answered(project)
    answered(teammates_project)
    theirs = answered(outsiders_project)
    # A project of the owner's client that the teammate manages: the owner saw it already.
    handed = answered(ProjectFactory(client=project.client, relationship_manager=teammate))

    for rm in (outsider, teammate):
        listed = shown(get(client, owner, {"rm": str(rm.pk)}))
        assert sorted(listed) == sorted([own.pk, handed.pk]), rm.username
        assert theirs.pk not in listed


# --- Values that are not ones, the form and the pages ------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-02-30"},
        {"start": "yesterday"},
        {"end": "0001-01-01"},
        {"end": "9999-12-31"},
        {"start": "2025-03-10T08:00"},
        {"start": "２０２５-03-10"},
        {"rm": "abc"},
        {"rm": "²"},
        {"rm": "-1"},
        {"rm": "9" * 40},
        {"rm": ""},
    ],
)
def test_a_value_that_is_not_one_is_ignored_not_an_error(client, manager, owner, project, params):
    survey_response = answered(project)

    body = get(client, manager, params)

    assert shown(body) == [survey_response.pk]
    assert "No survey answers yet." not in body


def test_a_day_that_is_not_one_leaves_the_other_end_in_force(client, owner, around_a_period):
    made = around_a_period

    body = get(client, owner, {"start": "2025-02-30", "end": "2025-03-09"})

    assert shown(body) == [made["evening_before"].pk]
    assert 'name="start" value=""' in body and 'name="end" value="2025-03-09"' in body


def test_the_form_keeps_the_period_and_the_rm(client, manager, owner, project):
    answered(project)

    body = get(client, manager, {"start": "2025-03-10", "end": "2025-03-12", "rm": str(owner.pk)})

    assert 'type="date" name="start" value="2025-03-10"' in body
    assert 'type="date" name="end" value="2025-03-12"' in body
    assert f'<option value="{owner.pk}" selected>' in body
    assert "Submitted from" in body and "Submitted until" in body
    assert "No survey responses match." in body  # none submitted in that period


def test_the_page_links_keep_the_period_and_the_rm(client, manager, owner, project):
    first_day = timezone.localtime(timezone.now(), manager.zone).date() - timedelta(days=1)
    start = timezone.now() - timedelta(hours=2)
    made = [answered(project, at=start - timedelta(minutes=i)) for i in range(30)]
    params = {"start": first_day.isoformat(), "rm": str(owner.pk)}
    kept = f"start={first_day.isoformat()}&amp;rm={owner.pk}"

    first = get(client, manager, params)
    second = get(client, manager, {**params, "page": "2"})

    assert shown(first) + shown(second) == [r.pk for r in made]
    assert f'href="?{kept}&amp;page=2"' in first
    assert f'href="?{kept}&amp;page=1"' in second


def test_the_period_and_the_rm_read_in_chinese(client, manager, owner, project):
    client.force_login(manager)
    body = client.get(URL, {"rm": str(owner.pk)}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    for english in ("Submitted from", "Submitted until", "Every RM", "No survey responses match."):
        assert english not in body
    assert "没有符合条件的问卷回复。" in body


# --- Queries -----------------------------------------------------------------------------------


def _answers(owner, teammate, size):
    for i in range(size):
        rm = (owner, teammate)[i % 2]
        project = ProjectFactory(
            client=ClientFactory(relationship_manager=rm, team=rm.team), code=f"PF-{i:03}"
        )
        answered(project, at=timezone.now() - timedelta(days=i % 5, hours=1), nps=i % 11)


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2025-01-01", "end": "2099-12-31", "rm": "OWNER", "q": "PF", "page": "2"},
        {"start": "not a day", "end": "2025-02-30", "rm": "x"},
    ],
)
def test_a_managers_page_costs_the_same_queries_whatever_the_filters_and_data_size(
    client, manager, owner, teammate, size, params, django_assert_num_queries
):
    _answers(owner, teammate, size)
    params = {name: str(owner.pk) if value == "OWNER" else value for name, value in params.items()}
    client.force_login(manager)
    client.get(URL)  # stamps the session's idle clock: written at most once a minute

    # The session and its user; the teams the manager leads, the count and the page of the list;
    # the teams again and the RMs of their projects for the RM menu.
    with django_assert_num_queries(7):
        assert client.get(URL, params).status_code == 200


@pytest.mark.parametrize("size", [2, 40])
def test_an_rms_page_costs_what_it_did_with_the_period_and_the_rm(
    client, owner, teammate, size, django_assert_num_queries
):
    _answers(owner, teammate, size)
    client.force_login(owner)
    client.get(URL)

    # The session and its user, then the count and the page of the list: as without the filters.
    with django_assert_num_queries(4):
        params = {"start": "2025-01-01", "end": "2099-12-31", "rm": str(owner.pk), "page": "2"}
        assert client.get(URL, params).status_code == 200


# --- From the team page ------------------------------------------------------------------------


def test_the_team_pages_figures_by_rm_link_to_their_answers_of_the_same_period(
    client, manager, owner, teammate, project, teammates_project
):
    now = timezone.now()
    mine = [answered(project, at=now - timedelta(days=d), nps=n) for d, n in ((1, 10), (3, 2))]
    answered(project, at=now - timedelta(days=20))  # outside the last 7 days
    answered(teammates_project, at=now - timedelta(days=1))
    client.force_login(manager)

    team = client.get("/team/", {"days": 7}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rm_table = re.search(r'<table class="feedback" data-group-by="rm".*?</table>', team, re.S).group(0)
    row = re.search(rf'<tr data-group="{owner.pk}">(.*?)</tr>', rm_table, re.S).group(1)
    link = re.search(r'<a href="([^"]*)" data-responses>', row).group(1).replace("&amp;", "&")

    today = timezone.localtime(now, manager.zone).date()
    first_day = today - timedelta(days=6)
    assert link == f"/responses/?rm={owner.pk}&start={first_day.isoformat()}&end={today.isoformat()}"
    listed = client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert shown(listed) == [r.pk for r in mine]
    # As many answers as the NPS of the row rests on, the figures `survey_metrics` gives.
    nps_n = re.search(r'data-metric="nps-n">(\d+)<', row).group(1)
    (figures,) = [
        r
        for r in survey_metrics(
            projects=portfolio_for(manager),
            group_by="rm",
            start=timezone.make_aware(datetime.combine(first_day, datetime.min.time()), manager.zone),
            end=timezone.make_aware(
                datetime.combine(today + timedelta(days=1), datetime.min.time()), manager.zone
            ),
            tz=manager.zone,
        )
        if r["group"] == owner.pk
    ]
    assert int(nps_n) == figures["nps"]["n"] == len(shown(listed))


def test_the_stage_figures_have_no_such_link(client, manager, project):
    answered(project)
    client.force_login(manager)

    team = client.get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    stage_table = re.search(r'<table class="feedback" data-group-by="stage".*?</table>', team, re.S)

    assert "data-responses" not in stage_table.group(0)
