"""Pages follow the signed-in user's own time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import ComplaintFactory, ensure_sla_policies

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 3, 2, 2, 30, tzinfo=ZoneInfo("UTC"))  # 10:30 in Shanghai, 02:30 in London


@pytest.fixture
def complaint(project, contact, time_machine):
    ensure_sla_policies()
    time_machine.move_to(RECEIVED, tick=False)
    return ComplaintFactory(project=project, contact=contact, received_at=RECEIVED)


def test_a_page_shows_times_in_the_viewers_own_time_zone(client, manager, complaint):
    manager.time_zone = "Europe/London"
    manager.save()
    client.force_login(manager)

    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    assert "2026-03-02 02:30" in page
    assert "2026-03-02 10:30" not in page


def test_a_viewer_without_a_known_zone_sees_the_sites_zone(client, manager, complaint):
    manager.time_zone = "Nowhere/Atlantis"
    manager.save()
    client.force_login(manager)

    with override_settings(TIME_ZONE="Asia/Shanghai"):
        page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()

    assert "2026-03-02 10:30" in page


def test_a_date_range_is_read_in_the_viewers_zone(client, manager, project, contact, time_machine):
    """Received late on 1 March in London, which is already 2 March in Shanghai: a London
    manager's report from 2 March leaves it out."""
    ensure_sla_policies()
    received = datetime(2026, 3, 1, 20, 0, tzinfo=ZoneInfo("Europe/London"))
    time_machine.move_to(received, tick=False)
    late = ComplaintFactory(project=project, contact=contact, received_at=received)
    manager.time_zone = "Europe/London"
    manager.save()
    client.force_login(manager)

    export = client.get(reverse("complaints:export", args=["csv"]), {"start": "2026-03-02"})

    assert late.reference not in export.content.decode("utf-8-sig")


def test_an_api_token_caller_reads_and_writes_times_in_their_own_time_zone(manager, complaint):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    manager.time_zone = "Europe/London"
    manager.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")

    shown = api.get(f"/api/v1/complaints/{complaint.pk}/").json()

    assert shown["received_at"] == "2026-03-02T02:30:00Z"  # London in March is UTC, not +08:00
