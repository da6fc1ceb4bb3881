"""A contact or a project with a record on its client's side stays with that client.

A contact's touchpoints, survey invitations and complaints are about their client's projects,
and a project's records name its client's contacts: moving either to another client would leave
a touchpoint whose contact works for a different client than its project. Only what has no such
record (entered under the wrong client by mistake) may move. The API and the admin refuse the
same way, on `client`, with nothing saved. The admin adds contacts under the API's rules too.
"""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from finance_projects import services
from finance_projects.models import Contact, FinancingProject
from tests.factories import (
    ClientFactory,
    ComplaintFactory,
    ContactFactory,
    InvitationFactory,
    TouchpointFactory,
    ensure_sla_policies,
)
from tests.finance_projects.admin_forms import post_project_change

pytestmark = pytest.mark.django_db

CONTACT_REFUSAL = (
    "This contact has a history with this client's projects and cannot move to another client. "
    "Add them to the other client as a new contact instead."
)
PROJECT_REFUSAL = "This project's records name contacts of its client; it cannot move to another client."


@pytest.fixture
def other_client(owner):
    """Another client of the same RM, so only the rule under test can refuse the move."""
    return ClientFactory(relationship_manager=owner, name="Other Client Power Ltd")


def _touchpoint(project, contact):
    TouchpointFactory(project=project, contact=contact)


def _invitation(project, contact):
    InvitationFactory(project=project, contact=contact)


def _complaint(project, contact):
    ensure_sla_policies()
    ComplaintFactory(project=project, contact=contact)


def _status_link(project, contact):
    services.status_link_create(project=project, contact=contact, created_by=project.relationship_manager)


CONTACT_HISTORIES = [_touchpoint, _invitation, _complaint]
PROJECT_RECORDS = [_touchpoint, _invitation, _complaint, _status_link]


@pytest.fixture
def staff(client, admin_user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(admin_user)
    return client


def _contact_form(contact, **changes):
    data = {
        "client": contact.client_id,
        "name": contact.name,
        "title": contact.title,
        "email": contact.email,
        "phone": contact.phone,
        "language": contact.language,
        **({"opted_out": "on"} if contact.opted_out else {}),
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _patch(api, url, data, language="en"):
    return api.patch(url, data, format="json", HTTP_ACCEPT_LANGUAGE=language)


def _change_contact(staff, contact, **changes):
    return staff.post(
        reverse("admin:finance_projects_contact_change", args=[contact.pk]), _contact_form(contact, **changes)
    )


# Contacts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("history", CONTACT_HISTORIES, ids=lambda f: f.__name__.strip("_"))
def test_a_contact_with_a_history_cannot_move_to_another_client_through_the_api(
    api_as, owner, project, contact, other_client, history
):
    history(project, contact)
    before = Contact.objects.values().get(pk=contact.pk)

    response = _patch(
        api_as(owner), f"/api/v1/contacts/{contact.pk}/", {"client": other_client.pk, "title": "CFO"}
    )

    assert response.status_code == 400, response.content
    assert response.json()["client"] == [CONTACT_REFUSAL]
    assert Contact.objects.values().get(pk=contact.pk) == before


def test_a_contact_without_a_history_moves_to_another_client_through_the_api(
    api_as, owner, contact, other_client
):
    response = _patch(api_as(owner), f"/api/v1/contacts/{contact.pk}/", {"client": other_client.pk})

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.client == other_client


def test_a_contact_with_a_history_is_still_edited_on_its_own_client(api_as, owner, project, contact):
    _touchpoint(project, contact)

    response = _patch(
        api_as(owner), f"/api/v1/contacts/{contact.pk}/", {"client": contact.client_id, "title": "CFO"}
    )

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.title == "CFO"


def test_a_contact_with_a_history_cannot_move_to_another_client_in_the_admin(
    staff, project, contact, other_client
):
    _touchpoint(project, contact)
    before = Contact.objects.values().get(pk=contact.pk)

    response = _change_contact(staff, contact, client=other_client.pk, title="CFO")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors["client"]) == [CONTACT_REFUSAL]
    assert Contact.objects.values().get(pk=contact.pk) == before
    assert not LogEntry.objects.exists()


def test_a_contact_without_a_history_moves_to_another_client_in_the_admin(staff, contact, other_client):
    response = _change_contact(staff, contact, client=other_client.pk)

    assert response.status_code == 302, response.content
    contact.refresh_from_db()
    assert contact.client == other_client


def test_an_administrator_still_opts_a_contact_back_in_in_the_admin(staff, project, contact):
    _touchpoint(project, contact)
    Contact.objects.filter(pk=contact.pk).update(opted_out=True)
    contact.refresh_from_db()

    response = _change_contact(staff, contact, opted_out=None)  # the box unticked

    assert response.status_code == 302, response.content
    contact.refresh_from_db()
    assert contact.opted_out is False


# Projects ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("record", PROJECT_RECORDS, ids=lambda f: f.__name__.strip("_"))
def test_a_project_whose_records_name_a_contact_cannot_move_to_another_client_through_the_api(
    api_as, owner, project, contact, other_client, record
):
    record(project, contact)
    before = FinancingProject.objects.values().get(pk=project.pk)

    response = _patch(
        api_as(owner), f"/api/v1/projects/{project.pk}/", {"client": other_client.pk, "name": "Renamed"}
    )

    assert response.status_code == 400, response.content
    assert response.json()["client"] == [PROJECT_REFUSAL]
    assert FinancingProject.objects.values().get(pk=project.pk) == before


def test_a_project_whose_records_name_no_contact_moves_to_another_client_through_the_api(
    api_as, owner, project, other_client
):
    TouchpointFactory(project=project, contact=None)

    response = _patch(api_as(owner), f"/api/v1/projects/{project.pk}/", {"client": other_client.pk})

    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert (project.client, project.team_id) == (other_client, other_client.team_id)


def test_a_project_whose_records_name_a_contact_cannot_move_to_another_client_in_the_admin(
    staff, project, contact, other_client
):
    _touchpoint(project, contact)
    before = FinancingProject.objects.values().get(pk=project.pk)

    response = post_project_change(staff, project, client=other_client.pk, name="Renamed")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors["client"]) == [PROJECT_REFUSAL]
    assert FinancingProject.objects.values().get(pk=project.pk) == before
    assert not LogEntry.objects.exists()


def test_a_project_whose_records_name_no_contact_moves_to_another_client_in_the_admin(
    staff, project, other_client
):
    response = post_project_change(staff, project, client=other_client.pk)

    assert response.status_code == 302, response.content
    project.refresh_from_db()
    assert project.client == other_client


def test_the_refusal_is_in_the_callers_language(api_as, owner, project, contact, other_client):
    _touchpoint(project, contact)
    api = api_as(owner)

    contact_move = _patch(api, f"/api/v1/contacts/{contact.pk}/", {"client": other_client.pk}, "zh-hans")
    project_move = _patch(api, f"/api/v1/projects/{project.pk}/", {"client": other_client.pk}, "zh-hans")

    assert contact_move.json()["client"] == [
        "该联系人已在此客户的项目中有记录，不能转到其他客户。请在另一客户下新建联系人。"
    ]
    assert project_move.json()["client"] == ["该项目的记录中含有其客户的联系人，不能转到其他客户。"]


def test_the_admin_refuses_a_second_contact_with_the_same_address_in_another_case(staff, contact):
    add = reverse("admin:finance_projects_contact_add")

    response = staff.post(add, _contact_form(contact, email=contact.email.upper(), name="Duplicate"))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors["email"]) == [
        "This client already has a contact with this email."
    ]
    assert Contact.objects.filter(client=contact.client).count() == 1


def _client_page_form(staff, client_org):
    """The client's change page as a browser would post it back unchanged, contact rows included."""
    url = reverse("admin:finance_projects_client_change", args=[client_org.pk])
    page = staff.get(url)
    formset = page.context["inline_admin_formsets"][0].formset
    data = {}
    for form in (page.context["adminform"].form, formset.management_form, *formset.forms):
        for name in form.fields:
            value = form[name].value()
            if value not in (None, False):
                data[form.add_prefix(name)] = "on" if value is True else value
    return url, formset.prefix, data


def test_a_contact_added_on_the_clients_page_follows_the_one_address_rule(staff, contact, client_org):
    url, prefix, data = _client_page_form(staff, client_org)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": int(data[f"{prefix}-TOTAL_FORMS"]) + 1,
            f"{prefix}-1-name": "Duplicate",
            f"{prefix}-1-email": contact.email.upper(),
            f"{prefix}-1-language": "en",
        }
    )

    response = staff.post(url, data)

    assert response.status_code == 200
    assert "This client already has a contact with this email." in response.content.decode()
    assert list(Contact.objects.filter(client=client_org).values_list("email", flat=True)) == [contact.email]


def test_a_contact_edited_on_the_clients_page_follows_the_one_address_rule(staff, contact, client_org):
    colleague = ContactFactory(client=client_org, email="treasurer@client.example")
    url, _prefix, data = _client_page_form(staff, client_org)
    row = next(key for key, value in data.items() if value == colleague.email)
    data[row] = contact.email.upper()

    response = staff.post(url, data)

    assert response.status_code == 200
    assert "This client already has a contact with this email." in response.content.decode()
    colleague.refresh_from_db()
    assert colleague.email == "treasurer@client.example"


def test_contacts_added_and_edited_on_the_clients_page_are_saved(staff, contact, client_org):
    url, prefix, data = _client_page_form(staff, client_org)
    row = next(key for key, value in data.items() if value == contact.email)
    data[row.replace("-email", "-title")] = "CFO"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": int(data[f"{prefix}-TOTAL_FORMS"]) + 1,
            f"{prefix}-1-name": "Treasurer",
            f"{prefix}-1-email": "treasurer@client.example",
            f"{prefix}-1-language": "en",
        }
    )

    response = staff.post(url, data)

    assert response.status_code == 302, response.content
    contact.refresh_from_db()
    assert contact.title == "CFO"
    assert Contact.objects.get(email="treasurer@client.example").client == client_org
