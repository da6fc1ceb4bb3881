"""A typed note (a touchpoint's summary, a commitment's description, a reason, a stage-move note)
holds at most NOTE_MAX_CHARS characters, in the API and on the pages: longer is refused on its
field and nothing is saved. A 200,000-character summary was saved and stretched the project's
timeline (and the client's status page, when shared) to 74,000 pixels."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_projects.models import NOTE_MAX_CHARS, Commitment, StageTransition, Touchpoint
from tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db

AT_THE_LIMIT = "话" * NOTE_MAX_CHARS
OVER_THE_LIMIT = AT_THE_LIMIT + "。"


def touchpoint(project, summary):
    return {
        "project": project.pk,
        "channel": "call",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "summary": summary,
    }


def test_a_touchpoint_summary_at_the_limit_is_logged_and_one_over_is_refused(api_as, owner, project):
    api = api_as(owner)

    refused = api.post("/api/v1/touchpoints/", touchpoint(project, OVER_THE_LIMIT), format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["summary"]
    assert not Touchpoint.objects.exists()

    logged = api.post("/api/v1/touchpoints/", touchpoint(project, AT_THE_LIMIT), format="json")
    assert logged.status_code == 201, logged.content


def test_a_touchpoint_summary_over_the_limit_is_refused_next_to_the_field_on_the_project_page(
    client, owner, project
):
    client.force_login(owner)
    response = client.post(
        reverse("dashboard:project-action", args=[project.pk, "touchpoint"]),
        {
            "channel": "call",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "summary": OVER_THE_LIMIT,
        },
    )

    assert response.status_code == 400
    assert 'id="id_touchpoint_summary_error"' in response.content.decode()
    assert f'maxlength="{NOTE_MAX_CHARS}"' in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_a_commitment_description_over_the_limit_is_refused(api_as, owner, project):
    due = (timezone.now() + timedelta(days=5)).isoformat()
    data = {"project": project.pk, "title": "Rate confirmation", "due_at": due, "description": OVER_THE_LIMIT}

    response = api_as(owner).post("/api/v1/commitments/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["description"]
    assert not Commitment.objects.exists()


def test_a_renegotiation_reason_over_the_limit_is_refused(api_as, owner, project):
    commitment = CommitmentFactory(project=project, owner=owner)
    new_due = (timezone.now() + timedelta(days=20)).isoformat()

    response = api_as(owner).post(
        f"/api/v1/commitments/{commitment.pk}/renegotiate/",
        {"new_due_at": new_due, "reason": OVER_THE_LIMIT},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    commitment.refresh_from_db()
    assert commitment.status == "open"


def test_a_stage_move_note_over_the_limit_is_refused(api_as, owner, project):
    before = StageTransition.objects.count()

    response = api_as(owner).post(
        f"/api/v1/projects/{project.pk}/move-stage/",
        {"stage": "term_sheet", "note": OVER_THE_LIMIT},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    assert StageTransition.objects.count() == before
