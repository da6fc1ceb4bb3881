"""Why a client is asked is written in the client's language, whoever sent the survey."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation

from feedback import outbox, services
from feedback.models import SurveyInvitation
from finance_projects.services import project_move_stage
from tests.factories import ContactFactory, InvitationFactory, shipped_survey

pytestmark = pytest.mark.django_db


def page(client, invitation, query=""):
    token = services.invitation_issue_link(invitation=invitation)
    return client.get(f"/s/{token}/{query}").content.decode()


def test_a_milestone_reason_sent_by_an_english_worker_reads_in_the_chinese_contacts_language(
    client, owner, project, contact, milestone_survey
):
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    with translation.override("en"):  # the worker's language, not the contact's
        [result] = services.survey_send_milestone(transition=transition)
        outbox.deliver_invitations()
    invitation = result.invitation

    assert (invitation.reason, invitation.reason_params) == ("", {"stage": "term_sheet"})
    assert "项目已进入“条款清单”阶段。" in mail.outbox[0].body
    assert "项目已进入“条款清单”阶段。" in mail.outbox[0].alternatives[0][0]
    assert "项目已进入“条款清单”阶段。" in page(client, invitation)
    assert "The project entered the stage “Term sheet”." in page(client, invitation, "?lang=en")


def test_a_recovery_reason_names_the_complaint_in_the_english_contacts_language(client, project):
    shipped_survey("recovery")
    contact = ContactFactory(client=project.client, language="en")
    with translation.override("zh-hans"):  # the RM who resolved the complaint reads Chinese
        invitation = services.survey_send_recovery(
            project=project, contact=contact, complaint_reference="CP-2026-000042"
        ).invitation
        outbox.deliver_invitations()

    assert invitation.reason_params == {"complaint": "CP-2026-000042"}
    assert "Your complaint CP-2026-000042 has been resolved." in mail.outbox[0].body
    assert "Your complaint CP-2026-000042 has been resolved." in page(client, invitation)
    assert "您的投诉 CP-2026-000042 已处理完毕。" in page(client, invitation, "?lang=zh-hans")


def test_a_reason_the_rm_typed_is_shown_as_typed(client, project, contact, relationship_survey):
    typed = "About the drawdown schedule we discussed on Monday."
    invitation = services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger="manual", reason=typed
    ).invitation
    outbox.deliver_invitations()

    assert typed in mail.outbox[0].body
    assert typed in page(client, invitation)


def test_sending_a_milestone_survey_again_from_the_admin_keeps_its_reason(
    client, admin_user, project, contact, milestone_survey
):
    earlier = InvitationFactory(
        project=project,
        contact=contact,
        survey=milestone_survey,
        trigger="milestone",
        reason_params={"stage": "credit_approval"},
        created_at=timezone.now() - timedelta(days=90),  # outside the frequency cap
    )
    client.force_login(admin_user)

    client.post(
        "/admin/feedback/surveyinvitation/", {"action": "send_again", "_selected_action": [earlier.pk]}
    )

    again = SurveyInvitation.objects.exclude(pk=earlier.pk).get()
    assert again.trigger == "manual"
    assert again.reason_text(contact.language) == "项目已进入“授信审批”阶段。"
