"""What happens after a client answers: the detractor alert, the follow-up, hooks, categories.

The submission stores the answers; a worker processes the response after the commit
(`response_process`), so most tests here submit and then process as that worker would.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback import services
from feedback.models import SurveyResponse
from finance_projects.models import Alert
from tests.factories import invitation_with_link, shipped_survey
from tests.feedback.conftest import answers_for, submit_and_process

pytestmark = pytest.mark.django_db

submit = submit_and_process


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


def test_a_satisfied_client_who_asks_to_be_contacted_gets_a_contact_request_alert_for_the_rm(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="10", choice="yes")

    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.assignee) == ("contact_request", "warning", owner)
    assert alert.subject == {"type": "survey_response", "id": response.pk}

    services.response_record_follow_up(
        response=response, by=owner, contacted_at=timezone.now(), outcome="Called; they want a new loan."
    )
    assert Alert.objects.get().resolved_at is not None


def test_a_detractor_who_asks_to_be_contacted_gets_only_the_detractor_alert(linked):
    invitation, _token = linked
    submit(invitation, nps="4", choice="yes")

    assert list(Alert.objects.values_list("kind", flat=True)) == ["detractor_response"]


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


def test_a_follow_up_recorded_before_the_worker_processed_the_response_leaves_no_alert(linked, owner):
    invitation, _token = linked
    response = services.response_submit(invitation=invitation, raw=answers_for(invitation.survey, nps="2"))
    services.response_record_follow_up(
        response=response, by=owner, contacted_at=timezone.now(), outcome="Called them at once."
    )

    services.response_process(response_id=response.pk)

    assert not Alert.objects.exists()
    assert SurveyResponse.objects.get().is_detractor


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


def test_a_follow_up_typed_to_the_minute_of_the_response_is_accepted(linked, owner):
    invitation, _token = linked
    response = submit(invitation, nps="2")
    same_minute = response.submitted_at.replace(second=0, microsecond=0)
    SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=same_minute + timedelta(seconds=18))
    response.refresh_from_db()

    services.response_record_follow_up(
        response=response, by=owner, contacted_at=same_minute, outcome="Called."
    )
    with pytest.raises(ValidationError):
        services.response_record_follow_up(
            response=response, by=owner, contacted_at=same_minute - timedelta(minutes=1), outcome="Called."
        )


def test_response_hooks_run_once_after_the_processing_commits(linked, django_capture_on_commit_callbacks):
    invitation, _token = linked
    seen = []
    services.RESPONSE_HOOKS.append(seen.append)
    try:
        response = services.response_submit(
            invitation=invitation, raw=answers_for(invitation.survey, nps="9")
        )
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            processed = services.response_process(response_id=response.pk)
        assert seen == []
        for callback in callbacks:
            callback()
        assert services.response_process(response_id=response.pk) is None  # a redelivered task
    finally:
        services.RESPONSE_HOOKS.remove(seen.append)
    assert seen == [processed]
    assert seen[0].invitation.project == invitation.project


def test_a_submission_is_stored_at_once_and_processed_by_one_task_after_the_commit(
    linked, django_capture_on_commit_callbacks, eager_celery
):
    invitation, _token = linked
    raw = answers_for(invitation.survey, nps="2", text="进度一直没人通知我们，问题拖了一个月还没解决。")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = services.response_submit(invitation=invitation, raw=raw)
        assert (response.nps, response.is_detractor, response.categories) == (2, True, [])
        assert not Alert.objects.exists()
    assert len(callbacks) == 1 + len(services.RESPONSE_HOOKS)  # the task, then the hooks it ran
    response.refresh_from_db()
    assert response.processed_at is not None
    assert response.categories == ["late_information", "slow_resolution"]
    assert Alert.objects.get().subject == {"type": "survey_response", "id": response.pk}


def test_processing_a_response_twice_raises_no_second_alert(linked):
    invitation, _token = linked
    response = submit(invitation, nps="1")
    assert services.response_process(response_id=response.pk) is None
    assert Alert.objects.count() == 1


def test_a_run_processes_every_pending_response_and_a_second_run_finds_nothing(linked, project, contact):
    invitation, _token = linked
    other, _token = invitation_with_link(project=project, contact=contact, survey=invitation.survey)
    at = timezone.now()
    response = services.response_submit(
        invitation=invitation,
        raw=answers_for(invitation.survey, nps="3", text="Nobody kept us informed."),
        at=at,
    )
    services.response_submit(invitation=other, raw=answers_for(other.survey, nps="9"), at=at)
    assert services.responses_process_pending(at=at + timedelta(seconds=1)) == 2
    assert services.responses_process_pending(at=at + timedelta(seconds=2)) == 0
    response.refresh_from_db()
    assert response.categories == ["late_information"]
    assert Alert.objects.get().opened_at == at  # the alert dates from the answer, not the run


def test_a_run_processes_detractors_first(project, contact, relationship_survey, monkeypatch):
    at = timezone.now()
    for nps in ("9", "8", "2"):
        invitation, _token = invitation_with_link(
            project=project, contact=contact, survey=relationship_survey
        )
        services.response_submit(invitation=invitation, raw=answers_for(relationship_survey, nps=nps), at=at)
        at += timedelta(seconds=1)
    order = []
    real = services.response_process

    def process(*, response_id, at=None):
        order.append(SurveyResponse.objects.get(pk=response_id).nps)
        return real(response_id=response_id, at=at)

    monkeypatch.setattr(services, "response_process", process)
    assert services.responses_process_pending() == 3
    assert order == [2, 9, 8]


def test_submissions_wake_a_worker_once_per_delay_not_once_each(
    project, contact, relationship_survey, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.FEEDBACK = {"PROCESSING_DELAY_SECONDS": 2}
    from feedback import tasks

    woken = []
    monkeypatch.setattr(
        tasks.process_pending_responses, "apply_async", lambda **options: woken.append(options)
    )
    clock = [1_000_000.0]
    monkeypatch.setattr(services.time, "time", lambda: clock[0])

    def submit_one():
        invitation, _token = invitation_with_link(
            project=project, contact=contact, survey=relationship_survey
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.response_submit(invitation=invitation, raw=answers_for(relationship_survey, nps="9"))

    submit_one()
    clock[0] += 1.9
    submit_one()  # the run asked for comes after this commit: no second message
    assert woken == [{"countdown": 2}]
    clock[0] += 0.2
    submit_one()
    assert woken == [{"countdown": 2}, {"countdown": 2}]


def test_a_broker_outage_does_not_lose_the_answer_and_the_next_submission_asks_again(
    project, contact, relationship_survey, monkeypatch, django_capture_on_commit_callbacks
):
    from feedback import tasks

    def down(**options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_pending_responses, "apply_async", down)
    invitation, _token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    with django_capture_on_commit_callbacks(execute=True):
        response = services.response_submit(
            invitation=invitation, raw=answers_for(relationship_survey, nps="2")
        )
    assert SurveyResponse.objects.get(pk=response.pk).processed_at is None  # stored, for the sweep
    woken = []
    monkeypatch.setattr(
        tasks.process_pending_responses, "apply_async", lambda **options: woken.append(options)
    )
    second, _token = invitation_with_link(project=project, contact=contact, survey=relationship_survey)
    with django_capture_on_commit_callbacks(execute=True):
        services.response_submit(invitation=second, raw=answers_for(relationship_survey, nps="9"))
    assert len(woken) == 1


def test_one_failing_response_does_not_stall_the_sweep(project, contact, relationship_survey, monkeypatch):
    at = timezone.now() - timedelta(hours=1)
    bad, _token = invitation_with_link(project=project, contact=contact)
    good, _token = invitation_with_link(project=project, contact=contact)
    services.response_submit(invitation=bad, raw=answers_for(bad.survey, nps="9", text="boom"), at=at)
    services.response_submit(invitation=good, raw=answers_for(good.survey, nps="9", text="fine"), at=at)
    real = services.lexicon.categorise

    def categorise(text):
        if text == "boom":
            raise RuntimeError("broken dictionary")
        return real(text)

    monkeypatch.setattr(services.lexicon, "categorise", categorise)
    assert services.responses_process_pending() == 1
    pending = SurveyResponse.objects.filter(processed_at__isnull=True)
    assert list(pending.values_list("invitation", flat=True)) == [bad.pk]


def test_an_rm_correction_made_before_processing_is_kept(linked, owner):
    invitation, _token = linked
    response = services.response_submit(
        invitation=invitation,
        raw=answers_for(invitation.survey, nps="8", text="The process was far too complicated."),
    )
    services.response_set_categories(response=response, categories=["broken_commitment"], by=owner)
    assert services.response_process(response_id=response.pk).categories == ["broken_commitment"]


def test_processing_now_does_the_work_inside_the_submission(linked, django_capture_on_commit_callbacks):
    invitation, _token = linked
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = services.response_submit(
            invitation=invitation, raw=answers_for(invitation.survey, nps="5"), process_now=True
        )
    assert response.processed_at is not None
    assert Alert.objects.filter(kind="detractor_response").count() == 1
    assert len(callbacks) == len(services.RESPONSE_HOOKS)  # the hooks only: no task is queued


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
