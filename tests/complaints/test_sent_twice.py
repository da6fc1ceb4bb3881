"""The same complaint sent twice (a double click, a client's retry) is recorded once and the
client is told once; a new complaint, or the same words later, is recorded as usual."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from tests.complaints.recording import record_by_phone
from tests.threads import at_once

WORDS = "Nobody has told us about the rate for three weeks."


def record(project, contact, description=WORDS):
    return record_by_phone(project, contact, description=description)


@pytest.mark.django_db
def test_the_same_words_again_at_once_are_refused_naming_the_first(
    project, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = record(project, contact)
        with pytest.raises(ValidationError) as refused:
            record(project, contact, description=f"  {WORDS} ")

    said = f"This complaint was recorded a moment ago as {first.reference}; it is not recorded twice."
    assert refused.value.message_dict == {"description": [said]}
    assert Complaint.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_api_answers_a_repeat_with_a_400_on_the_description(api_as, owner, project, contact):
    body = {
        "project": project.pk,
        "contact": contact.pk,
        "channel": "phone",
        "category": "late_information",
        "description": WORDS,
    }

    answers = [api_as(owner).post("/api/v1/complaints/", body, format="json") for _ in range(2)]

    assert [answer.status_code for answer in answers] == [201, 400]
    assert "description" in answers[1].json()
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_other_words_or_the_same_words_later_are_new_complaints(project, contact, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    record(project, contact)
    record(project, contact, description="And the analyst was rude on the phone.")
    time_machine.shift(services.REPEAT_WINDOW + timedelta(seconds=1))
    record(project, contact)

    assert Complaint.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sent_at_the_same_moment_are_recorded_once(project, contact):
    complaints, refusals = at_once(lambda: record(project, contact))

    outcomes = complaints + refusals
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Complaint", "ValidationError"]
    assert Complaint.objects.count() == 1
