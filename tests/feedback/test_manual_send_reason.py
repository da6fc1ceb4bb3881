"""A survey sent by hand without a reason does not tell the client that their project entered a
new stage (or that a complaint was resolved): the page gives a neutral reason instead."""

import pytest

from feedback import services
from finance_projects.services import project_move_stage
from tests.factories import ContactFactory, shipped_survey

pytestmark = pytest.mark.django_db

STAGE_CLAIMS_ZH = ("您的项目刚刚进入新的阶段", "项目已进入")
STAGE_CLAIMS_EN = ("just reached a new stage", "entered the stage")


def page(client, invitation, query=""):
    token = services.invitation_issue_link(invitation=invitation)
    return client.get(f"/s/{token}/{query}").content.decode()


def test_a_milestone_survey_sent_through_the_api_without_a_reason_claims_no_stage_change(
    api_as, owner, client, project, contact, milestone_survey
):
    created = api_as(owner).post(
        "/api/v1/survey-invitations/",
        {"project": project.pk, "contact": contact.pk, "survey": milestone_survey.pk},
    )
    assert created.status_code == 201, created.content
    path = created.data["url"].split("8000", 1)[1]

    chinese = client.get(path).content.decode()
    english = client.get(path + "?lang=en").content.decode()

    assert not [claim for claim in STAGE_CLAIMS_ZH if claim in chinese]
    assert "您的客户经理希望听听您对项目进展的看法。" in chinese
    assert not [claim for claim in STAGE_CLAIMS_EN if claim in english]
    assert "Your relationship manager would like your feedback on how it is going." in english


def test_a_milestone_survey_sent_from_the_project_page_without_a_reason_claims_no_stage_change(
    client, owner, project, milestone_survey
):
    contact = ContactFactory(client=project.client, language="en")
    client.force_login(owner)
    client.post(
        f"/projects/{project.pk}/survey/",
        {"contact": contact.pk, "survey": milestone_survey.pk, "reason": ""},
    )
    [invitation] = contact.survey_invitations.all()
    client.logout()

    body = page(client, invitation)

    assert not [claim for claim in STAGE_CLAIMS_EN if claim in body]
    assert "Your relationship manager would like your feedback on how it is going." in body


def test_a_recovery_survey_sent_by_hand_claims_no_resolved_complaint(client, project, contact):
    survey = shipped_survey("recovery")
    invitation = services.survey_send(
        project=project, contact=contact, survey=survey, trigger="manual"
    ).invitation

    body = page(client, invitation)

    assert "已经处理完毕" not in body
    assert "您的客户经理希望听听您对项目进展的看法。" in body


def test_a_real_milestone_send_keeps_its_stage_reason_and_introduction(
    client, owner, project, contact, milestone_survey
):
    transition = project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)
    [result] = services.survey_send_milestone(transition=transition)

    body = page(client, result.invitation)

    assert "项目已进入“条款清单”阶段。" in body
    assert "您的项目刚刚进入新的阶段" in body
    assert "您的客户经理希望听听您对项目进展的看法" not in body


def test_a_manual_send_with_a_typed_reason_shows_that_reason_and_no_stage_introduction(
    client, project, contact, milestone_survey
):
    typed = "信贷审批已完成，想听听您的意见。"
    invitation = services.survey_send(
        project=project, contact=contact, survey=milestone_survey, trigger="manual", reason=typed
    ).invitation

    body = page(client, invitation)

    assert typed in body
    assert "您的项目刚刚进入新的阶段" not in body  # the typed reason says what happened
