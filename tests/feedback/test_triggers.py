"""Which events send a survey, and the rules that hold one back (recorded as skips)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from feedback import services
from feedback.models import SkipReason, SurveyInvitation, SurveySkip, Trigger
from finance_projects.models import StageTransition
from finance_projects.services import project_move_stage
from tests.factories import ContactFactory, InvitationFactory, ProjectFactory, shipped_survey

pytestmark = pytest.mark.django_db


def test_entering_a_survey_stage_sends_the_milestone_survey_after_commit(
    owner, project, contact, milestone_survey, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.contact, invitation.trigger, invitation.stage) == (
        contact,
        Trigger.MILESTONE,
        "term_sheet",
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [contact.email]


def test_a_milestone_survey_sent_after_the_project_moved_on_is_filed_under_its_milestone(
    owner, project, contact, milestone_survey
):
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    project_move_stage(project=project, to_stage="due_diligence", moved_by=owner)

    services.survey_send_milestone(transition=StageTransition.objects.get(pk=transition.pk))

    assert SurveyInvitation.objects.get().stage == "term_sheet"


def test_a_stage_outside_the_configured_list_sends_nothing(
    owner, project, contact, milestone_survey, eager_celery, django_capture_on_commit_callbacks, settings
):
    settings.FEEDBACK = {"MILESTONE_STAGES": ["disbursement"]}
    with django_capture_on_commit_callbacks(execute=True):
        project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    assert not SurveyInvitation.objects.exists()


@pytest.mark.parametrize("blocked", [SkipReason.PROJECT_INACTIVE, SkipReason.SURVEY_MISSING])
def test_a_milestone_survey_that_cannot_go_out_is_recorded_as_a_skip_once(
    owner, project, contact, milestone_survey, blocked
):
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    if blocked == SkipReason.PROJECT_INACTIVE:
        project.status = "on_hold"
        project.save(update_fields=["status"])
    else:
        milestone_survey.is_active = False
        milestone_survey.save(update_fields=["is_active"])

    transition = StageTransition.objects.get(pk=transition.pk)  # as the task reads it
    services.survey_send_milestone(transition=transition)
    services.survey_send_milestone(transition=transition)  # a redelivered task

    assert not SurveyInvitation.objects.exists()
    skip = SurveySkip.objects.get()
    assert (skip.contact, skip.trigger, skip.reason) == (contact, Trigger.MILESTONE, blocked)


def test_the_same_milestone_twice_creates_one_invitation_per_contact(
    owner, project, contact, milestone_survey
):
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    first = services.survey_send_milestone(transition=transition)
    second = services.survey_send_milestone(transition=transition)
    assert first[0].invitation == second[0].invitation
    assert SurveyInvitation.objects.count() == 1


def test_a_contact_is_not_invited_twice_within_the_frequency_cap(project, contact, relationship_survey):
    other_project = ProjectFactory(client=project.client)
    first = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        capped = services.survey_send(
            project=other_project, contact=contact, survey=relationship_survey, trigger="manual"
        )
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        later = services.survey_send(
            project=project, contact=contact, survey=relationship_survey, trigger="manual"
        )
    assert first.invitation and later.invitation
    assert capped.invitation is None
    assert capped.skip.reason == SkipReason.FREQUENCY_CAP
    assert (capped.skip.contact, capped.skip.project) == (contact, other_project)


def test_a_survey_revoked_before_it_was_emailed_does_not_hold_back_the_right_one(
    project, contact, relationship_survey, milestone_survey
):
    mistaken = services.survey_send(
        project=project, contact=contact, survey=milestone_survey, trigger="manual"
    )
    services.invitation_revoke(invitation=mistaken.invitation)

    right = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )

    assert right.invitation is not None


@pytest.mark.parametrize("failed_deliveries, held_back", [(5, False), (4, True)])
def test_a_survey_given_up_after_its_failed_deliveries_does_not_hold_back_the_next_one(
    project, contact, relationship_survey, milestone_survey, failed_deliveries, held_back
):
    undelivered = services.survey_send(
        project=project, contact=contact, survey=milestone_survey, trigger="manual"
    )
    SurveyInvitation.objects.filter(pk=undelivered.invitation.pk).update(send_attempts=failed_deliveries)

    next_one = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )

    assert (next_one.invitation is None) == held_back


def test_a_survey_revoked_after_it_was_emailed_still_counts_against_the_frequency_cap(
    project, contact, relationship_survey
):
    first = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )
    SurveyInvitation.objects.filter(pk=first.invitation.pk).update(sent_at=timezone.now())
    services.invitation_revoke(invitation=first.invitation)

    again = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )

    assert again.invitation is None
    assert again.skip.reason == SkipReason.FREQUENCY_CAP


def test_the_frequency_cap_window_is_configurable(project, contact, relationship_survey, settings):
    settings.FEEDBACK = {"FREQUENCY_CAP_DAYS": 5}
    services.survey_send(project=project, contact=contact, survey=relationship_survey, trigger="manual")
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        again = services.survey_send(
            project=project, contact=contact, survey=relationship_survey, trigger="manual"
        )
    assert again.invitation is not None


def test_an_opted_out_contact_is_never_invited_and_the_skip_is_recorded(
    project, contact, relationship_survey
):
    contact.opted_out = True
    contact.save()
    result = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )
    assert result.invitation is None
    assert SurveySkip.objects.get().reason == SkipReason.OPTED_OUT


def test_a_contact_of_another_client_is_refused(project, relationship_survey):
    stranger = ContactFactory()
    with pytest.raises(Exception) as error:
        services.survey_send(project=project, contact=stranger, survey=relationship_survey, trigger="manual")
    assert "contact" in error.value.message_dict
    assert not SurveyInvitation.objects.exists()


def test_the_recovery_survey_goes_out_with_its_reason(project, contact):
    shipped_survey("recovery")
    result = services.survey_send_recovery(
        project=project, contact=contact, complaint_reference="CP-2026-000012"
    )
    invitation = result.invitation
    assert invitation.survey == shipped_survey("recovery")
    assert (invitation.trigger, invitation.reason_params) == (
        Trigger.RECOVERY,
        {"complaint": "CP-2026-000012"},
    )
    assert invitation.reason_text("en") == "Your complaint CP-2026-000012 has been resolved."


def test_a_manual_send_issues_a_link_that_opens_the_survey(client, project, contact, relationship_survey):
    result = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual", issue_link=True
    )
    assert result.url.endswith(f"/s/{result.token}/")
    assert result.invitation.links.get().token_hash != result.token
    assert client.get(f"/s/{result.token}/").status_code == 200


def test_invitations_to_one_contact_from_two_projects_count_against_one_cap(
    project, contact, relationship_survey
):
    InvitationFactory(project=ProjectFactory(client=project.client), contact=contact)
    result = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual"
    )
    assert result.skip.reason == SkipReason.FREQUENCY_CAP
