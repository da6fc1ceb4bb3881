"""A team's manager is someone who can open the team page: escalations are e-mailed to them with
a link to it, which answered 403 to a manager of another role."""

import re

import pytest
from django.urls import reverse

from accounts.models import Team
from tests.accounts.admin_forms import change_form_data

pytestmark = pytest.mark.django_db


def add_team(staff, **fields):
    """The add form sent as the admin page would, with its members' (empty) inline."""
    page = staff.get(reverse("admin:accounts_team_add")).content.decode()
    prefix = re.search(r'name="([\w-]+)-TOTAL_FORMS"', page).group(1)
    inline = {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return staff.post(reverse("admin:accounts_team_add"), {**inline, **fields})


def test_the_admin_refuses_a_team_manager_who_cannot_open_the_team_page(staff, owner):
    answer = add_team(staff, name="Infra", manager=owner.pk)

    assert answer.status_code == 200
    assert "manager" in answer.context["adminform"].form.errors
    assert not Team.objects.filter(name="Infra").exists()


def test_the_admin_names_a_manager_as_a_teams_manager(staff, manager):
    answer = add_team(staff, name="Infra", manager=manager.pk)

    assert answer.status_code == 302
    assert Team.objects.get(name="Infra").manager == manager


def test_a_teams_manager_cannot_be_given_a_role_that_does_not_open_the_team_page(staff, manager):
    team = manager.managed_teams.first() or Team.objects.create(name="Infra", manager=manager)

    answer = staff.post(
        reverse("admin:accounts_user_change", args=[manager.pk]),
        change_form_data(manager, role="relationship_manager"),
    )

    assert answer.status_code == 200
    assert f"This user manages the team {team.name}" in str(answer.context["adminform"].form.errors)
    manager.refresh_from_db()
    assert manager.role == "manager"
