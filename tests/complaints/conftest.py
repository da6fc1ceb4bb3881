from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from complaints import services
from tests.factories import ComplaintFactory, ensure_sla_policies

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are asserted in English; pages and emails for a contact follow their language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _sla_policies(request):
    if (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or request.node.get_closest_marker("django_db")
    ):
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        ensure_sla_policies()


@pytest.fixture
def received_at():
    return datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def complaint(project, contact, time_machine, received_at):
    time_machine.move_to(received_at, tick=False)
    return ComplaintFactory(project=project, contact=contact, received_at=received_at)


@pytest.fixture
def acknowledged(complaint, teammate):
    return services.complaint_acknowledge(complaint=complaint, by=teammate)


@pytest.fixture
def resolved(acknowledged, teammate):
    return services.complaint_resolve(
        complaint=acknowledged,
        by=teammate,
        response_text="We apologise; the committee date is 9 March and we will call you weekly.",
        response_channel="email",
        root_cause="internal_communication",
    )
