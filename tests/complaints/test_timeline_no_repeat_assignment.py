"""Acknowledging an unassigned complaint makes the acknowledger its handler; assigning it to them
again changes nothing, so the timeline shows the handler once."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import EventKind

pytestmark = pytest.mark.django_db


def owner_events(complaint):
    return list(complaint.events.filter(kind=EventKind.OWNER).values_list("data__owner_id", flat=True))


def test_assigning_the_handler_who_acknowledged_it_records_no_second_handler_line(complaint, manager):
    services.complaint_acknowledge(complaint=complaint, by=manager)

    services.complaint_assign(complaint=complaint, owner=manager, by=manager)

    assert owner_events(complaint) == [manager.pk]


def test_handing_it_to_someone_else_is_recorded(acknowledged, teammate, manager):
    services.complaint_assign(complaint=acknowledged, owner=manager, by=teammate)
    services.complaint_assign(complaint=acknowledged, owner=manager, by=teammate)

    acknowledged.refresh_from_db()
    assert acknowledged.owner == manager
    assert owner_events(acknowledged) == [teammate.pk, manager.pk]


def test_the_page_says_nothing_changed_and_the_timeline_names_the_handler_once(
    client, complaint, teammate, manager
):
    client.force_login(manager)
    client.post(reverse("complaints:action", args=[complaint.pk, "acknowledge"]))

    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "assign"]), {"owner": manager.pk}, follow=True
    )

    html = response.content.decode()
    assert "already handles this complaint: nothing changed" in html
    timeline = html.split('id="timeline"')[1]
    assert timeline.count(f"Handler: {manager}") == 1
