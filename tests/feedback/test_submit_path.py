"""The client's submission stays cheap: one statement on PostgreSQL (a fixed handful of queries
elsewhere), questions read once per process and survey version, no session, and the heavy work
left to a worker."""

import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback import services
from feedback.models import Question, SurveyInvitation, SurveyResponse
from finance_projects.models import Alert
from tests.factories import invitation_with_link
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


def answered_once(client, project, contact, survey):
    """One submission through the page, which reads the survey's questions into this process."""
    _invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    client.post(f"/s/{token}/", answers_for(survey, nps="9"))


def test_a_submission_costs_one_lookup_one_claim_and_one_insert(
    client, project, contact, relationship_survey, django_assert_max_num_queries
):
    answered_once(client, project, contact, relationship_survey)
    invitation, token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    data = answers_for(relationship_survey, nps="2", text="审批进度没人通知我们，流程也太复杂。")
    # The link, then the claim and the insert inside their transaction (a savepoint in a test).
    with django_assert_max_num_queries(5):
        answer = client.post(f"/s/{token}/", data)
    assert answer.status_code == 302
    assert SurveyResponse.objects.filter(invitation=invitation, nps=2, submitted_at__isnull=False).exists()
    assert not Alert.objects.exists()  # raised by the worker, after the client has their answer


@pytest.mark.postgres
def test_on_postgresql_a_complete_submission_is_one_statement(
    client, project, contact, relationship_survey, django_assert_num_queries
):
    answered_once(client, project, contact, relationship_survey)
    invitation, token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    data = answers_for(relationship_survey, nps="2", text="Nobody told us about the delay.")
    # The link's lookup, the claim and the insert together, in autocommit: no BEGIN, no COMMIT.
    with django_assert_num_queries(1):
        answer = client.post(f"/s/{token}/?lang=en", data)
    assert (answer.status_code, answer["Location"]) == (302, f"/s/{token}/?lang=en&done=1")
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.nps, response.is_detractor, response.language, response.processed_at) == (
        2,
        True,
        "en",
        None,
    )
    invitation.refresh_from_db()
    assert invitation.responded_at == response.submitted_at


@pytest.mark.postgres
def test_on_postgresql_a_submission_without_a_chosen_language_thanks_in_the_contacts(
    client, project, contact, relationship_survey, django_assert_num_queries
):
    answered_once(client, project, contact, relationship_survey)
    contact.language = "en"
    contact.save(update_fields=["language"])
    invitation, token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    data = answers_for(relationship_survey, nps="9")

    with django_assert_num_queries(1):
        answer = client.post(f"/s/{token}/", data)

    assert (answer.status_code, answer["Location"]) == (302, f"/s/{token}/?lang=en&done=1")
    assert SurveyResponse.objects.get(invitation=invitation).language == "en"


@pytest.mark.postgres
def test_on_postgresql_the_submission_statement_is_prepared_once_per_connection(
    client, project, contact, relationship_survey
):
    services.survey_questions(relationship_survey)  # the one-statement path needs them cached
    for number in range(connection.settings_dict["OPTIONS"]["prepare_threshold"] + 1):
        _invitation, token = invitation_with_link(
            project=project, contact=contact, survey=relationship_survey
        )
        answer = client.post(f"/s/{token}/", answers_for(relationship_survey, nps=str(number)))
        assert answer.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%INSERT INTO feedback_surveyresponse%"],
        )
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_submission_on_a_connection_the_database_dropped_is_stored_once(
    client, project, contact, relationship_survey
):
    """The submission skips the per-request health check; a dead connection is replaced and
    the statement run again, like the health check would have done before it."""
    answered_once(client, project, contact, relationship_survey)
    invitation, token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    data = answers_for(relationship_survey, nps="3")
    backend = connection.connection.info.backend_pid
    # A server restart, as far as this connection can tell: its backend ends.
    params = connection.get_connection_params()
    with psycopg.connect(
        **{key: params[key] for key in ("dbname", "user", "password", "host", "port") if key in params},
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone():
            time.sleep(0.01)
    answer = client.post(f"/s/{token}/", data)
    assert (answer.status_code, answer["Location"]) == (302, f"/s/{token}/?lang=zh-hans&done=1")
    assert connection.connection.info.backend_pid != backend
    assert SurveyResponse.objects.filter(invitation=invitation, nps=3).count() == 1


def test_a_submission_to_a_dead_link_gets_the_same_page_as_an_unknown_one(
    client, project, contact, relationship_survey
):
    answered_once(client, project, contact, relationship_survey)
    expired, expired_token = invitation_with_link(
        project=project,
        contact=contact,
        survey=relationship_survey,
        created_at=timezone.now() - timedelta(days=40),
    )
    revoked, revoked_token = invitation_with_link(
        project=project, contact=contact, survey=relationship_survey
    )
    SurveyInvitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    data = answers_for(relationship_survey, nps="9")
    pages = [
        client.post(f"/s/{token}/", data)
        for token in ("no-such-token-at-all-000000000000", expired_token, revoked_token)
    ]
    assert {page.status_code for page in pages} == {404}
    assert len({page.content for page in pages}) == 1
    assert not SurveyResponse.objects.filter(invitation__in=[expired, revoked]).exists()


def test_a_saved_draft_in_another_language_is_completed_in_the_contacts_language(
    client, linked, relationship_survey
):
    invitation, token = linked
    client.post(f"/s/{token}/", {**answers_for(relationship_survey, nps="9"), "action": "save"})
    client.post(f"/s/{token}/", answers_for(relationship_survey, nps="9"))  # a second link warms the cache
    other, other_token = invitation_with_link(project=invitation.project, contact=invitation.contact)
    client.post(f"/s/{other_token}/", {**answers_for(relationship_survey, text="draft"), "action": "save"})
    answer = client.post(f"/s/{other_token}/", answers_for(relationship_survey, nps="4", text="slow"))
    assert answer.status_code == 302
    response = SurveyResponse.objects.get(invitation=other)
    assert (response.nps, response.comment, response.language) == (4, "slow", invitation.contact.language)
    assert response.started_at < response.submitted_at  # the draft's row, completed


def test_the_survey_page_and_its_submission_set_no_cookie(linked):
    invitation, token = linked
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(f"/s/{token}/")
    answer = browser.post(f"/s/{token}/", answers_for(invitation.survey, nps="9"))
    assert (form.status_code, answer.status_code) == (200, 302)
    assert form.cookies == {} and answer.cookies == {}


def test_the_questions_are_read_once_per_survey_version(relationship_survey, django_assert_num_queries):
    services.survey_questions(relationship_survey)
    with django_assert_num_queries(0):
        cached = services.survey_questions(relationship_survey)
    assert [question.type for question in cached] == ["nps", "text", "choice"]


def test_a_question_changed_in_the_admin_reaches_the_next_submission(
    client, admin_user, linked, relationship_survey
):
    invitation, token = linked
    client.get(f"/s/{token}/")  # this process now holds the questions
    text = relationship_survey.questions.get(type="text")
    admin = Client()
    admin.force_login(admin_user)
    formset = {
        "questions-TOTAL_FORMS": "3",
        "questions-INITIAL_FORMS": "3",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for index, question in enumerate(relationship_survey.questions.order_by("position", "id")):
        formset.update(
            {
                f"questions-{index}-id": question.pk,
                f"questions-{index}-survey": relationship_survey.pk,
                f"questions-{index}-position": question.position,
                f"questions-{index}-type": question.type,
                f"questions-{index}-text_zh": question.text_zh,
                f"questions-{index}-text_en": question.text_en,
                f"questions-{index}-choices": question.choices,
                # The comment becomes mandatory.
                f"questions-{index}-required": "on" if question.required or question.pk == text.pk else "",
            }
        )
    survey_fields = {
        name: getattr(relationship_survey, name)
        for name in ("kind", "name_zh", "name_en", "intro_zh", "intro_en")
    }
    saved = admin.post(
        f"/admin/feedback/survey/{relationship_survey.pk}/change/",
        {**survey_fields, "is_active": "on", **formset},
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Question.objects.get(pk=text.pk).required
    page = client.post(f"/s/{token}/?lang=en", answers_for(invitation.survey, nps="9"))
    assert page.status_code == 400
    assert "Please answer this question." in page.content.decode()
