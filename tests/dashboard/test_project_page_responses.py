"""Survey responses on the project page's timeline: their failure categories and CES beside NPS
and CSAT, and, for whoever may act on the project, correcting the categories and recording the
follow-up from the page, with the same refusals as the survey-response API."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from feedback.models import SurveyResponse
from feedback.services import response_record_follow_up, response_set_categories, responses_reanalyse
from finance_projects.models import Alert
from tests.dashboard.conftest import PROJECT_PAGE_QUERIES
from tests.factories import (
    AlertFactory,
    CommitmentFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
    TeamFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def answered(project, contact, *, nps=9, csat=4, ces=6, comment="", categories=(), at=None):
    invitation = InvitationFactory(project=project, contact=contact)
    return SurveyResponseFactory(
        invitation=invitation,
        nps=nps,
        csat=csat,
        ces=ces,
        comment=comment,
        categories=list(categories),
        submitted_at=at or timezone.now() - timedelta(hours=2),
    )


def project_url(project):
    return reverse("dashboard:project", args=[project.pk])


def action_url(project, action):
    return reverse("dashboard:project-action", args=[project.pk, action])


def page(client, user, project, language="en"):
    client.force_login(user)
    response = client.get(project_url(project), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def row_of(body, survey_response):
    """The timeline row of one survey response."""
    match = re.search(
        rf'<li class="tl-survey[^"]*" id="response-{survey_response.pk}">(.*?)</li>', body, re.S
    )
    assert match is not None
    return match.group(1)


def tags_of(row):
    """The line of a response's failure categories."""
    return re.search(r'<div class="small tags">(.*?)</div>', row).group(1)


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- What a response shows --------------------------------------------------------------------


def test_a_response_shows_its_failure_categories_in_the_users_language(client, owner, project, contact):
    survey_response = answered(project, contact, categories=["late_information", "broken_commitment"])

    english = row_of(page(client, owner, project), survey_response)
    chinese = row_of(page(client, owner, project, language="zh-hans"), survey_response)

    assert (
        '<span class="badge">Late information</span> <span class="badge">Broken commitment</span>' in english
    )
    assert "found in the comment" in english
    assert '<span class="badge">信息传递不及时</span> <span class="badge">承诺未兑现</span>' in chinese
    assert "编辑类别" in chinese and "Edit categories" not in chinese


def test_a_response_without_categories_says_none(client, owner, project, contact):
    survey_response = answered(project, contact)

    tags = tags_of(row_of(page(client, owner, project), survey_response))

    assert tags == 'Failure categories: <span class="muted">none</span>'


def test_categories_a_person_corrected_are_marked_with_who_and_when(client, owner, manager, project, contact):
    survey_response = answered(project, contact, categories=["late_information"])
    edited_at = timezone.now() - timedelta(minutes=30)
    response_set_categories(
        response=survey_response, categories=["service_attitude"], by=manager, at=edited_at
    )

    tags = tags_of(row_of(page(client, owner, project), survey_response))

    when = timezone.localtime(edited_at, owner.zone).strftime("%Y-%m-%d %H:%M")
    assert tags == (
        'Failure categories: <span class="badge">Service attitude</span>'
        f' <span class="muted edited">· edited by {manager}, {when}</span>'
    )


def test_ces_is_shown_beside_nps_and_csat_in_the_colours_of_the_scores(client, owner, project, contact):
    survey_response = answered(project, contact, nps=8, csat=5, ces=4)

    row = row_of(page(client, owner, project), survey_response)

    assert (
        '<span class="badge sev-warning">NPS 8</span> <span class="badge ok">CSAT 5/5</span>'
        ' <span class="badge sev-warning">CES 4/7</span>'
    ) in row
    assert "Detractor" not in row


def test_a_response_flagged_only_for_a_low_ces_says_why(client, owner, project, contact):
    survey_response = answered(project, contact, nps=9, csat=5, ces=2)

    body = page(client, owner, project)

    assert f'<li class="tl-survey tone-bad" id="response-{survey_response.pk}">' in body
    row = row_of(body, survey_response)
    assert '<span class="badge ok">NPS 9</span>' in row
    assert '<span class="badge sev-critical">CES 2/7</span>' in row
    assert '<span class="sev-critical">Detractor: CES 2 ≤ 3</span>' in row
    assert "No follow-up recorded yet." in row


def test_a_satisfied_response_is_green_and_asks_for_no_follow_up(client, owner, project, contact):
    survey_response = answered(project, contact, nps=10, csat=5, ces=7)

    body = page(client, owner, project)

    assert f'<li class="tl-survey tone-good" id="response-{survey_response.pk}">' in body
    assert "No follow-up recorded yet." not in row_of(body, survey_response)


def test_a_recorded_follow_up_shows_who_when_and_the_outcome(client, owner, project, contact):
    survey_response = answered(project, contact, nps=3)
    contacted_at = timezone.now() - timedelta(minutes=45)
    response_record_follow_up(
        response=survey_response, by=owner, contacted_at=contacted_at, outcome="Rate sheet resent.\nCalm now."
    )

    row = row_of(page(client, owner, project), survey_response)

    when = timezone.localtime(contacted_at, owner.zone).strftime("%Y-%m-%d %H:%M")
    assert f"<strong>Followed up by {owner}, {when}:</strong> Rate sheet resent.<br>Calm now." in row
    assert "No follow-up recorded yet." not in row
    assert "Record another follow-up" in row


def test_what_a_client_wrote_is_escaped(client, owner, project, contact):
    survey_response = answered(project, contact, comment="<script>alert(1)</script>")
    response_record_follow_up(
        response=survey_response, by=owner, contacted_at=timezone.now(), outcome="<b>done</b>"
    )

    row = row_of(page(client, owner, project), survey_response)

    assert "<script>" not in row and "<b>done</b>" not in row
    assert "&lt;script&gt;" in row and "&lt;b&gt;done&lt;/b&gt;" in row


# --- Correcting the categories ----------------------------------------------------------------


def test_the_rm_gets_a_csrf_protected_form_with_the_five_categories_ticked_as_stored(
    client, owner, project, contact
):
    survey_response = answered(project, contact, categories=["complex_process"])

    row = row_of(page(client, owner, project), survey_response)

    form = re.search(
        rf'<form method="post" action="{action_url(project, "categories")}"[^>]*>(.*?)</form>', row
    )
    assert form is not None
    fields = form.group(1)
    assert 'name="csrfmiddlewaretoken"' in fields
    assert f'<input type="hidden" name="response" value="{survey_response.pk}">' in fields
    assert re.findall(r'name="categories" value="(\w+)"', fields) == [
        "late_information",
        "service_attitude",
        "broken_commitment",
        "complex_process",
        "slow_resolution",
    ]
    assert re.findall(r'value="(\w+)" id="[^"]+" checked', fields) == ["complex_process"]


def test_saving_categories_keeps_them_as_a_persons_edit(client, owner, project, contact):
    survey_response = answered(project, contact, comment="Nobody told us the credit committee moved.")
    client.force_login(owner)

    saved = client.post(
        action_url(project, "categories"),
        {"response": survey_response.pk, "categories": ["slow_resolution", "late_information"]},
    )

    assert saved.status_code == 302
    assert saved["Location"] == f"{project_url(project)}#response-{survey_response.pk}"
    survey_response.refresh_from_db()
    assert survey_response.categories == ["late_information", "slow_resolution"]
    assert survey_response.categories_edited_by == owner and survey_response.categories_edited_at is not None
    assert responses_reanalyse(responses=SurveyResponse.objects.all()) == 0
    survey_response.refresh_from_db()
    assert survey_response.categories == ["late_information", "slow_resolution"]
    shown = client.get(saved["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Failure categories saved." in shown
    assert f"edited by {owner}" in row_of(shown, survey_response)


def test_unticking_every_category_is_saved_as_an_edit(client, owner, project, contact):
    survey_response = answered(project, contact, categories=["service_attitude"])
    client.force_login(owner)

    saved = client.post(action_url(project, "categories"), {"response": survey_response.pk})

    assert saved.status_code == 302
    survey_response.refresh_from_db()
    assert survey_response.categories == [] and survey_response.categories_edited_by == owner


def test_an_unknown_category_is_refused_with_a_message_and_nothing_saved(client, owner, project, contact):
    survey_response = answered(project, contact, categories=["service_attitude"])
    client.force_login(owner)

    refused = client.post(
        action_url(project, "categories"),
        {"response": survey_response.pk, "categories": ["weather", "late_information"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    body = refused.content.decode()
    assert re.search(
        r'<li class="msg-error">Nothing was saved. Failure categories: Select a valid choice', body
    )
    row = row_of(body, survey_response)
    assert "<details open>" in row and 'role="alert"' in row
    survey_response.refresh_from_db()
    assert survey_response.categories == ["service_attitude"]
    assert survey_response.categories_edited_at is None


# --- Recording the follow-up ------------------------------------------------------------------


def test_recording_the_follow_up_shows_it_and_resolves_the_detractor_alert(client, owner, project, contact):
    survey_response = answered(project, contact, nps=2)
    alert = AlertFactory(
        project=project,
        kind="detractor_response",
        subject_type="survey_response",
        subject_id=survey_response.pk,
    )
    contacted_at = timezone.now() - timedelta(minutes=20)
    client.force_login(owner)

    saved = client.post(
        action_url(project, "follow_up"),
        {
            "response": survey_response.pk,
            "contacted_at": local_input(timezone.localtime(contacted_at, owner.zone)),
            "outcome": "  Called the CFO; the memo goes out Friday.  ",
        },
    )

    assert saved.status_code == 302
    assert saved["Location"] == f"{project_url(project)}#response-{survey_response.pk}"
    survey_response.refresh_from_db()
    assert survey_response.followed_up_by == owner
    assert survey_response.follow_up_outcome == "Called the CFO; the memo goes out Friday."
    assert abs(survey_response.followed_up_at - contacted_at) < timedelta(minutes=1)
    assert Alert.objects.get(pk=alert.pk).resolved_at is not None
    shown = client.get(saved["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Follow-up recorded." in shown
    row = row_of(shown, survey_response)
    assert f"Followed up by {owner}, " in row and "Called the CFO; the memo goes out Friday." in row


def test_the_follow_up_form_opens_at_the_current_time_in_the_users_zone(client, owner, project, contact):
    survey_response = answered(project, contact, nps=2)
    owner.time_zone = "Europe/London"
    owner.save()

    row = row_of(page(client, owner, project), survey_response)

    value = re.search(r'name="contacted_at" id="[^"]+" value="([^"]+)"', row).group(1)
    shown = timezone.make_aware(datetime.fromisoformat(value), owner.zone)
    assert abs(shown - timezone.now()) < timedelta(minutes=2)


def test_a_follow_up_without_an_outcome_is_refused_with_a_message_and_nothing_saved(
    client, owner, project, contact
):
    survey_response = answered(project, contact, nps=2)
    client.force_login(owner)
    contacted = local_input(timezone.localtime(timezone.now(), owner.zone))

    refused = client.post(
        action_url(project, "follow_up"),
        {"response": survey_response.pk, "contacted_at": contacted, "outcome": "   "},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    body = refused.content.decode()
    assert '<li class="msg-error">Nothing was saved. Outcome: This field is required.</li>' in body
    row = row_of(body, survey_response)
    assert "<details open>" in row and f'value="{contacted}"' in row
    survey_response.refresh_from_db()
    assert survey_response.followed_up_at is None and survey_response.follow_up_outcome == ""


def test_a_follow_up_before_the_response_is_refused_by_the_rule_of_the_service(
    client, owner, project, contact
):
    survey_response = answered(project, contact, nps=2)
    client.force_login(owner)
    before = timezone.localtime(survey_response.submitted_at - timedelta(days=1), owner.zone)

    refused = client.post(
        action_url(project, "follow_up"),
        {"response": survey_response.pk, "contacted_at": local_input(before), "outcome": "Called"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    assert (
        "Nothing was saved. Client contacted at: The follow-up cannot be before the response."
        in refused.content.decode()
    )
    survey_response.refresh_from_db()
    assert survey_response.followed_up_at is None


def test_a_malformed_contact_time_is_refused_with_a_message(client, owner, project, contact):
    survey_response = answered(project, contact, nps=2)
    client.force_login(owner)

    refused = client.post(
        action_url(project, "follow_up"),
        {"response": survey_response.pk, "contacted_at": "yesterday-ish", "outcome": "Called"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert refused.status_code == 400
    assert "Nothing was saved. Client contacted at: Enter a valid date/time." in refused.content.decode()
    survey_response.refresh_from_db()
    assert survey_response.followed_up_at is None


# --- Who may ----------------------------------------------------------------------------------


@pytest.fixture
def other_manager(db):
    team = TeamFactory(name="Transport West")
    user = UserFactory(username="other-manager", role=Role.MANAGER, team=team)
    team.manager = user
    team.save()
    return user


def test_a_department_colleague_sees_the_response_but_not_the_forms(
    client, department_user, project, contact
):
    CommitmentFactory(project=project, owner=department_user)
    survey_response = answered(project, contact, nps=2, categories=["late_information"])

    row = row_of(page(client, department_user, project), survey_response)

    assert "Late information" in row and "CES 6/7" in row
    assert "<form" not in row
    assert action_url(project, "categories") not in row and action_url(project, "follow_up") not in row


def test_the_team_manager_gets_the_forms(client, manager, project, contact):
    survey_response = answered(project, contact, nps=2)

    row = row_of(page(client, manager, project), survey_response)

    assert action_url(project, "categories") in row and action_url(project, "follow_up") in row


@pytest.mark.parametrize("who", ["department_user", "outsider", "teammate", "other_manager"])
def test_whoever_may_not_act_on_the_project_is_refused_as_the_api_refuses_them(
    request, client, api_as, project, contact, who
):
    user = request.getfixturevalue(who)
    CommitmentFactory(project=project, owner=request.getfixturevalue("department_user"))
    survey_response = answered(project, contact, nps=2, categories=["late_information"])
    api = api_as(user)
    api_statuses = [
        api.patch(
            f"/api/v1/survey-responses/{survey_response.pk}/",
            {"categories": ["service_attitude"]},
            format="json",
        ).status_code,
        api.post(
            f"/api/v1/survey-responses/{survey_response.pk}/follow-up/",
            {"contacted_at": timezone.now().isoformat(), "outcome": "Called"},
            format="json",
        ).status_code,
    ]
    client.force_login(user)

    page_statuses = [
        client.post(
            action_url(project, "categories"),
            {"response": survey_response.pk, "categories": ["service_attitude"]},
        ).status_code,
        client.post(
            action_url(project, "follow_up"),
            {
                "response": survey_response.pk,
                "contacted_at": local_input(timezone.now()),
                "outcome": "Called",
            },
        ).status_code,
    ]

    assert page_statuses == api_statuses
    assert set(page_statuses) == ({403} if who == "department_user" else {404})
    survey_response.refresh_from_db()
    assert survey_response.categories == ["late_information"] and survey_response.categories_edited_at is None
    assert survey_response.followed_up_at is None


def test_posting_needs_a_login(client, project, contact):
    survey_response = answered(project, contact)

    posted = client.post(action_url(project, "categories"), {"response": survey_response.pk})

    assert posted.status_code == 302 and "/accounts/login/" in posted["Location"]


@pytest.mark.parametrize("response_id", ["elsewhere", "draft", "", "x1", "99999999999999999999999"])
def test_a_response_that_is_not_one_of_the_projects_answers_404(
    client, owner, project, contact, client_org, response_id
):
    elsewhere = answered(ProjectFactory(client=client_org), contact)  # the owner's too, another project
    draft = answered(project, contact)
    SurveyResponse.objects.filter(pk=draft.pk).update(submitted_at=None)
    ids = {"elsewhere": elsewhere.pk, "draft": draft.pk}
    client.force_login(owner)

    posted = client.post(
        action_url(project, "categories"),
        {"response": ids.get(response_id, response_id), "categories": ["service_attitude"]},
    )

    assert posted.status_code == 404
    assert not SurveyResponse.objects.filter(categories_edited_at__isnull=False).exists()


# --- Cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 20])
def test_categories_follow_ups_and_forms_add_no_query(
    client, owner, manager, project, contact, size, django_assert_max_num_queries
):
    for i in range(size):
        TouchpointFactory(project=project)
        CommitmentFactory(project=project, due_at=timezone.now() + timedelta(days=i + 1))
        survey_response = answered(
            project, contact, nps=i % 11, ces=1 + i % 7, categories=["late_information"]
        )
        if i % 2:
            response_set_categories(response=survey_response, categories=["complex_process"], by=manager)
            response_record_follow_up(
                response=survey_response, by=owner, contacted_at=timezone.now(), outcome=f"Called {i}"
            )
    client.force_login(owner)

    # With every response carrying its forms.
    with django_assert_max_num_queries(PROJECT_PAGE_QUERIES):
        body = client.get(project_url(project), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert body.count("Survey answered by") == size
    assert body.count(f'action="{action_url(project, "categories")}"') == size
    assert body.count(f"edited by {manager}") == size // 2
    assert body.count(f"Followed up by {owner}") == size // 2
