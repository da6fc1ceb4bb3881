"""Editing a touchpoint in the admin keeps its contact one of the project's client, as logging
one does: another client's contact is refused on the contact field and nothing is saved."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from finance_projects.models import Touchpoint
from tests.factories import ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(admin_user)
    return client


@pytest.fixture
def touchpoint(project, contact):
    return TouchpointFactory(
        project=project,
        contact=contact,
        occurred_at=timezone.now() - timedelta(days=1),
        summary="Called the CFO about the term sheet.",
    )


def change(staff, touchpoint, contact, **changes):
    """The change form as the admin sends it: only the fields it does not show read-only."""
    return staff.post(
        reverse("admin:finance_projects_touchpoint_change", args=[touchpoint.pk]),
        {
            "contact": contact.pk,
            "channel": touchpoint.channel,
            "summary": touchpoint.summary,
            **({"shareable": "on"} if touchpoint.shareable else {}),
            **({"needs_attention": "on"} if touchpoint.needs_attention else {}),
            **changes,
        },
    )


def test_moving_a_touchpoint_to_another_clients_contact_is_refused_on_the_contact(staff, touchpoint, contact):
    stranger = ContactFactory()
    before = Touchpoint.objects.values().get(pk=touchpoint.pk)

    response = change(staff, touchpoint, stranger, summary="Called their CFO instead.")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors["contact"]) == ["This contact belongs to another client."]
    assert Touchpoint.objects.values().get(pk=touchpoint.pk) == before  # nothing saved, not even the summary
    assert not LogEntry.objects.exists()


def test_a_touchpoint_can_move_to_another_contact_of_its_own_client(staff, touchpoint, client_org):
    colleague = ContactFactory(client=client_org)

    response = change(staff, touchpoint, colleague, summary="Called the treasurer instead.")

    assert response.status_code == 302
    touchpoint.refresh_from_db()
    assert touchpoint.contact == colleague
    assert touchpoint.summary == "Called the treasurer instead."
