from types import SimpleNamespace

import pytest

from complaints.hooks import raise_complaint_from_survey
from complaints.models import Complaint
from feedback.services import RESPONSE_HOOKS

pytestmark = pytest.mark.django_db


def response(project, contact, answers, comment="", pk=41):
    invitation = SimpleNamespace(project=project, contact=contact)
    return SimpleNamespace(
        pk=pk, answers=answers, comment=comment, categories=["broken_commitment"], invitation=invitation
    )


def test_the_hook_is_registered_with_the_survey_app():
    assert raise_complaint_from_survey in RESPONSE_HOOKS


def test_a_respondent_who_asks_to_be_contacted_gets_one_complaint(project, contact):
    answer = response(project, contact, {"3": "contact_me"}, comment="The rate you promised changed.")
    raise_complaint_from_survey(answer)
    raise_complaint_from_survey(answer)
    complaint = Complaint.objects.get()
    assert complaint.channel == "survey"
    assert complaint.category == "broken_commitment"
    assert complaint.description == "The rate you promised changed."


def test_a_respondent_who_did_not_ask_gets_no_complaint(project, contact):
    raise_complaint_from_survey(response(project, contact, {"1": 9, "3": "no_thanks"}))
    assert not Complaint.objects.exists()
