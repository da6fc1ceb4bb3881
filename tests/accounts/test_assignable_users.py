"""Whom a user may name as relationship manager or commitment owner."""

from finance_projects.selectors import assignable_users_for
from tests.factories import UserFactory


def test_an_rm_may_name_their_team_and_the_bank_wide_departments(owner, teammate, outsider, department_user):
    risk = UserFactory(username="risk", role="department", department="risk", team=None)
    gone = UserFactory(username="gone", team=owner.team, is_active=False)

    names = set(assignable_users_for(owner).values_list("username", flat=True))

    assert {"owner", "teammate", "manager", "legal", "risk"} <= names
    assert "outsider" not in names
    assert gone.username not in names
    assert risk.username in names


def test_a_manager_may_name_everyone_in_the_teams_they_lead(manager, owner, outsider):
    names = set(assignable_users_for(manager).values_list("username", flat=True))

    assert "owner" in names
    assert "outsider" not in names


def test_an_admin_may_name_any_active_user(admin_user, owner, outsider):
    names = set(assignable_users_for(admin_user).values_list("username", flat=True))

    assert {"owner", "outsider", "admin"} <= names
