"""Reads behind the dashboard pages, each with a fixed number of queries.

Scope always comes from `finance_projects.selectors` (`portfolio_for` and friends); complaints
and survey data are joined in when those apps' models are installed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from finance_projects.models import (
    Alert,
    AlertSeverity,
    Commitment,
    CommitmentStatus,
    FinancingProject,
    Stage,
    StageDefinition,
)
from finance_projects.selectors import alerts_for, commitments_for, portfolio_for

from .health import AMBER_FROM, GREEN_FROM

SEVERITY_RANK = Case(
    When(severity=AlertSeverity.CRITICAL, then=Value(0)),
    When(severity=AlertSeverity.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)

# Column → ordering field. "days" sorts by the stage entry date: oldest entry = longest stay first.
SORTS = {
    "client": "client__name",
    "project": "name",
    "stage": "stage_rank",
    "days": "stage_entered_at",
    "update": "last_client_update_at",
    "commitment": "next_commitment_at",
    "complaints": "open_complaints",
    "nps": "latest_nps",
    "health": "health",
}


def model(label: str):
    """An upper app's model, or None while it is not installed."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "Asia/Shanghai")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def week_bounds(*, user: User, at: datetime | None = None) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of the current week in the user's time zone."""
    local = (at or timezone.now()).astimezone(user_zone(user))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday, monday + timedelta(days=7)


def stage_definitions() -> dict[str, StageDefinition]:
    return {definition.stage: definition for definition in StageDefinition.objects.all()}


@dataclass(frozen=True)
class PortfolioFilters:
    q: str = ""
    stage: str = ""
    band: str = ""
    rm: int | None = None
    sort: str = "health"
    descending: bool = False

    @classmethod
    def from_query(cls, params) -> "PortfolioFilters":
        sort = params.get("sort", "health")
        descending = sort.startswith("-")
        sort = sort.lstrip("-")
        rm = params.get("rm", "")
        return cls(
            q=params.get("q", "").strip()[:100],
            stage=params.get("stage", "") if params.get("stage", "") in Stage.values else "",
            band=params.get("band", "") if params.get("band", "") in ("green", "amber", "red") else "",
            # ASCII only: str.isdigit() accepts "²", which int() refuses; 18 digits fit any id column.
            rm=int(rm) if rm.isascii() and rm.isdigit() and len(rm) <= 18 else None,
            sort=sort if sort in SORTS else "health",
            descending=descending,
        )


def portfolio_rows(*, user: User, filters: PortfolioFilters, at: datetime | None = None) -> QuerySet:
    """The user's projects for the portfolio table: one query with every column annotated."""
    at = at or timezone.now()
    projects = portfolio_for(user).select_related("client", "relationship_manager")
    if filters.q:
        projects = projects.filter(
            Q(name__icontains=filters.q) | Q(code__icontains=filters.q) | Q(client__name__icontains=filters.q)
        )
    if filters.stage:
        projects = projects.filter(stage=filters.stage)
    if filters.rm:
        projects = projects.filter(relationship_manager_id=filters.rm)
    if filters.band == "green":
        projects = projects.filter(health__gte=GREEN_FROM)
    elif filters.band == "amber":
        projects = projects.filter(health__gte=AMBER_FROM, health__lt=GREEN_FROM)
    elif filters.band == "red":
        projects = projects.filter(health__lt=AMBER_FROM)
    projects = annotate_portfolio(projects, at=at)
    if filters.sort == "stage":
        projects = projects.annotate(
            stage_rank=Case(
                *[When(stage=value, then=Value(index)) for index, value in enumerate(Stage.values)],
                output_field=IntegerField(),
            )
        )
    column = F(SORTS[filters.sort])
    ordering = column.desc(nulls_last=True) if filters.descending else column.asc(nulls_last=True)
    return projects.order_by(ordering, "code")


def annotate_portfolio(projects: QuerySet[FinancingProject], *, at: datetime) -> QuerySet[FinancingProject]:
    next_commitment = Commitment.objects.filter(
        project_id=OuterRef("pk"), status=CommitmentStatus.OPEN
    ).order_by("due_at", "id")
    projects = projects.annotate(
        expected_days=Subquery(
            StageDefinition.objects.filter(stage=OuterRef("stage")).values("expected_days")[:1]
        ),
        next_commitment_at=Subquery(next_commitment.values("due_at")[:1]),
        next_commitment_title=Subquery(next_commitment.values("title")[:1]),
        missed_commitments=Coalesce(
            Subquery(
                Commitment.objects.filter(
                    project_id=OuterRef("pk"), status=CommitmentStatus.OPEN, due_at__lt=at
                )
                .order_by()
                .values("project_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            0,
        ),
    )
    complaint = model("complaints.Complaint")
    if complaint is not None:
        from complaints.models import OPEN_STATUSES

        projects = projects.annotate(
            open_complaints=Coalesce(
                Subquery(
                    complaint._default_manager.filter(project_id=OuterRef("pk"), status__in=OPEN_STATUSES)
                    .order_by()
                    .values("project_id")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            )
        )
    else:
        projects = projects.annotate(open_complaints=Value(0, output_field=IntegerField()))
    response = model("feedback.SurveyResponse")
    if response is not None:
        latest = response._default_manager.filter(
            invitation__project_id=OuterRef("pk"), submitted_at__isnull=False, nps__isnull=False
        ).order_by("-submitted_at", "-id")
        projects = projects.annotate(latest_nps=Subquery(latest.values("nps")[:1]))
    else:
        projects = projects.annotate(latest_nps=Value(None, output_field=IntegerField()))
    return projects


ALERT_ROW_FIELDS = [
    "pk",
    "kind",
    "severity",
    "message",
    "opened_at",
    "acknowledged_at",
    "project_id",
    "project__code",
    "project__name",
    "assignee_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
]


def alert_rows(alerts: QuerySet[Alert]) -> QuerySet:
    """What an alert row of the dashboard shows, as plain rows."""
    return alerts.values(*ALERT_ROW_FIELDS)


def open_alerts(*, user: User, mine_only: bool, at: datetime | None = None, limit: int = 20) -> list[dict]:
    """Open, unsnoozed alerts by severity then age: assigned to the user (or unassigned on their
    projects) when `mine_only`, otherwise every open alert the user may see."""
    at = at or timezone.now()
    alerts = alerts_for(user).filter(resolved_at__isnull=True).exclude(snoozed_until__gt=at)
    if mine_only:
        alerts = alerts.filter(
            Q(assignee=user) | Q(assignee__isnull=True, project__relationship_manager=user)
        )
    return list(alert_rows(alerts.annotate(rank=SEVERITY_RANK).order_by("rank", "opened_at", "id"))[:limit])


def snoozed_count(*, user: User, at: datetime | None = None) -> int:
    at = at or timezone.now()
    return alerts_for(user).filter(resolved_at__isnull=True, snoozed_until__gt=at, assignee=user).count()


def commitments_due_this_week(*, user: User, mine_only: bool, at: datetime | None = None) -> list[dict]:
    """Open commitments due this week in the user's zone, soonest first (at most 50), as rows with
    the project's code and the owner's name fields."""
    start, end = week_bounds(user=user, at=at)
    commitments = commitments_for(user).filter(
        status=CommitmentStatus.OPEN, due_at__gte=start, due_at__lt=end
    )
    if mine_only:
        commitments = commitments.filter(Q(owner=user) | Q(project__relationship_manager=user))
    return list(
        commitments.order_by("due_at", "id").values(
            "pk",
            "title",
            "due_at",
            "project_id",
            "project__code",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
        )[:50]
    )


def recent_responses(*, projects: QuerySet[FinancingProject], limit: int = 8) -> list:
    response = model("feedback.SurveyResponse")
    if response is None:
        return []
    return list(
        response._default_manager.filter(invitation__project__in=projects, submitted_at__isnull=False)
        .select_related("invitation__project", "invitation__contact")
        .order_by("-submitted_at", "-id")[:limit]
    )


def satisfaction_points(*, projects: QuerySet[FinancingProject] | list[int], limit: int = 50) -> list[dict]:
    """The latest `limit` survey answers on the projects (a queryset or their ids), oldest first:
    date, NPS and CSAT."""
    response = model("feedback.SurveyResponse")
    if response is None:
        return []
    rows = (
        response._default_manager.filter(invitation__project__in=projects, submitted_at__isnull=False)
        .order_by("-submitted_at", "-id")
        .values_list("submitted_at", "nps", "csat")[:limit]
    )
    return [
        {"at": timezone.localtime(at).date().isoformat(), "nps": nps, "csat": csat}
        for at, nps, csat in reversed(rows)
    ]


def assignable_users(*, user: User) -> list[User]:
    """People an alert can be handed to: the user's team (or the teams they lead)."""
    from accounts.selectors import team_ids_led_by

    team_ids = team_ids_led_by(user) if user.is_manager else ([user.team_id] if user.team_id else [])
    return list(User.objects.filter(is_active=True, team_id__in=team_ids).order_by("first_name", "username"))
