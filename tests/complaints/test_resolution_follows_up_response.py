"""Resolving a complaint opened from a survey response is that response's follow-up: recorded
on the response (contacted at the resolution, by the resolver), so it no longer waits for a
call back and its detractor alert is resolved. Each resolution records one."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import services
from complaints.hooks import raise_complaint_from_survey
from feedback.models import SurveyFollowUp, SurveyResponse
from feedback.selectors import needing_follow_up, with_needs_follow_up
from finance_projects.models import Alert
from tests.factories import AlertFactory, InvitationFactory, SurveyResponseFactory, shipped_survey

pytestmark = pytest.mark.django_db

DECISION = "We apologise: the rate is restored to the agreed 3.85% and your RM calls you weekly."


@pytest.fixture
def detractor(project, contact):
    return SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact),
        nps=2,
        is_detractor=True,
        comment="The rate you promised changed without a word.",
        submitted_at=timezone.now() - timedelta(hours=3),
    )


@pytest.fixture
def detractor_alert(detractor, project):
    return AlertFactory(
        project=project, kind="detractor_response", subject_type="survey_response", subject_id=detractor.pk
    )


def resolve(complaint, by, *, text=DECISION):
    if complaint.status == "new":
        complaint = services.complaint_acknowledge(complaint=complaint, by=by)
    return services.complaint_resolve(
        complaint=complaint,
        by=by,
        response_text=text,
        response_channel="phone",
        root_cause="internal_communication",
    )


def needs_follow_up(response) -> bool:
    return with_needs_follow_up(SurveyResponse.objects.filter(pk=response.pk)).get().needs_follow_up


def test_resolving_a_complaint_opened_from_a_detractor_response_follows_up_the_response(
    detractor, detractor_alert, owner, teammate
):
    complaint, _created = services.complaint_open_from_survey_response(response=detractor, by=owner)
    assert needs_follow_up(detractor)

    resolved = resolve(complaint, teammate)

    follow_up = SurveyFollowUp.objects.get(response=detractor)
    assert (follow_up.by, follow_up.contacted_at) == (teammate, resolved.resolved_at)
    assert follow_up.outcome == f"Complaint {complaint.reference} resolved: {DECISION}"
    detractor.refresh_from_db()
    assert (detractor.followed_up_at, detractor.followed_up_by) == (resolved.resolved_at, teammate)
    assert not needs_follow_up(detractor)
    assert not needing_follow_up(SurveyResponse.objects.all()).exists()
    detractor_alert.refresh_from_db()
    assert detractor_alert.resolved_at is not None


def test_a_resolution_after_a_reopening_is_recorded_again_and_history_keeps_both(
    detractor, detractor_alert, owner, teammate, time_machine
):
    complaint, _created = services.complaint_open_from_survey_response(response=detractor, by=owner)
    first = resolve(complaint, teammate)
    time_machine.move_to(timezone.now() + timedelta(days=2))
    reopened = services.complaint_reopen(complaint=first, by=teammate, reason="The rate is still wrong.")

    second = resolve(reopened, teammate, text="The corrected rate letter was sent today.")

    follow_ups = list(SurveyFollowUp.objects.filter(response=detractor).order_by("contacted_at"))
    assert [f.contacted_at for f in follow_ups] == [first.resolved_at, second.resolved_at]
    assert "The corrected rate letter was sent today." in follow_ups[1].outcome
    detractor.refresh_from_db()
    assert detractor.followed_up_at == second.resolved_at


def test_a_complaint_the_client_raised_in_a_survey_follows_up_its_response_and_its_contact_request(
    project, contact, owner, teammate
):
    invitation = InvitationFactory(project=project, contact=contact, survey=shipped_survey("relationship"))
    asked = invitation.survey.questions.get(type="choice")
    response = SurveyResponseFactory(
        invitation=invitation,
        nps=3,
        is_detractor=True,
        comment="Call me about the fees.",
        answers={str(asked.pk): "yes"},
        submitted_at=timezone.now() - timedelta(hours=1),
    )
    request = AlertFactory(
        project=project, kind="contact_request", subject_type="survey_response", subject_id=response.pk
    )
    raise_complaint_from_survey(response)
    complaint = project.complaints.get()

    resolve(complaint, teammate)

    assert SurveyFollowUp.objects.filter(response=response, by=teammate).count() == 1
    assert not needs_follow_up(response)
    request.refresh_from_db()
    assert request.resolved_at is not None


def test_a_complaint_not_opened_from_a_survey_records_no_follow_up(
    project, contact, detractor, detractor_alert, teammate
):
    complaint = services.complaint_create(
        project=project,
        contact=contact,
        channel="phone",
        category="broken_commitment",
        description="The rate changed without a word.",
        created_by=teammate,
    )

    resolve(complaint, teammate)

    assert not SurveyFollowUp.objects.exists()
    assert needs_follow_up(detractor)
    assert Alert.objects.get(pk=detractor_alert.pk).resolved_at is None


def test_a_refused_resolution_records_no_follow_up(detractor, detractor_alert, owner, teammate):
    complaint, _created = services.complaint_open_from_survey_response(response=detractor, by=owner)
    acknowledged = services.complaint_acknowledge(complaint=complaint, by=teammate)

    with pytest.raises(ValidationError):
        services.complaint_resolve(
            complaint=acknowledged, by=teammate, response_text="", response_channel="phone"
        )

    assert not SurveyFollowUp.objects.exists()
    assert needs_follow_up(detractor)
    assert Alert.objects.get(pk=detractor_alert.pk).resolved_at is None
