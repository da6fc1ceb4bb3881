"""The survey responses page (`/responses/`): every submitted answer the user may see, the
survey-response API's own scope, newest first, with its scores, failure categories, detractor
badge and follow-up; filtered by category (the API's `category` semantics), detractors and
follow-ups still to make, searched by client or project; paginated at a fixed query count."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.services import response_record_follow_up
from finance_projects.models import FailureCategory
from tests.factories import (
    AlertFactory,
    ClientFactory,
    CommitmentFactory,
    ContactFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

URL = "/responses/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def answered(
    project, contact=None, *, nps=9, csat=4, ces=6, comment="", categories=(), at=None, detractor=None
):
    invitation = InvitationFactory(project=project, **({"contact": contact} if contact else {}))
    return SurveyResponseFactory(
        invitation=invitation,
        nps=nps,
        csat=csat,
        ces=ces,
        comment=comment,
        categories=list(categories),
        is_detractor=(nps is not None and nps <= 6) if detractor is None else detractor,
        submitted_at=at or timezone.now() - timedelta(hours=2),
    )


def get(client, user, params=None, language="en"):
    client.force_login(user)
    response = client.get(URL, params or {}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def shown(body) -> list[int]:
    """The ids of the responses listed, in their order."""
    return [int(pk) for pk in re.findall(r'<tr data-response="(\d+)">', body)]


def row_of(body, survey_response) -> str:
    match = re.search(rf'<tr data-response="{survey_response.pk}">(.*?)</tr>', body, re.S)
    assert match is not None
    return match.group(1)


def api_ids(api_as, user, params=None) -> set[int]:
    response = api_as(user).get("/api/v1/survey-responses/", {"page_size": 100, **(params or {})})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


# --- Access and scope -------------------------------------------------------------------------


def test_the_page_needs_a_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_route_is_named_like_the_other_dashboard_pages():
    assert reverse("dashboard:responses") == URL


def test_an_rm_sees_their_portfolio_answers_newest_first_and_no_draft_or_other_team(
    client, owner, outsider, project, contact
):
    old = answered(project, contact, at=timezone.now() - timedelta(days=3))
    new = answered(project, contact, at=timezone.now() - timedelta(hours=1))
    draft = answered(project, contact)
    draft.submitted_at = None
    draft.save()
    foreign = answered(
        ProjectFactory(client=ClientFactory(relationship_manager=outsider, team=outsider.team))
    )

    ids = shown(get(client, owner))

    assert ids == [new.pk, old.pk]
    assert draft.pk not in ids and foreign.pk not in ids


def test_everyone_sees_exactly_what_the_survey_response_api_lists(
    client, api_as, owner, teammate, outsider, manager, department_user, admin_user, project, contact
):
    mine = answered(project, contact)
    teammates = answered(
        ProjectFactory(client=ClientFactory(relationship_manager=teammate, team=teammate.team))
    )
    foreign = answered(
        ProjectFactory(client=ClientFactory(relationship_manager=outsider, team=outsider.team))
    )
    handed = ProjectFactory(client=ClientFactory(relationship_manager=teammate, team=teammate.team))
    CommitmentFactory(project=handed, owner=department_user)
    departments = answered(handed)

    expected = {
        owner: {mine.pk},
        teammate: {teammates.pk, departments.pk},
        outsider: {foreign.pk},
        manager: {mine.pk, teammates.pk, departments.pk},
        department_user: {departments.pk},
        admin_user: {mine.pk, teammates.pk, foreign.pk, departments.pk},
    }
    for user, ids in expected.items():
        assert set(shown(get(client, user))) == ids == api_ids(api_as, user), user.username


# --- What a row shows -------------------------------------------------------------------------


def test_a_row_shows_time_in_the_users_zone_project_link_to_the_response_contact_and_scores(
    client, owner, project, contact
):
    owner.time_zone = "America/New_York"
    owner.save()
    survey_response = answered(
        project, contact, nps=3, csat=2, ces=5, at=datetime(2025, 1, 1, 3, 30, tzinfo=UTC)
    )

    row = row_of(get(client, owner), survey_response)

    assert "2024-12-31 22:30" in row  # 03:30 UTC is the evening before in New York
    link = f"{reverse('dashboard:project', args=[project.pk])}#response-{survey_response.pk}"
    assert f'href="{link}"' in row
    assert project.code in row and project.client.name in row and contact.name in row
    assert '<span class="badge sev-critical">3</span>' in row
    assert '<span class="badge sev-critical">2/5</span>' in row
    assert '<span class="badge ok">5/7</span>' in row


def test_the_link_lands_on_the_response_of_the_project_page(client, owner, project, contact):
    survey_response = answered(project, contact)
    link = re.search(r'href="([^"]+#response-\d+)"', row_of(get(client, owner), survey_response)).group(1)
    path, anchor = link.split("#")

    page = client.get(path)

    assert page.status_code == 200
    assert f'id="{anchor}"' in page.content.decode()


def test_a_long_comment_is_cut_short(client, owner, project, contact):
    survey_response = answered(project, contact, comment="The credit memo was late again. " * 20)

    row = row_of(get(client, owner), survey_response)

    assert "“The credit memo was late again." in row
    assert "…”" in row


def test_failure_categories_are_shown_with_their_translated_labels(client, owner, project, contact):
    survey_response = answered(project, contact, categories=["late_information", "broken_commitment"])

    english = row_of(get(client, owner), survey_response)
    chinese = row_of(get(client, owner, language="zh-hans"), survey_response)

    assert '<span class="badge">Late information</span>' in english
    assert '<span class="badge">Broken commitment</span>' in english
    assert '<span class="badge">信息传递不及时</span>' in chinese
    assert '<span class="badge">承诺未兑现</span>' in chinese


def test_a_detractor_is_badged_and_its_follow_up_shown_once_recorded(client, owner, project, contact):
    pending = answered(project, contact, nps=2, at=timezone.now() - timedelta(hours=3))
    called = answered(project, contact, nps=1, at=timezone.now() - timedelta(hours=2))
    promoter = answered(project, contact, nps=10)
    response_record_follow_up(
        response=called, by=owner, contacted_at=timezone.now() - timedelta(hours=1), outcome="Called"
    )

    body = get(client, owner)

    assert '<span class="badge sev-critical">Detractor</span>' in row_of(body, pending)
    assert "No follow-up recorded yet." in row_of(body, pending)
    called_row = row_of(body, called)
    assert '<span class="badge sev-critical">Detractor</span>' in called_row
    assert "No follow-up recorded yet." not in called_row
    called.refresh_from_db()
    assert timezone.localtime(called.followed_up_at, owner.zone).strftime("%Y-%m-%d %H:%M") in called_row
    assert '<span class="badge sev-critical">Detractor</span>' not in row_of(body, promoter)
    assert "No follow-up recorded yet." not in row_of(body, promoter)


# --- Filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("category", FailureCategory.values)
def test_the_category_filter_keeps_what_the_apis_category_filter_keeps(
    client, api_as, owner, project, contact, category
):
    for codes in ([], ["late_information"], ["late_information", "slow_resolution"], ["broken_commitment"]):
        answered(project, contact, categories=codes)
    answered(project, contact, comment="slow_resolution late_information")  # in the text, not tagged

    ids = shown(get(client, owner, {"category": category}))

    assert set(ids) == api_ids(api_as, owner, {"category": category})
    assert f'<option value="{category}" selected>' in get(client, owner, {"category": category})


def test_the_category_filter_finds_the_tagged_responses(client, owner, project, contact):
    late = answered(project, contact, categories=["late_information", "slow_resolution"])
    answered(project, contact, categories=["broken_commitment"])

    assert shown(get(client, owner, {"category": "slow_resolution"})) == [late.pk]


def test_detractors_only_and_detractors_not_yet_followed_up(client, api_as, owner, project, contact):
    pending = answered(project, contact, nps=2)
    called = answered(project, contact, nps=3)
    promoter = answered(project, contact, nps=10)
    response_record_follow_up(response=called, by=owner, contacted_at=timezone.now(), outcome="Called")

    detractors = set(shown(get(client, owner, {"detractor": "1"})))
    page = get(client, owner, {"pending": "1"})
    both = shown(get(client, owner, {"detractor": "1", "pending": "1"}))

    assert detractors == {pending.pk, called.pk} == api_ids(api_as, owner, {"detractor": "true"})
    # A promoter needs no call back: the list of follow-ups to make is the API's needs_follow_up.
    assert shown(page) == [pending.pk]
    assert {pending.pk} == api_ids(api_as, owner, {"needs_follow_up": "true"})
    assert "Waiting for a follow-up (detractors and call-back requests)" in page
    assert both == [pending.pk]
    # `followed_up` stays literal: no follow-up recorded, whoever answered.
    assert api_ids(api_as, owner, {"followed_up": "false"}) == {pending.pk, promoter.pk}


def test_search_by_project_code_or_name_or_client(client, owner, client_org, contact):
    wind = answered(ProjectFactory(client=client_org, name="Offshore wind Rudong", code="PF-WIND-1"), contact)
    other_client = ClientFactory(relationship_manager=owner, team=owner.team, name="Yancheng Solar Co")
    solar = answered(ProjectFactory(client=other_client, name="Rooftop"), ContactFactory(client=other_client))

    assert shown(get(client, owner, {"q": "wind"})) == [wind.pk]
    assert shown(get(client, owner, {"q": "pf-wind"})) == [wind.pk]
    assert shown(get(client, owner, {"q": "yancheng"})) == [solar.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"category": "bogus"},
        {"category": "'\""},
        {"detractor": "maybe", "pending": "[]"},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
        {"q": "x" * 5000},
        {"q": "%_\\'\""},
    ],
)
def test_a_filter_value_that_is_not_one_is_ignored_not_a_server_error(
    client, owner, project, contact, params
):
    survey_response = answered(project, contact, categories=["late_information"])

    body = get(client, owner, params)

    if "q" not in params:
        assert shown(body) == [survey_response.pk]


def test_the_filters_are_kept_in_the_form(client, owner, project, contact):
    body = get(client, owner, {"q": "wind", "detractor": "1", "pending": "on", "category": "complex_process"})

    assert 'name="q" value="wind"' in body
    assert 'name="detractor" value="1" checked' in body
    assert 'name="pending" value="1" checked' in body
    assert '<option value="complex_process" selected>' in body


# --- Empty state and pages --------------------------------------------------------------------


def test_empty_states(client, owner, project, contact):
    assert "No survey answers yet." in get(client, owner)

    answered(project, contact, categories=[])

    body = get(client, owner, {"category": "late_information"})
    assert shown(body) == []
    assert "No survey responses match." in body


def test_the_list_is_paginated_and_the_page_links_keep_the_filters(client, owner, project, contact):
    start = timezone.now() - timedelta(days=1)
    made = [answered(project, contact, nps=2, at=start + timedelta(minutes=i)) for i in range(30)]
    newest_first = [r.pk for r in reversed(made)]

    first = get(client, owner, {"detractor": "1"})
    second = get(client, owner, {"detractor": "1", "page": "2"})
    past_the_end = get(client, owner, {"detractor": "1", "page": "9"})

    assert shown(first) == newest_first[:25]
    assert shown(second) == newest_first[25:]
    assert shown(past_the_end) == newest_first[25:]
    assert "Page 1 of 2" in first
    assert 'href="?detractor=1&amp;page=2"' in first
    assert 'href="?detractor=1&amp;page=1"' in second
    assert '<span class="count" id="responses-count">30</span>' in first


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize(
    "params", [{}, {"category": "late_information", "detractor": "1", "q": "PF", "page": "2"}]
)
def test_a_page_costs_the_same_queries_whatever_the_data_size(
    client, owner, client_org, size, params, django_assert_num_queries
):
    for i in range(size):
        project = ProjectFactory(client=client_org, code=f"PF-{i:03}")
        survey_response = answered(project, nps=i % 11, categories=["late_information"] if i % 2 else [])
        if i % 3 == 0:
            response_record_follow_up(
                response=survey_response, by=owner, contacted_at=timezone.now(), outcome=f"Called {i}"
            )
    client.force_login(owner)
    client.get(URL)  # stamps the session's idle clock: written at most once a minute

    # The session and its user, then the count and the page of the list.
    with django_assert_num_queries(4):
        assert client.get(URL, params).status_code == 200


# --- Ways in ----------------------------------------------------------------------------------


def test_the_main_navigation_links_to_the_page(client, owner, department_user):
    for user in (owner, department_user):
        client.force_login(user)
        body = client.get("/complaints/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'<a href="{URL}">Survey responses</a>' in body


def test_the_homes_recent_responses_link_to_all_of_them(client, owner, project, contact):
    client.force_login(owner)
    assert 'class="see-all"' not in client.get("/").content.decode()  # nothing to see yet

    answered(project, contact)

    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a href="{URL}" class="see-all">See all survey responses →</a>' in body


def test_a_passive_who_asked_to_be_called_is_listed_and_marked_as_waiting_for_a_follow_up(
    client, owner, project, contact
):
    asked = answered(project, contact, nps=8)
    quiet = answered(project, contact, nps=8)
    AlertFactory(project=project, kind="contact_request", subject_type="survey_response", subject_id=asked.pk)

    page = get(client, owner, {"pending": "1"})

    assert shown(page) == [asked.pk]
    assert "No follow-up recorded yet." in row_of(page, asked)
    assert "No follow-up recorded yet." not in row_of(get(client, owner), quiet)
