"""A dissatisfied client who asks to be contacted in a survey gets a complaint, from the surveys
as shipped; a satisfied one does not."""

import pytest

from complaints import services as complaint_services
from complaints.hooks import raise_complaint_from_survey
from complaints.models import Complaint
from feedback import services as feedback_services
from feedback.models import QuestionType
from feedback.services import RESPONSE_HOOKS
from tests.factories import invitation_with_link, shipped_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_questions():
    feedback_services.survey_questions_forget()  # survey ids come back after a rollback
    feedback_services.processing_schedule_forget()


def contact_question(survey):
    return survey.questions.get(type=QuestionType.CHOICE)


def answer_shipped_survey(project, contact, *, contact_me: str | None, comment: str = "", nps: str = "3"):
    """Answer the relationship survey as migrated, through the service the survey page calls."""
    survey = shipped_survey("relationship")
    invitation, _token = invitation_with_link(project=project, contact=contact, survey=survey)
    raw = {}
    for question in survey.questions.all():
        value = {QuestionType.NPS: nps, QuestionType.TEXT: comment, QuestionType.CHOICE: contact_me}[
            question.type
        ]
        if value:
            raw[f"q_{question.pk}"] = value
    return feedback_services.response_submit(invitation=invitation, raw=raw)


def process(response, capture):
    """What the worker does after the submission, hooks included (they run after its commit)."""
    with capture(execute=True):
        return feedback_services.response_process(response_id=response.pk)


def test_the_hook_is_registered_with_the_survey_app():
    assert raise_complaint_from_survey in RESPONSE_HOOKS


def test_the_shipped_relationship_survey_flags_its_yes_as_the_contact_request():
    question = contact_question(shipped_survey("relationship"))

    assert question.contact_request_values() == {"yes"}
    assert {value for value, _label in question.options("en")} == {"yes", "no"}
    assert dict(question.options("en"))["yes"] == "Yes, please contact me"


def test_a_client_who_asks_to_be_contacted_in_the_shipped_survey_gets_one_complaint(
    project, contact, django_capture_on_commit_callbacks, monkeypatch
):
    raised = []
    original = complaint_services.complaint_raise_from_client

    def spy(**kwargs):
        raised.append(kwargs["source_key"])
        return original(**kwargs)

    monkeypatch.setattr("complaints.hooks.complaint_raise_from_client", spy)
    submitted = answer_shipped_survey(
        project, contact, contact_me="yes", comment="利率承诺变了，没人通知我们。"
    )
    response = process(submitted, django_capture_on_commit_callbacks)

    complaint = Complaint.objects.get()
    assert raised == [f"survey_response:{response.pk}"]
    assert complaint.source_key == f"survey_response:{response.pk}"
    assert (complaint.project, complaint.contact, complaint.channel) == (project, contact, "survey")
    assert complaint.description == "利率承诺变了，没人通知我们。"
    assert complaint.category == response.categories[0]

    # A redelivered hook (or a second worker) finds the complaint raised from this response.
    raise_complaint_from_survey(response)
    assert Complaint.objects.count() == 1


def test_a_contact_request_without_a_comment_is_described_in_the_contacts_language(
    project, contact, django_capture_on_commit_callbacks
):
    submitted = answer_shipped_survey(project, contact, contact_me="yes", nps="6")
    process(submitted, django_capture_on_commit_callbacks)

    assert Complaint.objects.get().description == "客户在问卷中要求与其联系。"


def test_a_satisfied_client_who_asks_to_be_contacted_gets_no_complaint(
    project, contact, django_capture_on_commit_callbacks
):
    submitted = answer_shipped_survey(
        project, contact, contact_me="yes", nps="10", comment="Excellent service, please call me."
    )
    process(submitted, django_capture_on_commit_callbacks)

    assert not Complaint.objects.exists()


def test_a_client_who_declines_to_be_contacted_gets_no_complaint(
    project, contact, django_capture_on_commit_callbacks
):
    submitted = answer_shipped_survey(project, contact, contact_me="no", comment="还行。")
    process(submitted, django_capture_on_commit_callbacks)

    assert not Complaint.objects.exists()


def test_a_client_who_skips_the_contact_question_gets_no_complaint(
    project, contact, django_capture_on_commit_callbacks
):
    submitted = answer_shipped_survey(project, contact, contact_me=None, nps="1")
    process(submitted, django_capture_on_commit_callbacks)

    assert not Complaint.objects.exists()
