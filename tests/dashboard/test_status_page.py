"""The client status page `/p/<token>/`: no login, one 404 for every bad token."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from finance_projects import services
from finance_projects.models import Touchpoint
from tests.factories import ClientFactory, CommitmentFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(project, contact, owner):
    _link, token = services.status_link_create(project=project, contact=contact, created_by=owner, days=30)
    return _link, token


def url(token):
    return f"/p/{token}/"


def test_the_page_shows_stage_shareable_updates_and_open_commitments(client, link, project):
    _link, token = link
    TouchpointFactory(project=project, summary="Term sheet sent to the borrower", shareable=True)
    TouchpointFactory(project=project, summary="Internal: risk is nervous", shareable=False)
    CommitmentFactory(project=project, title="Credit committee decision")

    response = client.get(url(token))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Term sheet sent to the borrower" in body
    assert "risk is nervous" not in body
    assert "Credit committee decision" in body
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_speaks_the_contacts_language(client, link):
    _link, token = link  # the contact prefers Simplified Chinese

    body = client.get(url(token)).content.decode()

    assert 'lang="zh-hans"' in body


def test_wrong_expired_and_revoked_tokens_get_the_same_404(client, link, project, contact, owner):
    _link, token = link
    revoked, revoked_token = services.status_link_create(project=project, contact=contact, created_by=owner)
    services.status_link_revoke(link=revoked)

    wrong = client.get(url("not-a-real-token"))
    gone = client.get(url(revoked_token))
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        expired = client.get(url(token))

    assert wrong.status_code == gone.status_code == expired.status_code == 404
    assert wrong.content == gone.content == expired.content


def test_a_contact_moved_to_another_client_no_longer_opens_the_old_clients_project(
    client, link, contact, api_as, owner
):
    _link, token = link
    other_client = ClientFactory(relationship_manager=owner, team=owner.team)
    moved = api_as(owner).patch(f"/api/v1/contacts/{contact.pk}/", {"client": other_client.pk}, format="json")
    assert moved.status_code == 200, moved.content  # status links alone are no history

    response = client.get(url(token))

    assert response.status_code == 404
    assert "华能" not in response.content.decode()


def test_raising_a_concern_opens_a_complaint_for_the_team(client, link, project, contact):
    _link, token = link

    response = client.post(url(token), {"description": "Nobody has told us about the rate for three weeks."})

    assert response.status_code == 302
    complaint = project.complaints.get()
    assert complaint.contact == contact
    assert complaint.channel == "status_page"


def test_an_empty_concern_is_refused_next_to_the_field(client, link, project):
    _link, token = link

    response = client.post(url(token), {"description": ""})

    assert response.status_code == 400
    assert 'id="id_description-error"' in response.content.decode()
    assert not project.complaints.exists()
    assert not Touchpoint.objects.filter(project=project).exists()


def test_concerns_are_rate_limited_per_address(client, link, project):
    _link, token = link
    statuses = [
        client.post(url(token), {"description": f"Concern number {i}"}, REMOTE_ADDR="10.0.0.9").status_code
        for i in range(7)
    ]

    assert statuses[:5] == [302] * 5
    assert statuses[5:] == [429, 429]
    assert project.complaints.count() == 5
    assert (
        client.post(url(token), {"description": "From elsewhere"}, REMOTE_ADDR="10.0.0.10").status_code == 302
    )
