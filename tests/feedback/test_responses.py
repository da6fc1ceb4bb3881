"""What happens after a client answers: the detractor alert, the follow-up, hooks, categories."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback import services
from feedback.models import SurveyResponse
from finance_projects.models import Alert
from tests.factories import invitation_with_link, shipped_survey
from tests.feedback.conftest import answers_for

pytestmark = pytest.mark.django_db


def submit(invitation, **answers):
    return services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, **answers))


@pytest.mark.parametrize(
    ("kind", "answers", "severity"),
    [
        ("relationship", {"nps": "6"}, "warning"),
        ("relationship", {"nps": "3"}, "critical"),
        ("milestone", {"csat": "2", "ces": "6"}, "warning"),
        ("milestone", {"csat": "4", "ces": "3"}, "warning"),
    ],
)
def test_a_low_score_raises_exactly_one_detractor_alert_for_the_rm(
    project, contact, owner, kind, answers, severity
):
    invitation, _token = invitation_with_link(project=project, contact=contact, survey=shipped_survey(kind))
    response = submit(invitation, **answers)
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.assignee) == ("detractor_response", severity, owner)
    assert alert.subject == {"type": "survey_response", "id": response.pk}
    assert response.is_detractor


@pytest.mark.parametrize("answers", [{"nps": "7"}, {"nps": "10"}])
def test_a_passive_or_promoter_score_raises_no_alert(linked, answers):
    invitation, _token = linked
    response = submit(invitation, **answers)
    assert not response.is_detractor
    assert not Alert.objects.exists()


@pytest.mark.parametrize("answers", [{"csat": "3", "ces": "4"}])
def test_middling_milestone_scores_raise_no_alert(project, contact, answers):
    invitation, _token = invitation_with_link(
        project=project, contact=contact, survey=shipped_survey("milestone")
    )
    submit(invitation, **answers)
    assert not Alert.objects.exists()


def test_recording_the_follow_up_resolves_the_alert(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="2", text="放款一拖再拖")
    services.response_record_follow_up(
        response=response, by=owner, contacted_at=timezone.now(), outcome="Called the CFO, agreed a new date."
    )
    response.refresh_from_db()
    assert response.followed_up_by == owner
    assert Alert.objects.get().resolved_at is not None


def test_a_follow_up_without_an_outcome_is_refused_and_the_alert_stays_open(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="2")
    with pytest.raises(ValidationError) as error:
        services.response_record_follow_up(
            response=response, by=owner, contacted_at=timezone.now(), outcome=" "
        )
    assert "outcome" in error.value.message_dict
    assert Alert.objects.get().resolved_at is None
    with pytest.raises(ValidationError) as error:
        services.response_record_follow_up(
            response=response, by=owner, contacted_at=timezone.now() + timedelta(days=1), outcome="x"
        )
    assert "contacted_at" in error.value.message_dict


def test_response_hooks_run_after_commit(linked, django_capture_on_commit_callbacks):
    invitation, _token = linked
    seen = []
    services.RESPONSE_HOOKS.append(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = submit(invitation, nps="9")
        assert seen == []
        for callback in callbacks:
            callback()
    finally:
        services.RESPONSE_HOOKS.remove(seen.append)
    assert seen == [response]


def test_the_comment_is_tagged_with_failure_categories(linked):
    invitation, _token = linked
    response = submit(invitation, nps="4", text="进度一直没人通知我们，问题拖了一个月还没解决。")
    assert response.categories == ["late_information", "slow_resolution"]


def test_an_rm_edit_of_the_categories_survives_reanalysis(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="4", text="The process was far too complicated.")
    assert response.categories == ["complex_process"]
    services.response_set_categories(response=response, categories=["broken_commitment"], by=owner)
    assert services.responses_reanalyse(responses=SurveyResponse.objects.all()) == 0
    response.refresh_from_db()
    assert response.categories == ["broken_commitment"]
    assert response.categories_edited_by == owner


def test_an_unknown_category_is_refused(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="9")
    with pytest.raises(ValidationError) as error:
        services.response_set_categories(response=response, categories=["weather"], by=owner)
    assert "categories" in error.value.message_dict


def test_a_second_submission_is_refused_and_changes_nothing(linked):
    invitation, _token = linked
    submit(invitation, nps="9")
    with pytest.raises(services.InvitationClosed):
        submit(invitation, nps="1")
    assert SurveyResponse.objects.get().nps == 9
    assert not Alert.objects.exists()


def test_an_expired_invitation_cannot_be_answered(project, contact, relationship_survey):
    invitation, _token = invitation_with_link(
        project=project, contact=contact, created_at=timezone.now() - timedelta(days=31)
    )
    with pytest.raises(services.InvitationClosed):
        submit(invitation, nps="9")
    assert not SurveyResponse.objects.exists()
