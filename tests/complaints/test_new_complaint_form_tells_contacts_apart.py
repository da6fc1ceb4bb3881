"""The "new complaint" page names each contact with their job title (their e-mail when they have
none): a client may have two people of the same name."""

import re

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def contact_options(body: str) -> dict[str, str]:
    select = re.search(r'<select name="contact"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None
    return dict(re.findall(r'<option value="(\d+)"[^>]*>(.*?)</option>', select.group(1)))


def test_two_contacts_of_the_same_name_are_told_apart_by_title_or_email(client, owner, client_org):
    cfo = ContactFactory(client=client_org, name="Michael Tan", title="CFO")
    director = ContactFactory(client=client_org, name="Michael Tan", title="Project Director")
    untitled = ContactFactory(client=client_org, name="Michael Tan", title="", email="m.tan@client.example")
    client.force_login(owner)

    body = client.get(reverse("complaints:create"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    options = contact_options(body)
    assert options[str(cfo.pk)] == f"Michael Tan ({client_org}) · CFO"
    assert options[str(director.pk)] == f"Michael Tan ({client_org}) · Project Director"
    assert options[str(untitled.pk)] == f"Michael Tan ({client_org}) · m.tan@client.example"
