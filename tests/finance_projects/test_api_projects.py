from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance_projects.models import FinancingProject, StageTransition
from tests.factories import ClientFactory, ProjectFactory, UserFactory


def _payload(client_org, **overrides):
    data = {
        "client": client_org.pk,
        "name": "华电风电二期 Huadian Wind Phase II",
        "code": "PF-WIND-2",
        "amount": "850000000.00",
        "currency": "CNY",
        "update_cadence_days": 10,
    }
    data.update(overrides)
    return data


def test_an_rm_opens_a_project_that_joins_the_clients_team(api_as, owner, client_org):
    response = api_as(owner).post("/api/v1/projects/", _payload(client_org), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "850000000.00"
    assert body["currency"] == "CNY"
    assert body["stage"] == "inquiry"
    assert body["status"] == "active"
    assert body["relationship_manager"] == owner.pk
    assert body["team"] == client_org.team_id
    assert body["stage_entered_at"].endswith("+08:00")
    project = FinancingProject.objects.get(pk=body["id"])
    assert project.next_update_due_at == project.stage_entered_at + timedelta(days=10)
    assert StageTransition.objects.filter(project=project, stage="inquiry").count() == 1


def test_read_only_fields_sent_by_the_caller_are_refused_naming_each(api_as, owner, client_org, other_team):
    response = api_as(owner).post(
        "/api/v1/projects/",
        _payload(
            client_org,
            team=other_team.pk,
            health=99,
            last_client_update_at="2020-01-01T00:00:00Z",
            frobnicate=1,
        ),
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "team": ["This field is set by the system and cannot be sent."],
        "health": ["This field is set by the system and cannot be sent."],
        "last_client_update_at": ["This field is set by the system and cannot be sent."],
        "frobnicate": ["Unknown field."],
    }
    assert not FinancingProject.objects.exists()


def test_a_put_may_send_back_the_read_only_fields_it_read(api_as, owner, project):
    api = api_as(owner)
    body = api.get(f"/api/v1/projects/{project.pk}/").json()

    response = api.put(f"/api/v1/projects/{project.pk}/", {**body, "name": "Renamed"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"


@pytest.mark.parametrize("amount", ["9999999999999.99", "1234567890123.45", "0.01"])
def test_an_amount_reads_back_exactly_as_sent(api_as, owner, client_org, amount):
    created = api_as(owner).post("/api/v1/projects/", _payload(client_org, amount=amount), format="json")

    assert created.status_code == 201, created.content
    listed = api_as(owner).get("/api/v1/projects/")
    assert listed.status_code == 200
    assert [row["amount"] for row in listed.json()["results"]] == [amount]
    assert api_as(owner).get(f"/api/v1/projects/{created.json()['id']}/").json()["amount"] == amount


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "9999999999999999.99"}, "amount"),  # 16 whole digits: SQLite could not keep it
        ({"amount": "10000000000000.00"}, "amount"),  # 14
        ({"currency": "XYZ"}, "currency"),
        ({"update_cadence_days": 0}, "update_cadence_days"),
        ({"stage": "signed"}, "stage"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_project_input_names_the_field_and_saves_nothing(api_as, owner, client_org, overrides, field):
    response = api_as(owner).post("/api/v1/projects/", _payload(client_org, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not FinancingProject.objects.exists()


def test_a_duplicate_code_is_refused_on_the_code(api_as, owner, project, client_org):
    response = api_as(owner).post("/api/v1/projects/", _payload(client_org, code=project.code), format="json")

    assert response.status_code == 400
    assert "code" in response.json()


def test_naming_another_teams_client_is_a_400_on_client(api_as, owner, outsider):
    foreign = ClientFactory(relationship_manager=outsider)

    response = api_as(owner).post("/api/v1/projects/", _payload(foreign), format="json")

    assert response.status_code == 400
    assert "client" in response.json()
    assert not FinancingProject.objects.exists()


def test_naming_an_rm_from_another_team_is_a_400_on_relationship_manager(api_as, owner, client_org, outsider):
    response = api_as(owner).post(
        "/api/v1/projects/", _payload(client_org, relationship_manager=outsider.pk), format="json"
    )

    assert response.status_code == 400
    assert "relationship_manager" in response.json()


def test_a_department_colleague_cannot_be_the_projects_rm(api_as, manager, client_org, department_user):
    department_user.team = None
    department_user.save()

    response = api_as(manager).post(
        "/api/v1/projects/", _payload(client_org, relationship_manager=department_user.pk), format="json"
    )

    assert response.status_code == 400
    assert "relationship_manager" in response.json()


def test_moving_a_project_to_another_teams_client_is_refused(api_as, owner, project, outsider):
    foreign = ClientFactory(relationship_manager=outsider)

    response = api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"client": foreign.pk}, format="json")

    assert response.status_code == 400
    project.refresh_from_db()
    assert project.client_id != foreign.pk


def test_the_owner_edits_plain_fields_and_the_cadence_moves_the_deadline(api_as, owner, project):
    response = api_as(owner).patch(
        f"/api/v1/projects/{project.pk}/",
        {"name": "三峡海上风电 Three Gorges Offshore Wind", "update_cadence_days": 7, "status": "on_hold"},
        format="json",
    )

    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.status == "on_hold"
    assert project.next_update_due_at == project.created_at + timedelta(days=7)


def test_patching_the_stage_is_refused_and_points_to_move_stage(api_as, owner, project):
    response = api_as(owner).patch(f"/api/v1/projects/{project.pk}/", {"stage": "term_sheet"}, format="json")

    assert response.status_code == 400
    assert "stage" in response.json()
    project.refresh_from_db()
    assert project.stage == "inquiry"


def test_a_negative_amount_on_edit_changes_nothing(api_as, owner, project):
    response = api_as(owner).patch(
        f"/api/v1/projects/{project.pk}/", {"amount": "-1", "name": "Changed"}, format="json"
    )

    assert response.status_code == 400
    assert "amount" in response.json()
    project.refresh_from_db()
    assert (project.amount, project.name) != (Decimal("-1"), "Changed")


def test_department_staff_may_read_but_not_change_a_project(api_as, project, department_user):
    from tests.factories import CommitmentFactory

    CommitmentFactory(project=project, owner=department_user)
    api = api_as(department_user)

    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    assert api.patch(f"/api/v1/projects/{project.pk}/", {"name": "X"}, format="json").status_code == 403
    assert api.post(f"/api/v1/projects/{project.pk}/move-stage/", {"stage": "term_sheet"}).status_code == 403
    assert api.post("/api/v1/projects/", _payload(project.client), format="json").status_code == 403


def test_projects_cannot_be_deleted_through_the_api(api_as, owner, project):
    assert api_as(owner).delete(f"/api/v1/projects/{project.pk}/").status_code == 405


class TestMoveStage:
    def test_one_stage_forward_is_recorded(self, api_as, owner, project):
        response = api_as(owner).post(
            f"/api/v1/projects/{project.pk}/move-stage/", {"stage": "term_sheet"}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["stage"] == "term_sheet"
        assert StageTransition.objects.filter(project=project).count() == 2

    def test_skipping_a_stage_is_a_400_on_stage(self, api_as, owner, project):
        response = api_as(owner).post(
            f"/api/v1/projects/{project.pk}/move-stage/", {"stage": "credit_approval"}, format="json"
        )

        assert response.status_code == 400
        assert "stage" in response.json()
        project.refresh_from_db()
        assert project.stage == "inquiry"

    def test_an_rm_cannot_override_the_stage_order(self, api_as, owner, project):
        response = api_as(owner).post(
            f"/api/v1/projects/{project.pk}/move-stage/",
            {"stage": "credit_approval", "override": True, "note": "Repeat client"},
            format="json",
        )

        assert response.status_code == 400
        assert "stage" in response.json()

    def test_a_manager_overrides_with_a_note(self, api_as, manager, project):
        api = api_as(manager)
        url = f"/api/v1/projects/{project.pk}/move-stage/"

        without_note = api.post(url, {"stage": "credit_approval", "override": True}, format="json")
        with_note = api.post(
            url, {"stage": "credit_approval", "override": True, "note": "Repeat client"}, format="json"
        )

        assert without_note.status_code == 400
        assert "note" in without_note.json()
        assert with_note.status_code == 200
        assert StageTransition.objects.get(project=project, stage="credit_approval").override is True

    def test_an_outsider_gets_404(self, api_as, outsider, project):
        response = api_as(outsider).post(
            f"/api/v1/projects/{project.pk}/move-stage/", {"stage": "term_sheet"}
        )

        assert response.status_code == 404


class TestProjectFilters:
    @pytest.fixture
    def spread(self, client_org, owner, teammate, manager):
        other_client = ClientFactory(relationship_manager=teammate, team=teammate.team)
        return {
            "wind": ProjectFactory(client=client_org, stage="due_diligence"),
            "solar": ProjectFactory(client=client_org, stage="inquiry", status="on_hold"),
            "road": ProjectFactory(client=other_client, stage="due_diligence"),
        }

    def _codes(self, api, query):
        response = api.get(f"/api/v1/projects/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    def test_filters_by_stage_status_client_rm_and_team(self, api_as, manager, teammate, spread, team):
        api = api_as(manager)
        wind, solar, road = spread["wind"], spread["solar"], spread["road"]

        assert self._codes(api, "stage=due_diligence") == {wind.pk, road.pk}
        assert self._codes(api, "stage=due_diligence&stage=inquiry") == {wind.pk, solar.pk, road.pk}
        assert self._codes(api, "status=on_hold") == {solar.pk}
        assert self._codes(api, f"client={wind.client_id}") == {wind.pk, solar.pk}
        assert self._codes(api, f"relationship_manager={teammate.pk}") == {road.pk}
        assert self._codes(api, f"team={team.pk}") == {wind.pk, solar.pk, road.pk}

    def test_an_unknown_stage_is_a_400(self, api_as, manager, spread):
        assert api_as(manager).get("/api/v1/projects/?stage=signed").status_code == 400

    def test_search_and_ordering(self, api_as, manager, spread):
        api = api_as(manager)
        spread["wind"].name = "华电风电二期"
        spread["wind"].save()

        assert self._codes(api, "search=风电") == {spread["wind"].pk}
        amounts = [row["code"] for row in api.get("/api/v1/projects/?ordering=-code").json()["results"]]
        assert amounts == sorted(amounts, reverse=True)

    def test_overdue_client_updates_are_filterable(self, api_as, manager, spread):
        late = spread["road"]
        late.next_update_due_at = timezone.now() - timedelta(days=2)
        late.save()

        assert self._codes(
            api_as(manager), f"update_overdue_at={timezone.now().isoformat()}".replace("+", "%2B")
        ) == {late.pk}


@pytest.mark.parametrize("size", [3, 30])
def test_the_project_list_runs_a_fixed_number_of_queries(
    api_as, manager, client_org, django_assert_max_num_queries, size
):
    ProjectFactory.create_batch(size, client=client_org)
    UserFactory(username="spare", team=manager.team)
    api = api_as(manager)

    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/projects/")

    assert response.json()["count"] == size
