"""Who belongs to which team. Object visibility is decided in `finance_projects.selectors`."""

from .models import Team, User


def team_ids_led_by(user: User) -> list[int]:
    """Teams a manager answers for: the ones they manage, and their own."""
    ids = set(Team.objects.filter(manager=user).values_list("id", flat=True))
    if user.team_id:
        ids.add(user.team_id)
    return sorted(ids)


def team_manager_of(user: User) -> User | None:
    if user.team_id is None:
        return None
    return User.objects.filter(managed_teams=user.team_id).first()
