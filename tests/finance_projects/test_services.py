from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from finance_projects import services
from finance_projects.models import Alert, Commitment, CommitmentStatus, Contact, StageTransition
from tests.factories import AlertFactory, CommitmentFactory


def test_a_project_moves_forward_one_stage_and_records_the_transition(project, owner):
    transition = services.project_move_stage(project=project, to_stage="term_sheet", moved_by=owner)

    project.refresh_from_db()
    assert project.stage == "term_sheet"
    assert transition.from_stage == "inquiry"
    previous = StageTransition.objects.get(project=project, stage="inquiry")
    assert previous.left_at == transition.entered_at


def test_skipping_a_stage_is_refused_without_a_manager_override(project, owner):
    with pytest.raises(ValidationError) as error:
        services.project_move_stage(
            project=project, to_stage="credit_approval", moved_by=owner, override=True
        )

    assert "stage" in error.value.message_dict
    project.refresh_from_db()
    assert project.stage == "inquiry"
    assert StageTransition.objects.filter(project=project).count() == 1


def test_a_manager_may_skip_a_stage_with_a_reason(project, manager):
    services.project_move_stage(
        project=project, to_stage="credit_approval", moved_by=manager, override=True, note="Repeat client"
    )

    project.refresh_from_db()
    assert project.stage == "credit_approval"


def test_a_client_update_moves_the_last_update_and_the_next_deadline(project, owner):
    when = timezone.now() - timedelta(days=1)
    services.touchpoint_log(
        project=project,
        channel="call",
        occurred_at=when,
        summary="Rate update",
        logged_by=owner,
        is_client_update=True,
    )

    project.refresh_from_db()
    assert project.last_client_update_at == when
    assert project.next_update_due_at == when + timedelta(days=project.update_cadence_days)


def test_an_older_update_does_not_hide_a_newer_one(project, owner):
    newer = timezone.now() - timedelta(hours=1)
    older = timezone.now() - timedelta(days=9)
    for when in (newer, older):
        services.touchpoint_log(
            project=project,
            channel="email",
            occurred_at=when,
            summary="News",
            logged_by=owner,
            is_client_update=True,
        )

    project.refresh_from_db()
    assert project.last_client_update_at == newer


def test_fulfilling_a_commitment_twice_is_an_error(project, owner):
    commitment = CommitmentFactory(project=project)
    services.commitment_fulfil(commitment=commitment, by=owner)

    with pytest.raises(ValidationError):
        services.commitment_fulfil(commitment=commitment, by=owner)
    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.FULFILLED


def test_renegotiation_keeps_the_history_of_due_dates(project, owner):
    commitment = CommitmentFactory(project=project)
    new_due = timezone.now() + timedelta(days=20)

    successor = services.commitment_renegotiate(
        commitment=commitment, new_due_at=new_due, reason="Appraisal delayed", by=owner
    )

    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.RENEGOTIATED
    assert successor.status == CommitmentStatus.OPEN and successor.due_at == new_due
    assert [c.due_at for c in successor.due_date_history()] == [commitment.due_at, new_due]


@pytest.mark.parametrize(
    ("new_due_delta", "reason", "field"),
    [(timedelta(days=-1), "late", "new_due_at"), (timedelta(days=3), "  ", "reason")],
)
def test_a_renegotiation_needs_a_future_date_and_a_reason(project, owner, new_due_delta, reason, field):
    commitment = CommitmentFactory(project=project)

    with pytest.raises(ValidationError) as error:
        services.commitment_renegotiate(
            commitment=commitment, new_due_at=timezone.now() + new_due_delta, reason=reason, by=owner
        )

    assert field in error.value.message_dict
    assert Commitment.objects.filter(project=project).count() == 1


def test_a_new_relationship_manager_takes_over_the_open_alerts_of_the_outgoing_one(
    project, owner, teammate, manager
):
    theirs = AlertFactory(project=project, assignee=owner)
    handed_to_manager = AlertFactory(project=project, assignee=manager)
    closed = AlertFactory(project=project, assignee=owner, resolved_at=timezone.now())

    services.project_update(project=project, relationship_manager=teammate)

    assignees = dict(Alert.objects.values_list("pk", "assignee_id"))
    assert assignees == {theirs.pk: teammate.pk, handed_to_manager.pk: manager.pk, closed.pk: owner.pk}


def test_editing_a_project_without_changing_its_rm_leaves_its_alerts_alone(project, owner, manager):
    alert = AlertFactory(project=project, assignee=manager)

    services.project_update(project=project, name="Renamed")

    alert.refresh_from_db()
    assert alert.assignee == manager


def test_an_rm_change_already_written_on_the_project_by_a_form_still_hands_over_the_alerts(
    project, owner, teammate
):
    alert = AlertFactory(project=project, assignee=owner)
    project.relationship_manager = teammate  # as the admin's form does before calling the service

    services.project_update(project=project, relationship_manager=teammate)

    alert.refresh_from_db()
    assert alert.assignee == teammate


def test_a_contact_edit_does_not_undo_an_opt_out_made_since_the_contact_was_read(contact):
    stale = Contact.objects.get(pk=contact.pk)
    Contact.objects.filter(pk=contact.pk).update(opted_out=True)  # the client unsubscribed meanwhile

    services.contact_update(contact=stale, phone="+86 21 5555 0100")

    contact.refresh_from_db()
    assert (contact.opted_out, contact.phone) == (True, "+86 21 5555 0100")
