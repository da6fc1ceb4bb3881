from datetime import timedelta

import pytest
from django.utils import timezone

from finance_projects.models import Touchpoint
from tests.factories import ClientFactory, ContactFactory, TouchpointFactory


def _payload(project, **overrides):
    data = {
        "project": project.pk,
        "channel": "meeting",
        "occurred_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "summary": "与客户财务总监讨论授信进度。",
        "is_client_update": True,
    }
    data.update(overrides)
    return data


def test_logging_a_client_update_records_who_and_moves_the_deadline(api_as, owner, project, contact):
    response = api_as(owner).post(
        "/api/v1/touchpoints/", _payload(project, contact=contact.pk), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["logged_by"] == owner.pk
    project.refresh_from_db()
    assert project.last_client_update_at is not None
    assert project.next_update_due_at == project.last_client_update_at + timedelta(days=14)
    detail = api_as(owner).get(f"/api/v1/projects/{project.pk}/").json()
    assert detail["last_client_update_at"] is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at"),
        ({"summary": "   "}, "summary"),
        ({"channel": "carrier_pigeon"}, "channel"),
    ],
)
def test_bad_touchpoint_input_names_the_field_and_saves_nothing(api_as, owner, project, overrides, field):
    response = api_as(owner).post("/api/v1/touchpoints/", _payload(project, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Touchpoint.objects.exists()
    project.refresh_from_db()
    assert project.last_client_update_at is None


def test_a_contact_of_another_client_is_a_400_on_contact(api_as, owner, project):
    other_contact = ContactFactory(client=ClientFactory(relationship_manager=owner, team=owner.team))

    response = api_as(owner).post(
        "/api/v1/touchpoints/", _payload(project, contact=other_contact.pk), format="json"
    )

    assert response.status_code == 400
    assert "contact" in response.json()


def test_touchpoints_are_a_log_and_cannot_be_edited(api_as, owner, project):
    touchpoint = TouchpointFactory(project=project)

    response = api_as(owner).patch(f"/api/v1/touchpoints/{touchpoint.pk}/", {"summary": "x"}, format="json")

    assert response.status_code == 405


def test_department_staff_cannot_log_touchpoints(api_as, project, department_user):
    from tests.factories import CommitmentFactory

    CommitmentFactory(project=project, owner=department_user)

    response = api_as(department_user).post("/api/v1/touchpoints/", _payload(project), format="json")

    assert response.status_code == 403


def test_touchpoints_filter_by_project_channel_client_update_and_date(api_as, owner, project, client_org):
    from tests.factories import ProjectFactory

    other = ProjectFactory(client=client_org)
    now = timezone.now()
    old_call = TouchpointFactory(project=project, channel="call", occurred_at=now - timedelta(days=40))
    visit = TouchpointFactory(
        project=project, channel="site_visit", occurred_at=now - timedelta(days=2), is_client_update=False
    )
    elsewhere = TouchpointFactory(project=other, channel="email", occurred_at=now - timedelta(days=1))
    api = api_as(owner)

    def ids(query):
        response = api.get("/api/v1/touchpoints/", query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids({"project": project.pk}) == {old_call.pk, visit.pk}
    assert ids({"channel": "site_visit"}) == {visit.pk}
    assert ids({"is_client_update": "false"}) == {visit.pk}
    assert ids({"occurred_after": (now - timedelta(days=7)).isoformat()}) == {visit.pk, elsewhere.pk}
    assert ids({"occurred_before": (now - timedelta(days=7)).isoformat()}) == {old_call.pk}
    assert ids({"search": "CFO"}) == {old_call.pk, visit.pk, elsewhere.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["client_concern", "survey_follow_up"])
def test_a_channel_the_product_records_is_refused_and_nothing_is_logged(api_as, owner, project, channel):
    response = api_as(owner).post("/api/v1/touchpoints/", _payload(project, channel=channel), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["channel"]
    assert not Touchpoint.objects.exists()
