"""A small, known week for the digest: Monday 2025-03-03 to Sunday 2025-03-09 (ISO 2025-W10),
reported on Monday 2025-03-10. Figures worked out by hand are in the test that pins them."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from accounts.models import Role
from digests.weeks import IsoWeek
from finance_projects.models import FinancingProject
from tests.factories import (
    AlertFactory,
    ClientFactory,
    ClientHealthSnapshotFactory,
    CommitmentFactory,
    ComplaintFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
W10 = IsoWeek(2025, 10)


def at(year, month, day, hour=12, minute=0, tz=SHANGHAI) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


# Monday of the week after W10, an hour after the Shanghai digest became due.
REPORT_MOMENT = at(2025, 3, 10, 9)


@pytest.fixture
def clock():
    with time_machine.travel(at(2025, 1, 15), tick=False) as traveller:
        yield traveller


@pytest.fixture
def other_manager(other_team):
    user = UserFactory(username="other_manager", role=Role.MANAGER, team=other_team)
    other_team.manager = user
    other_team.save()
    return user


@dataclass
class Week:
    jiangsu: FinancingProject
    wind: FinancingProject
    hidden: FinancingProject


@pytest.fixture
def week10(clock, manager, owner, teammate, outsider, other_manager, client_org) -> Week:
    """Two in-scope projects (the owner's and the teammate's) and one of another team."""
    jiangsu = ProjectFactory(client=client_org, name="Jiangsu solar farm", code="PF-J1")
    wind_client = ClientFactory(relationship_manager=teammate, team=teammate.team, name="Yellow Sea Wind")
    wind = ProjectFactory(client=wind_client, name="Offshore wind phase 2", code="PF-W1")
    hidden_client = ClientFactory(relationship_manager=outsider, team=outsider.team, name="Hidden Hydro Co")
    hidden = ProjectFactory(client=hidden_client, name="Hidden hydro plant", code="PF-H1")

    clock.move_to(at(2025, 1, 16, 10))
    ComplaintFactory(project=wind, received_at=at(2025, 1, 16, 9))  # long past its decision deadline

    clock.move_to(at(2025, 3, 9, 20))
    # Client updates: Jiangsu 22 days after the previous one (late), wind 8 days after (on time).
    TouchpointFactory(project=jiangsu, occurred_at=at(2025, 2, 10))
    TouchpointFactory(project=jiangsu, occurred_at=at(2025, 3, 4))
    TouchpointFactory(project=wind, occurred_at=at(2025, 2, 25))
    TouchpointFactory(project=wind, occurred_at=at(2025, 3, 5))
    TouchpointFactory(project=hidden, occurred_at=at(2025, 3, 6))
    # Promises due in W10: one kept, one still open (missed), one kept a day late (missed).
    CommitmentFactory(project=jiangsu, due_at=at(2025, 3, 5), status="fulfilled", fulfilled_at=at(2025, 3, 4))
    CommitmentFactory(project=jiangsu, due_at=at(2025, 3, 6))
    CommitmentFactory(project=wind, due_at=at(2025, 3, 7), status="fulfilled", fulfilled_at=at(2025, 3, 8))
    CommitmentFactory(project=hidden, due_at=at(2025, 3, 6))
    # W09: the one promise due was kept.
    CommitmentFactory(project=wind, due_at=at(2025, 2, 26), status="fulfilled", fulfilled_at=at(2025, 2, 25))
    # Due in the coming week (W11).
    CommitmentFactory(project=jiangsu, title="Send the signed term sheet", due_at=at(2025, 3, 12))
    CommitmentFactory(project=hidden, title="Hidden promise", due_at=at(2025, 3, 12))
    ComplaintFactory(project=jiangsu, received_at=at(2025, 3, 5))
    ComplaintFactory(project=hidden, received_at=at(2025, 3, 5))
    AlertFactory(project=jiangsu, severity="critical", message="Credit approval promise missed")
    AlertFactory(project=wind, severity="warning", message="Only a warning")
    AlertFactory(project=hidden, severity="critical", message="Hidden alert")
    ClientHealthSnapshotFactory(client=client_org, iso_week=10, health=82)
    ClientHealthSnapshotFactory(client=client_org, iso_week=11, health=58)
    ClientHealthSnapshotFactory(client=wind_client, iso_week=10, health=70)
    ClientHealthSnapshotFactory(client=wind_client, iso_week=11, health=75)
    ClientHealthSnapshotFactory(client=hidden_client, iso_week=10, health=90)
    ClientHealthSnapshotFactory(client=hidden_client, iso_week=11, health=10)

    clock.move_to(REPORT_MOMENT)
    mail.outbox.clear()  # complaint receipts to clients
    return Week(jiangsu=jiangsu, wind=wind, hidden=hidden)


def digests_in_outbox() -> list:
    return [message for message in mail.outbox if message.extra_headers.get("List-Unsubscribe")]
