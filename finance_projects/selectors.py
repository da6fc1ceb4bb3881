"""Shared reads. This module is the one place that decides which projects a user may see:
`portfolio_for(user)` lists them; `get_project_for`, `client_projects_for` and the relationship
managers' `clients_for` test the same rule project by project (`_visible_project`, built from
the same `_managed_by`; tests/dashboard compares the two forms for six kinds of user). Every
other scoped query (clients, contacts, touchpoints, commitments, alerts, and the upper apps'
complaints and surveys) is derived from these, so an outsider's object answers 404 everywhere
alike."""

from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import team_ids_led_by

from .models import (
    SEVERITY_RANK,
    Alert,
    Client,
    Commitment,
    CommitmentStatus,
    Contact,
    FinancingProject,
    ScanRun,
    Touchpoint,
)


def portfolio_for(user: User) -> QuerySet[FinancingProject]:
    """Projects the user may see.

    - admins: everything;
    - managers: every project of the teams they lead;
    - relationship managers: projects they manage, and every project of clients they manage;
    - department staff: projects where a commitment is assigned to them.
    """
    projects = FinancingProject.objects.all()
    if _is_relationship_manager(user):
        # A UNION of two indexed lookups: an OR across the client join would scan every project.
        managed, via_client = (
            FinancingProject.objects.filter(condition).order_by().values("pk")
            for condition in _managed_by(user)
        )
        return projects.filter(pk__in=managed.union(via_client))
    condition = _visible_project(user)
    return projects.none() if condition is None else projects.filter(condition)


def users_who_see(project: FinancingProject) -> QuerySet[User]:
    """The users `portfolio_for` shows the project to, in one query: the same rule read from the
    project's side (tests compare the two for every kind of user). For the people a page offers
    to hand the project's work to."""
    admins = Q(is_superuser=True) | Q(role=Role.ADMIN)
    # Managers of the project's team: its members, and whoever the team names as its manager.
    managers = Q(role=Role.MANAGER) & (Q(team_id=project.team_id) | Q(managed_teams__id=project.team_id))
    department = Q(role=Role.DEPARTMENT) & Q(
        Exists(Commitment.objects.filter(project_id=project.pk, owner_id=OuterRef("pk")))
    )
    relationship = ~Q(role__in=[Role.MANAGER, Role.DEPARTMENT, Role.ADMIN]) & (
        Q(pk=project.relationship_manager_id)
        | Q(pk__in=Client.objects.filter(pk=project.client_id).values("relationship_manager_id"))
    )
    seeing = User.objects.filter(admins | managers | department | relationship).values("pk")
    return User.objects.filter(is_active=True, pk__in=seeing)


def _is_relationship_manager(user: User) -> bool:
    """Whom the last case of `portfolio_for` applies to: every active user of no other role."""
    return (
        user.is_authenticated
        and user.is_active
        and not (user.is_admin_role or user.is_manager or user.is_department_staff)
    )


def _managed_by(user: User) -> tuple[Q, Q]:
    """A relationship manager's projects: the ones they manage, those of the clients they manage."""
    return Q(relationship_manager=user), Q(client__relationship_manager=user)


def _visible_project(user: User) -> Q | Exists | None:
    """The rule of `portfolio_for` as a condition on one project row (None: no project at all).
    Cheap where the row is already chosen (one project by its id); `portfolio_for` shapes the
    relationship manager's case for the whole table."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_admin_role:
        return Q()
    if user.is_manager:
        return Q(team_id__in=team_ids_led_by(user))
    if user.is_department_staff:
        return Exists(Commitment.objects.filter(project_id=OuterRef("pk"), owner=user))
    managed, via_client = _managed_by(user)
    return managed | via_client


def client_projects_for(user: User, client_id) -> QuerySet[FinancingProject]:
    """The client's projects in `portfolio_for(user)`, by the same rule tested on that client's
    rows alone: quicker to plan than the whole portfolio, for a page about one client."""
    visible = _visible_project(user)
    projects = FinancingProject.objects.filter(client_id=client_id)
    return projects.none() if visible is None else projects.filter(visible)


def clients_for(user: User) -> QuerySet[Client]:
    clients = Client.objects.all()
    if not user.is_authenticated or not user.is_active:
        return clients.none()
    if user.is_admin_role:
        return clients
    if user.is_manager:
        return clients.filter(team_id__in=team_ids_led_by(user))
    if user.is_department_staff:
        return clients.filter(Exists(portfolio_for(user).filter(client_id=OuterRef("pk"))))
    # "Manages the client, or sees one of its projects": every project of a client they manage
    # is in their portfolio, so the other projects that count are the ones they manage.
    managed = FinancingProject.objects.filter(relationship_manager=user).values("client_id")
    return clients.filter(Q(relationship_manager=user) | Q(pk__in=managed))


def contacts_for(user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(client__in=clients_for(user))


def touchpoints_for(user: User) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(project__in=portfolio_for(user))


def commitments_for(user: User) -> QuerySet[Commitment]:
    return Commitment.objects.filter(project__in=portfolio_for(user))


def with_missed(commitments: QuerySet[Commitment], *, at: datetime | None = None) -> QuerySet[Commitment]:
    """Annotate `missed`: open and past due at `at` (now by default), so it can be filtered."""
    at = at or timezone.now()
    return commitments.annotate(
        missed=ExpressionWrapper(Q(status=CommitmentStatus.OPEN, due_at__lt=at), output_field=BooleanField())
    )


def alerts_for(user: User) -> QuerySet[Alert]:
    """Alerts on the user's projects; department staff see only the alerts handed to them and
    those about commitments they own (not the project's complaints or overdue updates)."""
    alerts = Alert.objects.filter(project__in=portfolio_for(user))
    if user.is_authenticated and user.is_department_staff:
        owned = Commitment.objects.filter(owner=user).values("pk")
        return alerts.filter(Q(assignee=user) | Q(subject_type="commitment", subject_id__in=owned))
    return alerts


def with_last_seen(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """`seen_at`, when each alert was last seen to hold: for an open alert, the last run of the
    scan of its kind if later than its own `last_seen_at` (the run would have resolved it
    otherwise); for a resolved one, or a kind no scan keeps, its `last_seen_at`."""
    last_run = Subquery(ScanRun.objects.filter(name=OuterRef("kind")).values("ran_at")[:1])
    return alerts.annotate(
        seen_at=Case(
            When(resolved_at__isnull=True, then=Greatest("last_seen_at", Coalesce(last_run, "last_seen_at"))),
            default=F("last_seen_at"),
        )
    )


def with_severity_rank(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """`severity_rank` to sort by (info 0 < warning 1 < critical 2), not by the word; an alias, so
    it costs nothing unless ordered by."""
    ranks = [When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()]
    return alerts.alias(severity_rank=Case(*ranks))


def assignable_users_for(user: User) -> QuerySet[User]:
    """Colleagues the user may name as a relationship manager or a commitment owner: active
    members of the teams the user works in or leads, and the bank-wide department staff."""
    users = User.objects.filter(is_active=True)
    if not user.is_authenticated or not user.is_active:
        return users.none()
    if user.is_admin_role:
        return users
    team_ids = team_ids_led_by(user) if user.is_manager else [user.team_id] if user.team_id else []
    return users.filter(Q(team_id__in=team_ids) | Q(role=Role.DEPARTMENT))


def can_change_commitment(user: User, commitment: Commitment) -> bool:
    """Who may fulfil a commitment or agree its new date: its owner (department staff included),
    or whoever may edit its project."""
    return commitment.owner_id == user.pk or can_edit_project(user, commitment.project)


def can_edit_project(user: User, project: FinancingProject) -> bool:
    """Department staff see what is assigned to them but do not change the project itself."""
    if user.is_admin_role or user.is_manager:
        return portfolio_for(user).filter(pk=project.pk).exists()
    if user.is_relationship_manager:
        return project.relationship_manager_id == user.pk or project.client.relationship_manager_id == user.pk
    return False


def get_project_for(user: User, pk) -> FinancingProject:
    """The project, or 404 when it does not exist or the user may not see it."""
    visible = _visible_project(user)
    project = (
        None
        if visible is None
        else FinancingProject.objects.select_related("client", "relationship_manager")
        .filter(visible, pk=pk)
        .first()
    )
    if project is None:
        raise Http404
    return project


# What goes with a deleted contact: their links to the client status page (access, not history).
_CONTACT_ACCESS_RELATIONS = {"status_links"}


def contact_has_history(contact: Contact) -> bool:
    """Whether anything in any app refers to the contact (touchpoints, surveys, complaints...)
    besides their status-page links: such a contact is part of the record and is not deleted."""
    for relation in contact._meta.related_objects:
        if relation.get_accessor_name() in _CONTACT_ACCESS_RELATIONS:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: contact}).exists():
            return True
    return False
