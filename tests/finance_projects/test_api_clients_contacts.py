import pytest

from finance_projects.models import Client, Contact
from tests.factories import (
    ClientFactory,
    CommitmentFactory,
    ComplaintFactory,
    ContactFactory,
    InvitationFactory,
    SurveyResponseFactory,
    TouchpointFactory,
    ensure_sla_policies,
)


def test_an_rm_adds_a_client_to_their_own_team(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/clients/",
        {"name": "大唐新能源 Datang Renewables", "industry": "风电", "region": "华北"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["relationship_manager"], body["team"]) == (owner.pk, owner.team_id)


def test_a_client_name_is_unique_within_a_team(api_as, owner, client_org):
    response = api_as(owner).post("/api/v1/clients/", {"name": client_org.name}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    assert Client.objects.count() == 1


def test_a_client_cannot_be_handed_to_an_rm_of_another_team(api_as, manager, client_org, outsider):
    response = api_as(manager).patch(
        f"/api/v1/clients/{client_org.pk}/", {"relationship_manager": outsider.pk}, format="json"
    )

    assert response.status_code == 400
    assert "relationship_manager" in response.json()


def test_a_manager_hands_a_client_to_a_teammate(api_as, manager, client_org, teammate):
    response = api_as(manager).patch(
        f"/api/v1/clients/{client_org.pk}/", {"relationship_manager": teammate.pk}, format="json"
    )

    assert response.status_code == 200
    client_org.refresh_from_db()
    assert client_org.relationship_manager == teammate


def test_an_rm_who_only_runs_a_project_of_the_client_cannot_edit_the_client(api_as, client_org, teammate):
    from tests.factories import ProjectFactory

    ProjectFactory(client=client_org, relationship_manager=teammate)

    response = api_as(teammate).patch(f"/api/v1/clients/{client_org.pk}/", {"region": "X"}, format="json")

    assert response.status_code == 403


def test_clients_filter_and_search(api_as, manager, client_org, teammate):
    wind = ClientFactory(relationship_manager=teammate, name="龙源电力 Longyuan Power", industry="Wind")
    api = api_as(manager)

    def ids(query):
        return {row["id"] for row in api.get("/api/v1/clients/", query).json()["results"]}

    assert ids({"relationship_manager": teammate.pk}) == {wind.pk}
    assert ids({"industry": "wind"}) == {wind.pk}
    assert ids({"search": "龙源"}) == {wind.pk}
    assert ids({"team": manager.team_id}) == {wind.pk, client_org.pk}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"email": "not-an-email"}, "email"), ({"language": "fr"}, "language"), ({"name": ""}, "name")],
)
def test_bad_contact_input_names_the_field(api_as, owner, client_org, overrides, field):
    data = {
        "client": client_org.pk,
        "name": "王芳",
        "email": "wang.fang@client.example",
        "language": "zh-hans",
    }
    data.update(overrides)

    response = api_as(owner).post("/api/v1/contacts/", data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Contact.objects.exists()


def test_a_contact_email_is_unique_per_client(api_as, owner, contact):
    response = api_as(owner).post(
        "/api/v1/contacts/",
        {"client": contact.client_id, "name": "Twin", "email": contact.email.upper()},
        format="json",
    )

    assert response.status_code == 400
    assert "email" in response.json()


def test_a_contact_for_another_teams_client_is_a_400_on_client(api_as, owner, outsider):
    foreign = ClientFactory(relationship_manager=outsider)

    response = api_as(owner).post(
        "/api/v1/contacts/", {"client": foreign.pk, "name": "X", "email": "x@y.example"}, format="json"
    )

    assert response.status_code == 400
    assert "client" in response.json()


def test_staff_may_record_an_opt_out_but_not_undo_one(api_as, owner, contact):
    api = api_as(owner)

    assert api.patch(f"/api/v1/contacts/{contact.pk}/", {"opted_out": True}, format="json").status_code == 200
    undo = api.patch(f"/api/v1/contacts/{contact.pk}/", {"opted_out": False, "phone": "123"}, format="json")

    assert undo.status_code == 400
    assert "opted_out" in undo.json()
    contact.refresh_from_db()
    assert contact.opted_out is True
    assert contact.phone != "123"  # nothing of the refused change is saved
    # Other changes to an opted-out contact still go through.
    assert api.patch(f"/api/v1/contacts/{contact.pk}/", {"phone": "123"}, format="json").status_code == 200


def test_contacts_filter_by_client_language_and_opt_out(api_as, owner, contact, client_org):
    english = ContactFactory(client=client_org, language="en", opted_out=True)
    api = api_as(owner)

    def ids(query):
        return {row["id"] for row in api.get("/api/v1/contacts/", query).json()["results"]}

    assert ids({"client": client_org.pk}) == {contact.pk, english.pk}
    assert ids({"language": "en"}) == {english.pk}
    assert ids({"opted_out": "true"}) == {english.pk}


def test_the_client_rm_may_remove_a_contact_but_department_staff_may_not(
    api_as, owner, project, contact, department_user
):
    CommitmentFactory(project=project, owner=department_user)

    assert api_as(department_user).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 403
    assert api_as(owner).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204


@pytest.mark.parametrize("history", ["touchpoint", "survey_response", "complaint"])
def test_a_contact_with_a_history_is_not_deleted_and_the_refusal_says_why(
    api_as, owner, project, contact, history
):
    if history == "touchpoint":
        kept = TouchpointFactory(project=project, contact=contact)
    elif history == "survey_response":
        kept = SurveyResponseFactory(invitation=InvitationFactory(project=project, contact=contact))
    else:
        ensure_sla_policies()
        kept = ComplaintFactory(project=project, contact=contact)

    refused = api_as(owner).delete(f"/api/v1/contacts/{contact.pk}/")

    assert refused.status_code == 400
    assert "contact" in refused.json()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert type(kept).objects.filter(pk=kept.pk).exists()
