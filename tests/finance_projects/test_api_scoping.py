"""Who sees what through /api/v1/: every list and every detail is cut to the caller's portfolio,
and anything outside it answers 404 exactly like a row that does not exist."""

import pytest

from tests.factories import CommitmentFactory, ProjectFactory, TouchpointFactory


@pytest.fixture
def objects(project, contact, department_user):
    """One row of every kind on the owner's project; the commitment is handed to legal."""
    return {
        "clients": project.client_id,
        "contacts": contact.pk,
        "projects": project.pk,
        "touchpoints": TouchpointFactory(project=project, contact=contact).pk,
        "commitments": CommitmentFactory(project=project, owner=department_user).pk,
    }


ENDPOINTS = ["clients", "contacts", "projects", "touchpoints", "commitments"]


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", ["owner", "manager", "admin_user"])
def test_the_owner_their_manager_and_an_admin_see_the_row_in_list_and_detail(
    request, api_as, objects, endpoint, who
):
    api = api_as(request.getfixturevalue(who))

    assert objects[endpoint] in _ids(api.get(f"/api/v1/{endpoint}/"))
    assert api.get(f"/api/v1/{endpoint}/{objects[endpoint]}/").status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_a_teammate_and_an_outsider_get_404_for_the_owners_rows(request, api_as, objects, endpoint, who):
    api = api_as(request.getfixturevalue(who))

    assert objects[endpoint] not in _ids(api.get(f"/api/v1/{endpoint}/"))
    assert api.get(f"/api/v1/{endpoint}/{objects[endpoint]}/").status_code == 404


def test_a_teammate_who_manages_the_project_sees_it_and_its_client(api_as, client_org, teammate):
    theirs = ProjectFactory(client=client_org, relationship_manager=teammate)
    api = api_as(teammate)

    assert _ids(api.get("/api/v1/projects/")) == {theirs.pk}
    assert api.get(f"/api/v1/clients/{client_org.pk}/").status_code == 200


def test_a_teammate_who_manages_the_client_sees_every_project_of_it(api_as, project, teammate):
    project.client.relationship_manager = teammate
    project.client.save()

    assert _ids(api_as(teammate).get("/api/v1/projects/")) == {project.pk}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_department_staff_see_only_projects_with_a_commitment_assigned_to_them(
    api_as, objects, client_org, department_user, endpoint
):
    unassigned = ProjectFactory(client=client_org)
    CommitmentFactory(project=unassigned)
    TouchpointFactory(project=unassigned)
    api = api_as(department_user)

    assert objects[endpoint] in _ids(api.get(f"/api/v1/{endpoint}/"))
    assert api.get(f"/api/v1/projects/{unassigned.pk}/").status_code == 404
    assert unassigned.pk not in _ids(api.get("/api/v1/projects/"))


def test_a_manager_does_not_see_another_teams_projects(api_as, manager, outsider):
    elsewhere = ProjectFactory(client__relationship_manager=outsider)

    assert api_as(manager).get(f"/api/v1/projects/{elsewhere.pk}/").status_code == 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_callers_are_refused(api, objects, endpoint):
    assert api.get(f"/api/v1/{endpoint}/").status_code in (401, 403)
    assert api.get(f"/api/v1/{endpoint}/{objects[endpoint]}/").status_code in (401, 403)


def test_lists_are_paginated_with_count_next_previous_and_results(api_as, owner, client_org):
    ProjectFactory.create_batch(3, client=client_org)

    body = api_as(owner).get("/api/v1/projects/?page_size=2").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "page=2" in body["next"]


@pytest.mark.parametrize("size", ["0", "-1", "abc", "501", "1.5", "٣", "1" * 5000])
def test_a_page_size_that_is_not_one_is_refused_naming_it(api_as, owner, project, size):
    response = api_as(owner).get("/api/v1/projects/", {"page_size": size}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"page_size": ["Choose a page size from 1 to 500."]}


def test_a_page_size_of_up_to_500_is_taken(api_as, owner, project):
    assert api_as(owner).get("/api/v1/projects/", {"page_size": "500"}).json()["count"] == 1
