"""Field-level rules on the core API: a relationship manager cannot move work out of their
scope, fake a fulfilment, or write the fields the system keeps (sent, they are refused)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ClientFactory, CommitmentFactory


@pytest.fixture
def foreign_client(outsider):
    return ClientFactory(relationship_manager=outsider, team=outsider.team, name="Far Away Co")


def test_a_project_cannot_be_reassigned_to_a_manager_of_another_team(api_as, owner, outsider, project):
    response = api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"relationship_manager": outsider.pk})

    assert response.status_code == 400
    assert "relationship_manager" in response.json()
    project.refresh_from_db()
    assert project.relationship_manager == owner


def test_a_project_cannot_be_moved_to_another_team(api_as, owner, project, other_team):
    api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"team": other_team.pk})

    project.refresh_from_db()
    assert project.team == owner.team


def test_a_project_cannot_be_moved_under_another_teams_client(api_as, owner, project, foreign_client):
    response = api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"client": foreign_client.pk})

    assert response.status_code == 400
    project.refresh_from_db()
    assert project.client_id != foreign_client.pk


def test_system_kept_project_fields_cannot_be_written(api_as, owner, project):
    before = (
        project.last_client_update_at,
        project.next_update_due_at,
        project.stage_entered_at,
        project.health,
    )
    long_ago = (timezone.now() - timedelta(days=400)).isoformat()

    api_as(owner).patch(
        f"/api/v1/projects/{project.pk}/",
        {
            "health": 100,
            "last_client_update_at": long_ago,
            "next_update_due_at": long_ago,
            "stage_entered_at": long_ago,
        },
        format="json",
    )

    project.refresh_from_db()
    assert (
        project.last_client_update_at,
        project.next_update_due_at,
        project.stage_entered_at,
        project.health,
    ) == before


def test_the_stage_does_not_change_through_a_plain_edit(api_as, owner, project):
    api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"stage": "closed"})

    project.refresh_from_db()
    assert project.stage == "inquiry"
    assert project.transitions.count() == 1


def test_fulfilled_at_cannot_be_set_by_hand(api_as, owner, project):
    commitment = CommitmentFactory(project=project)

    api_as(owner).patch(
        f"/api/v1/commitments/{commitment.pk}/",
        {"fulfilled_at": timezone.now().isoformat(), "status": "fulfilled"},
        format="json",
    )

    commitment.refresh_from_db()
    assert (commitment.status, commitment.fulfilled_at) == ("open", None)


def test_a_commitment_cannot_be_given_to_someone_outside_scope(api_as, owner, outsider, project):
    commitment = CommitmentFactory(project=project)

    response = api_as(owner).patch(f"/api/v1/commitments/{commitment.pk}/", {"owner": outsider.pk})

    assert response.status_code == 400
    commitment.refresh_from_db()
    assert commitment.owner == owner


def test_a_client_cannot_be_handed_to_another_team(api_as, owner, outsider, client_org, other_team):
    api = api_as(owner)

    refused = api.patch(f"/api/v1/clients/{client_org.pk}/", {"relationship_manager": outsider.pk})
    api.patch(f"/api/v1/clients/{client_org.pk}/", {"team": other_team.pk})

    assert refused.status_code == 400
    client_org.refresh_from_db()
    assert (client_org.relationship_manager, client_org.team) == (owner, owner.team)


def test_a_touchpoint_cannot_be_logged_in_another_persons_name(api_as, owner, teammate, project):
    response = api_as(owner).post(
        "/api/v1/touchpoints/",
        {
            "project": project.pk,
            "channel": "call",
            "occurred_at": timezone.now().isoformat(),
            "summary": "Discussed the term sheet.",
            "logged_by": teammate.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["logged_by"]
    assert not project.touchpoints.exists()


def test_a_commitment_cannot_be_made_in_another_persons_name_or_already_fulfilled(
    api_as, owner, teammate, project
):
    response = api_as(owner).post(
        "/api/v1/commitments/",
        {
            "project": project.pk,
            "title": "Send the rate sheet",
            "due_at": (timezone.now() + timedelta(days=3)).isoformat(),
            "created_by": teammate.pk,
            "status": "fulfilled",
        },
        format="json",
    )

    assert response.status_code == 400
    assert sorted(response.json()) == ["created_by", "status"]
    assert not project.commitments.exists()


def test_the_browsable_apis_form_still_creates(client, owner, project):
    client.force_login(owner)

    response = client.post(
        "/api/v1/touchpoints/",
        {
            "csrfmiddlewaretoken": "sent-by-the-form",
            "project": project.pk,
            "channel": "call",
            "occurred_at": timezone.now().isoformat(),
            "summary": "Discussed the term sheet.",
        },
    )

    assert response.status_code == 201, response.content
