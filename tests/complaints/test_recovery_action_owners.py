"""A recovery action is handed only to an active user who can see the complaint's project, or to
department staff (bank-wide risk, legal and credit own the actions handed to them). Holding an
action shows its complaint, so an action handed to another team's RM showed them the complaint,
its contact and its actions."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from complaints import services
from complaints.models import RecoveryAction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CANNOT_SEE = (
    "This person cannot see the complaint's project: hand the action to someone who can, or to "
    "department staff."
)


def says(page: str, text: str) -> bool:
    return text in page or text.replace("'", "&#x27;") in page


def action(complaint, owner_id):
    return {
        "complaint": complaint.pk,
        "kind": "apology",
        "description": "Say sorry for the silence.",
        "owner": owner_id,
        "due_at": (complaint.received_at + timedelta(days=2)).isoformat(),
    }


def test_another_teams_rm_cannot_be_handed_an_action_through_the_api_and_stays_out(
    api_as, acknowledged, manager, outsider
):
    response = api_as(manager).post(
        "/api/v1/complaint-actions/", action(acknowledged, outsider.pk), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"owner": [CANNOT_SEE]}
    assert not RecoveryAction.objects.exists()
    api = api_as(outsider)
    assert api.get(f"/api/v1/complaints/{acknowledged.pk}/").status_code == 404
    assert api.get("/api/v1/complaint-actions/").json()["count"] == 0


@pytest.fixture
def people(owner, manager, teammate, outsider, department_user, other_team, team):
    return {
        "project_rm": owner,
        "team_manager": manager,
        "department_staff": department_user,
        "another_teams_department_staff": UserFactory(
            username="credit", role=Role.DEPARTMENT, department="credit", team=other_team
        ),
        "another_teams_rm": outsider,
        "teammate_without_the_project": teammate,
        "inactive_manager": UserFactory(username="gone", role=Role.MANAGER, team=team, is_active=False),
        "inactive_department_staff": UserFactory(
            username="retired", role=Role.DEPARTMENT, department="risk", team=team, is_active=False
        ),
    }


ALLOWED = ["project_rm", "team_manager", "department_staff", "another_teams_department_staff"]
REFUSED = [
    "another_teams_rm",
    "teammate_without_the_project",
    "inactive_manager",
    "inactive_department_staff",
]


@pytest.mark.parametrize("who", ALLOWED)
def test_an_action_goes_to_someone_who_sees_the_project_or_to_department_staff(
    acknowledged, manager, people, who
):
    added = services.recovery_action_add(
        complaint=acknowledged,
        kind="apology",
        description="Say sorry.",
        owner=people[who],
        due_at=acknowledged.received_at + timedelta(days=2),
        by=manager,
    )

    assert added.owner == people[who]


@pytest.mark.parametrize("who", REFUSED)
def test_an_action_is_refused_on_its_owner_for_anyone_else(acknowledged, manager, people, who):
    events = acknowledged.events.count()

    with pytest.raises(ValidationError) as error:
        services.recovery_action_add(
            complaint=acknowledged,
            kind="apology",
            description="Say sorry.",
            owner=people[who],
            due_at=acknowledged.received_at + timedelta(days=2),
            by=manager,
        )

    assert list(error.value.message_dict) == ["owner"]
    assert not RecoveryAction.objects.exists()
    assert acknowledged.events.count() == events


def test_the_add_action_menu_offers_only_who_may_own_it_by_name(client, acknowledged, manager, people):
    client.force_login(manager)

    page = client.get(reverse("complaints:detail", args=[acknowledged.pk])).content.decode()

    form = page[page.index(reverse("complaints:action", args=[acknowledged.pk, "add-action"])) :]
    start = form.index('name="owner"')
    menu = form[start : form.index("</select>", start)]
    offered = [int(pk) for pk in re.findall(r'<option value="(\d+)"', menu)]
    expected = sorted((people[who] for who in ALLOWED), key=lambda u: (u.first_name, u.last_name, u.username))
    assert offered == [user.pk for user in expected]


def test_another_teams_rm_named_on_the_page_is_refused_on_the_owner_field(
    client, acknowledged, manager, outsider
):
    client.force_login(manager)

    response = client.post(
        reverse("complaints:action", args=[acknowledged.pk, "add-action"]),
        {
            "kind": "apology",
            "description": "Say sorry.",
            "owner": outsider.pk,
            "due_at": "2026-03-05T10:00",
        },
    )

    assert response.status_code == 400
    assert list(response.context["forms"]["add_action"].errors) == ["owner"]
    assert says(response.content.decode(), CANNOT_SEE)
    assert not RecoveryAction.objects.exists()


def test_the_admin_refuses_to_hand_an_action_to_another_teams_rm(
    client, admin_user, complaint, owner, outsider
):
    action = services.recovery_action_add(
        complaint=complaint,
        kind="apology",
        description="Call the CFO.",
        owner=owner,
        due_at=complaint.received_at + timedelta(days=3),
        by=admin_user,
    )
    client.force_login(admin_user)
    url = reverse("admin:complaints_recoveryaction_change", args=[action.pk])
    day, time = timezone.localtime(action.due_at).strftime("%Y-%m-%d %H:%M:%S").split()

    response = client.post(
        url,
        {
            "complaint": complaint.pk,
            "kind": "apology",
            "description": "Call the CFO.",
            "owner": outsider.pk,
            "due_at_0": day,
            "due_at_1": time,
            "done_at_0": "",
            "done_at_1": "",
            "created_by": "",
            "created_at_0": day,
            "created_at_1": time,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["owner"]
    assert RecoveryAction.objects.get(pk=action.pk).owner == owner
