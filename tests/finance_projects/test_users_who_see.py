"""`users_who_see(project)` is `portfolio_for` read from the project's side: for every kind of
user and project, a person is listed exactly when the project is in their portfolio."""

import pytest

from accounts.models import Role
from finance_projects.selectors import portfolio_for, users_who_see
from tests.factories import ClientFactory, CommitmentFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(owner, teammate, outsider, manager, department_user, admin_user, team, other_team):
    lawyer = UserFactory(username="lawyer", role=Role.DEPARTMENT, department="legal", team=other_team)
    # Leads the team without being one of its members.
    head = UserFactory(username="head", role=Role.MANAGER, team=other_team)
    TeamFactory(name="Structured Finance", manager=head)
    team.manager = head
    team.save()
    return [
        owner,
        teammate,
        outsider,
        manager,
        department_user,
        admin_user,
        lawyer,
        head,
        UserFactory(username="other-manager", role=Role.MANAGER, team=other_team),
        UserFactory(username="teamless-manager", role=Role.MANAGER, team=None),
        UserFactory(username="super-rm", role=Role.RELATIONSHIP_MANAGER, team=other_team, is_superuser=True),
        UserFactory(username="gone-admin", role=Role.ADMIN, team=None, is_active=False),
    ]


def test_everyone_listed_for_a_project_has_it_in_their_portfolio_and_no_one_else(
    cast, owner, teammate, outsider, project, team
):
    lawyer = next(person for person in cast if person.username == "lawyer")
    CommitmentFactory(project=project, owner=lawyer)
    projects = [
        project,
        # Managed by the teammate for a client the owner manages: both see it.
        ProjectFactory(client=project.client, relationship_manager=teammate),
        ProjectFactory(client=ClientFactory(relationship_manager=outsider, team=outsider.team)),
        # Of a team the owner is not in.
        ProjectFactory(client=ClientFactory(relationship_manager=owner, team=outsider.team)),
    ]
    owner.is_active = False  # gone: sees nothing, listed nowhere
    owner.save()

    for p in projects:
        expected = {person.username for person in cast if portfolio_for(person).filter(pk=p.pk).exists()}
        assert {user.username for user in users_who_see(p)} == expected, p.code


def test_the_people_who_see_a_project_are_read_in_one_query(cast, project, django_assert_num_queries):
    with django_assert_num_queries(1):
        seeing = {user.username for user in users_who_see(project)}

    assert seeing == {"owner", "manager", "head", "admin", "super-rm"}
