"""The project page's "Send a survey" form names each contact with their job title (their e-mail
when they have none): a client may have two people of the same name."""

import re

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def contact_options(body: str) -> dict[str, str]:
    select = re.search(r'<select name="contact"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None
    return dict(re.findall(r'<option value="(\d+)"[^>]*>(.*?)</option>', select.group(1)))


def test_two_contacts_of_the_same_name_are_told_apart_by_title_or_email(client, owner, project, client_org):
    cfo = ContactFactory(client=client_org, name="Michael Tan", title="CFO")
    director = ContactFactory(client=client_org, name="Michael Tan", title="Project Director")
    untitled = ContactFactory(client=client_org, name="Michael Tan", title="", email="m.tan@client.example")
    client.force_login(owner)

    body = client.get(
        reverse("dashboard:project", args=[project.pk]) + "?form=survey", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    options = contact_options(body)
    assert options[str(cfo.pk)] == f"Michael Tan ({client_org}) · CFO"
    assert options[str(director.pk)] == f"Michael Tan ({client_org}) · Project Director"
    assert options[str(untitled.pk)] == f"Michael Tan ({client_org}) · m.tan@client.example"


def test_a_contact_with_neither_title_nor_email_is_labelled_by_name_alone(db):
    from cem.form_fields import ContactChoiceField
    from tests.factories import ContactFactory

    contact = ContactFactory(name="Zhao Min", title="", email="")

    assert ContactChoiceField(queryset=None).label_from_instance(contact) == str(contact)
