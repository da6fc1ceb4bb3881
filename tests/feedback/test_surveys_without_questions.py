"""A survey without questions is never sent and never answered: a manual send is refused on the
survey field, an automatic one is recorded as a skip with its reason, the project page does not
offer it, and a link to one whose questions were removed after it was sent stores nothing."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from feedback import outbox, services
from feedback.models import Survey, SurveyInvitation, SurveyResponse, SurveySkip, Trigger
from feedback.scans import scan_relationship_surveys
from finance_projects.models import StageTransition
from finance_projects.services import project_move_stage
from tests.factories import (
    InvitationFactory,
    QuestionFactory,
    SurveyFactory,
    invitation_with_link,
    shipped_survey,
)
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db

NO_QUESTIONS = (
    "This survey has no questions, so the client could not answer it. "
    "An administrator must add its questions before it can be sent."
)


def remove_questions(survey: Survey) -> None:
    """What deleting every question of the survey in the admin leaves: no questions, a new version."""
    survey.questions.all().delete()
    Survey.objects.filter(pk=survey.pk).update(updated_at=timezone.now())


# --- Sending by hand -----------------------------------------------------------------------------


def test_sending_a_survey_without_questions_is_refused_on_the_survey_field(project, contact):
    empty = SurveyFactory(kind="custom")

    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.survey_send(project=project, contact=contact, survey=empty, trigger=Trigger.MANUAL)

    assert refused.value.message_dict == {"survey": [NO_QUESTIONS]}
    assert not SurveyInvitation.objects.exists()
    assert not SurveySkip.objects.exists()  # refused, not held back: the contact's cap is untouched


def test_the_api_refuses_to_send_a_survey_created_without_questions_naming_the_survey(
    api_as, admin_user, project, contact
):
    created = api_as(admin_user).post(
        "/api/v1/surveys/", {"kind": "milestone", "name_zh": "W2空", "name_en": "W2 empty"}, format="json"
    )
    assert created.status_code == 201 and created.data["questions"] == []

    for language, message in (("en", NO_QUESTIONS), ("zh-hans", "该调查没有题目，客户无法作答。")):
        sent = api_as(admin_user).post(
            "/api/v1/survey-invitations/",
            {"project": project.pk, "contact": contact.pk, "survey": created.data["id"]},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )

        assert sent.status_code == 400
        assert list(sent.data) == ["survey"]
        assert sent.data["survey"][0].startswith(message)
    assert not SurveyInvitation.objects.exists()


def test_the_admin_does_not_send_again_a_survey_whose_questions_were_removed(client, admin_user, project):
    survey = QuestionFactory(survey=SurveyFactory()).survey
    sent_long_ago = timezone.now() - timedelta(days=60)
    invitation = InvitationFactory(project=project, survey=survey, created_at=sent_long_ago)
    remove_questions(survey)
    client.force_login(admin_user)

    page = client.post(
        "/admin/feedback/surveyinvitation/",
        {"action": "send_again", "_selected_action": [invitation.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert f"1 not sent: {NO_QUESTIONS}" in [str(message) for message in page.context["messages"]]
    assert list(SurveyInvitation.objects.values_list("pk", flat=True)) == [invitation.pk]


# --- Automatic sends: recorded as skips ------------------------------------------------------------


def test_a_milestone_survey_without_questions_is_recorded_as_a_skip_once(owner, project, contact):
    milestone = shipped_survey("milestone")
    remove_questions(milestone)
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)

    transition = StageTransition.objects.get(pk=transition.pk)  # as the task reads it
    services.survey_send_milestone(transition=transition)
    services.survey_send_milestone(transition=transition)  # a redelivered task

    assert not SurveyInvitation.objects.exists()
    skip = SurveySkip.objects.get()
    assert (skip.contact, skip.survey, skip.trigger, skip.reason) == (
        contact,
        milestone,
        Trigger.MILESTONE,
        "survey_empty",
    )
    with translation.override("zh-hans"):
        assert services.skip_message(skip) == "调查没有题目"


def test_an_older_survey_emptied_of_questions_gives_way_to_a_newer_one_that_has_them(owner, project, contact):
    remove_questions(shipped_survey("milestone"))
    newer = QuestionFactory(survey=SurveyFactory(kind="milestone", name_en="Milestone check-in")).survey

    services.survey_send_milestone(
        transition=project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    )

    assert list(SurveyInvitation.objects.values_list("survey", flat=True)) == [newer.pk]
    assert not SurveySkip.objects.exists()


def test_a_recovery_survey_without_questions_is_recorded_as_a_skip(project, contact):
    recovery = shipped_survey("recovery")
    remove_questions(recovery)

    result = services.survey_send_recovery(
        project=project, contact=contact, complaint_reference="CP-2026-000012"
    )

    assert result.invitation is None
    skip = result.skip
    assert (skip.contact, skip.survey, skip.reason) == (contact, recovery, "survey_empty")
    assert not SurveyInvitation.objects.exists()


def test_a_relationship_survey_without_questions_skips_each_due_contact_once(project, contact):
    relationship = shipped_survey("relationship")
    remove_questions(relationship)

    assert scan_relationship_surveys() == 0
    assert scan_relationship_surveys() == 0

    skip = SurveySkip.objects.get()
    assert (skip.contact, skip.survey, skip.trigger, skip.reason) == (
        contact,
        relationship,
        Trigger.RELATIONSHIP,
        "survey_empty",
    )
    assert not SurveyInvitation.objects.exists()


# --- The project page --------------------------------------------------------------------------------


def send_url(project):
    return reverse("dashboard:project-action", args=[project.pk, "survey"])


def survey_menu(body):
    select = re.search(r'<select name="survey"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None
    return select.group(1)


def test_the_project_pages_survey_menu_does_not_offer_a_survey_without_questions(client, owner, project):
    SurveyFactory(kind="custom", name_en="Empty pulse")
    QuestionFactory(survey=SurveyFactory(kind="custom", name_en="Credit approval pulse"))
    client.force_login(owner)

    body = client.get(
        reverse("dashboard:project", args=[project.pk]) + "?form=survey", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    menu = survey_menu(body)
    assert "Credit approval pulse" in menu and "Relationship survey" in menu
    assert "Empty pulse" not in menu


def test_the_project_page_says_why_a_survey_without_questions_cannot_be_sent_on_its_field(
    client, owner, project, contact
):
    # Its questions were removed while the form was open.
    empty = SurveyFactory(kind="custom", name_en="Empty pulse")
    client.force_login(owner)

    response = client.post(
        send_url(project), {"contact": contact.pk, "survey": empty.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )

    body = response.content.decode()
    assert response.status_code == 400
    error = re.search(r'<div class="error" id="id_survey_survey_error" role="alert">(.*?)</div>', body, re.S)
    assert error is not None and error.group(1) == NO_QUESTIONS
    assert not SurveyInvitation.objects.exists()


def test_the_project_pages_note_to_the_client_says_the_client_reads_it(client, owner, project):
    client.force_login(owner)
    url = reverse("dashboard:project", args=[project.pk]) + "?form=survey"

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<label for="id_survey_reason">Note to the client (optional):</label>' in english
    assert (
        '<div class="small muted" id="id_survey_reason_helptext">Shown to the client as you type it, '
        "in the invitation e-mail and on the survey page.</div>" in english
    )
    assert 'aria-describedby="id_survey_reason_helptext"' in english
    assert '<label for="id_survey_reason">致客户的说明（可选）：</label>' in chinese
    assert "客户会在邀请邮件和调查页面上看到您输入的原文。</div>" in chinese
    assert 'name="reason"' in english  # the field keeps its name, as the API's


# --- A link to a survey whose questions were removed after it was sent ----------------------------------


@pytest.fixture
def emptied(project, contact):
    """A linked invitation to a custom survey of one question, and a complete answer to it; the
    tests then remove the question."""
    survey = QuestionFactory(survey=SurveyFactory(kind="custom"), type="nps").survey
    invitation, token = invitation_with_link(project=project, contact=contact, survey=survey)
    return invitation, token, answers_for(survey, nps="9")


def test_the_link_to_a_survey_whose_questions_were_removed_is_no_longer_in_use(client, emptied):
    invitation, token, answers = emptied
    assert client.get(f"/s/{token}/").status_code == 200  # its questions are read into this process
    remove_questions(invitation.survey)
    dead = client.get("/s/no-such-token-at-all-000000000000/")

    pages = [
        client.get(f"/s/{token}/"),
        client.post(f"/s/{token}/", {}),
        client.post(f"/s/{token}/", answers),
        client.post(f"/s/{token}/", {"action": "save"}),
    ]

    assert [page.status_code for page in pages] == [404] * 4
    assert {page.content for page in pages} == {dead.content}  # the page of every dead link
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_no_empty_response_can_be_stored_or_drafted_for_a_survey_without_questions(emptied):
    invitation, token, _answers = emptied
    remove_questions(invitation.survey)
    invitation.survey.refresh_from_db()

    assert services.response_submit_for_link(token=token, raw={}) is None
    for store in (services.response_submit, services.response_save_draft):
        with pytest.raises(ValidationError) as refused, translation.override("zh-hans"):
            store(invitation=invitation, raw={})
        assert not isinstance(refused.value, services.InvitationClosed)
        assert refused.value.message_dict == {"__all__": ["该调查没有需要回答的题目。"]}

    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_an_invitation_whose_survey_lost_its_questions_is_not_emailed_until_they_are_back(project, contact):
    survey = QuestionFactory(survey=SurveyFactory(kind="custom")).survey
    queued = services.survey_send(project=project, contact=contact, survey=survey, trigger=Trigger.MANUAL)
    remove_questions(survey)

    assert outbox.deliver_invitations() == 0
    assert mail.outbox == []
    QuestionFactory(survey=survey)
    assert outbox.deliver_invitations() == 1
    assert mail.outbox[0].to == [contact.email]
    queued.invitation.refresh_from_db()
    assert queued.invitation.sent_at is not None


def test_no_reminder_goes_out_for_a_survey_whose_questions_were_removed(project, contact):
    survey = QuestionFactory(survey=SurveyFactory(kind="custom")).survey
    services.survey_send(project=project, contact=contact, survey=survey, trigger=Trigger.MANUAL)
    start = timezone.now()
    assert outbox.deliver_invitations(at=start) == 1
    remove_questions(survey)

    assert outbox.send_reminders(at=start + timedelta(days=3, minutes=1)) == 0
    assert len(mail.outbox) == 1  # the invitation only
