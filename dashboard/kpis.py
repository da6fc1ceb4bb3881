"""Team KPIs over a period, computed in SQL.

Every function takes a queryset of projects (already scoped by `portfolio_for`) and a half-open
period `[start, end)`. Each source table (touchpoints, commitments, alerts, complaints, survey
invitations and responses) is read with ONE aggregate query, whatever the number of projects,
weeks or relationship managers, so the query count is constant.

Definitions (percentages are 0-100 with one decimal; None when nothing was measured):

- on-time update rate: client updates (`Touchpoint.is_client_update`) that happened in the period
  within the project's update cadence of the previous client update (or of the project's
  creation for the first one), over all client updates in the period;
- overdue updates: `update_overdue` alerts opened in the period;
- promise-kept rate: commitments fulfilled by their due time, over commitments due in the period
  (up to `at`, the moment of measurement). Cancelled commitments and those renegotiated before
  they fell due do not count: the renegotiated successor carries the agreed date;
- missed commitments: commitments due in the period (up to `at`) that were not kept;
- complaint acknowledgement / resolution within deadline: complaints whose acknowledgement /
  resolution deadline falls in the period (up to `at`), acknowledged / resolved by it;
- average resolution time: mean hours from receipt to resolution of complaints resolved in the
  period;
- NPS: % promoters (9-10) minus % detractors (0-6) among responses submitted in the period;
- CSAT: % of satisfied answers (4 or 5 on the 1-5 scale) among responses submitted in the period;
- response rate: invitations answered over invitations sent, an invitation counting in the period
  of its e-mail, or of its answer when that came first (answered from its link before any e-mail
  went out; it is never e-mailed afterwards): the rule of `feedback.selectors.survey_metrics`, so
  the team page's card, its client-feedback table and `/api/v1/metrics/` agree.

The team page, its exports and the API count whole days in the user's time zone (`period_bounds`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from accounts.models import User
from feedback.selectors import invitations_asked
from finance_projects.models import (
    Alert,
    AlertKind,
    Commitment,
    CommitmentStatus,
    FinancingProject,
    Touchpoint,
)

KPI_KEYS = [
    "on_time_update_rate",
    "promise_kept_rate",
    "missed_commitments",
    "complaint_ack_rate",
    "complaint_resolution_rate",
    "avg_resolution_hours",
    "nps",
    "csat",
    "response_rate",
]


@dataclass(frozen=True)
class _Source:
    """One table read with one aggregate query: its rows in scope, the date that places a row in
    a period, the path from a row to its project's relationship manager, and raw aggregates."""

    rows: Callable[[QuerySet[FinancingProject], datetime], QuerySet]
    date_field: str
    rm_path: str
    aggregates: Callable[[], dict]
    capped_at_now: bool = False


def _model(label: str):
    """A model of an upper app, or None while that app has not defined it yet."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _has_fields(model, *names: str) -> bool:
    if model is None:
        return False
    fields = {f.name for f in model._meta.get_fields()}
    return all(name in fields for name in names)


def _updates(projects, at):
    previous = (
        Touchpoint.objects.filter(
            project_id=OuterRef("project_id"), is_client_update=True, occurred_at__lt=OuterRef("occurred_at")
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Touchpoint.objects.filter(project__in=projects, is_client_update=True).annotate(
        since=Coalesce(Subquery(previous), F("project__created_at")),
        allowed=ExpressionWrapper(
            # The cadence is a PositiveIntegerField, which SQLite will not multiply by a duration.
            ExpressionWrapper(F("project__update_cadence_days"), output_field=IntegerField())
            * timedelta(days=1),
            output_field=DurationField(),
        ),
    )


def _update_aggregates():
    return {
        "updates": Count("*"),
        "updates_on_time": Count("occurred_at", filter=Q(occurred_at__lte=F("since") + F("allowed"))),
    }


def _overdue_alerts(projects, at):
    return Alert.objects.filter(project__in=projects, kind=AlertKind.UPDATE_OVERDUE)


def _commitments(projects, at):
    renegotiated_early = Q(status=CommitmentStatus.RENEGOTIATED, closed_at__lte=F("due_at"))
    return Commitment.objects.filter(project__in=projects).exclude(
        Q(status=CommitmentStatus.CANCELLED) | renegotiated_early
    )


def _commitment_aggregates():
    return {
        "commitments_due": Count("*"),
        "commitments_kept": Count(
            "due_at", filter=Q(status=CommitmentStatus.FULFILLED, fulfilled_at__lte=F("due_at"))
        ),
    }


def _complaints(projects, at):
    return _model("complaints.Complaint")._default_manager.filter(project__in=projects)


def _sources() -> dict[str, _Source]:
    sources = {
        "updates": _Source(_updates, "occurred_at", "project__relationship_manager", _update_aggregates),
        "overdue": _Source(
            _overdue_alerts,
            "opened_at",
            "project__relationship_manager",
            lambda: {"overdue_updates": Count("*")},
        ),
        "commitments": _Source(
            _commitments,
            "due_at",
            "project__relationship_manager",
            _commitment_aggregates,
            capped_at_now=True,
        ),
    }
    complaint = _model("complaints.Complaint")
    if _has_fields(complaint, "project", "received_at", "ack_due_at", "acknowledged_at"):
        sources["complaint_ack"] = _Source(
            _complaints,
            "ack_due_at",
            "project__relationship_manager",
            lambda: {
                "complaints_ack_due": Count("*"),
                "complaints_ack_on_time": Count("pk", filter=Q(acknowledged_at__lte=F("ack_due_at"))),
            },
            capped_at_now=True,
        )
    if _has_fields(complaint, "project", "received_at", "resolve_due_at", "resolved_at"):
        sources["complaint_resolve"] = _Source(
            _complaints,
            "resolve_due_at",
            "project__relationship_manager",
            lambda: {
                "complaints_resolve_due": Count("*"),
                "complaints_resolved_on_time": Count("pk", filter=Q(resolved_at__lte=F("resolve_due_at"))),
            },
            capped_at_now=True,
        )
        sources["complaint_resolved"] = _Source(
            lambda projects, at: _complaints(projects, at).filter(resolved_at__isnull=False),
            "resolved_at",
            "project__relationship_manager",
            lambda: {
                "complaints_resolved": Count("*"),
                "resolution_total": Sum(
                    ExpressionWrapper(F("resolved_at") - F("received_at"), output_field=DurationField())
                ),
            },
        )
    response = _model("feedback.SurveyResponse")
    if _has_fields(response, "invitation", "submitted_at", "nps", "csat"):
        sources["responses"] = _Source(
            lambda projects, at: response._default_manager.filter(invitation__project__in=projects),
            "submitted_at",
            "invitation__project__relationship_manager",
            lambda: {
                "survey_responses": Count("pk"),
                "nps_answers": Count("pk", filter=Q(nps__isnull=False)),
                "promoters": Count("pk", filter=Q(nps__gte=9)),
                "detractors": Count("pk", filter=Q(nps__lte=6)),
                "csat_answers": Count("pk", filter=Q(csat__isnull=False)),
                "csat_satisfied": Count("pk", filter=Q(csat__gte=4)),
            },
        )
    invitation = _model("feedback.SurveyInvitation")
    if _has_fields(invitation, "project", "sent_at", "responded_at"):
        sources["invitations"] = _Source(
            lambda projects, at: invitations_asked(projects),
            "invited_at",
            "project__relationship_manager",
            lambda: {
                "invitations_sent": Count("*"),
                "invitations_answered": Count("pk", filter=Q(responded_at__isnull=False)),
            },
        )
    return sources


def _window(source: _Source, rows: QuerySet, start: datetime, end: datetime, at: datetime) -> QuerySet:
    end = min(end, at) if source.capped_at_now else end
    return rows.filter(**{f"{source.date_field}__gte": start, f"{source.date_field}__lt": end})


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def finalize(raw: dict) -> dict:
    """Turn raw counts (as collected by the aggregate queries) into the KPI values.

    Pure arithmetic; missing counts are zero, missing denominators give None."""
    get = lambda key: raw.get(key) or 0  # noqa: E731
    resolution = raw.get("resolution_time")
    if resolution is None and raw.get("resolution_total") is not None and get("complaints_resolved"):
        resolution = raw["resolution_total"] / get("complaints_resolved")
    nps_answers = get("nps_answers")
    return {
        "on_time_update_rate": _pct(get("updates_on_time"), get("updates")),
        "updates": get("updates"),
        "overdue_updates": get("overdue_updates"),
        "promise_kept_rate": _pct(get("commitments_kept"), get("commitments_due")),
        "commitments_due": get("commitments_due"),
        "commitments_kept": get("commitments_kept"),
        "missed_commitments": get("commitments_due") - get("commitments_kept"),
        "complaint_ack_rate": _pct(get("complaints_ack_on_time"), get("complaints_ack_due")),
        "complaint_resolution_rate": _pct(get("complaints_resolved_on_time"), get("complaints_resolve_due")),
        "complaints_resolved": get("complaints_resolved"),
        "avg_resolution_hours": round(resolution.total_seconds() / 3600, 1) if resolution else None,
        "nps": round(100.0 * (get("promoters") - get("detractors")) / nps_answers, 1)
        if nps_answers
        else None,
        "nps_answers": nps_answers,
        "survey_responses": get("survey_responses"),
        "csat": _pct(get("csat_satisfied"), get("csat_answers")),
        "response_rate": _pct(get("invitations_answered"), get("invitations_sent")),
        "invitations_sent": get("invitations_sent"),
    }


def team_kpis(
    *, projects: QuerySet[FinancingProject], start: datetime, end: datetime, at: datetime | None = None
) -> dict:
    """Every KPI over `[start, end)` for the given projects; one query per source table."""
    at = at or timezone.now()
    raw: dict = {}
    for source in _sources().values():
        rows = _window(source, source.rows(projects, at), start, end, at)
        raw.update(rows.aggregate(**source.aggregates()))
    return finalize(raw)


def kpis_by_rm(
    *, projects: QuerySet[FinancingProject], start: datetime, end: datetime, at: datetime | None = None
) -> dict[int, dict]:
    """The same KPIs per relationship manager (user id → KPIs); one query per source table."""
    at = at or timezone.now()
    raw: dict[int, dict] = {}
    for source in _sources().values():
        rows = _window(source, source.rows(projects, at), start, end, at)
        grouped = rows.values(source.rm_path).order_by(source.rm_path).annotate(**source.aggregates())
        for row in grouped:
            raw.setdefault(row.pop(source.rm_path), {}).update(row)
    return {rm_id: finalize(values) for rm_id, values in raw.items()}


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 (in the current time zone) of the week holding `moment`."""
    local = timezone.localtime(moment)
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def weekly_trend(
    *, projects: QuerySet[FinancingProject], weeks: int, end: datetime, at: datetime | None = None
) -> list[dict]:
    """KPIs for each of the `weeks` calendar weeks (Monday to Monday, in the current time zone)
    up to the week holding `end`, oldest first: `[{"week": date, **kpis}, ...]`.

    One grouped query per source table, whatever the number of weeks."""
    at = at or timezone.now()
    last = week_start(end)
    starts = [last - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    first, stop = starts[0], last + timedelta(weeks=1)
    raw: dict = {start.date(): {} for start in starts}
    tz = timezone.get_current_timezone()
    for source in _sources().values():
        rows = _window(source, source.rows(projects, at), first, stop, at)
        grouped = (
            rows.annotate(week=TruncWeek(source.date_field, tzinfo=tz))
            .values("week")
            .order_by("week")
            .annotate(**source.aggregates())
        )
        for row in grouped:
            week = row.pop("week")
            key = timezone.localtime(week, tz).date() if timezone.is_aware(week) else week.date()
            if key in raw:
                raw[key].update(row)
    return [{"week": week, **finalize(values)} for week, values in raw.items()]


@dataclass(frozen=True)
class TeamReport:
    """What the team view shows: the period, the one before it, the period per relationship
    manager and the weekly trend."""

    current: dict
    previous: dict
    by_rm: dict[int, dict]
    trend: list[dict]


def team_report(
    *,
    projects: QuerySet[FinancingProject],
    previous_start: datetime,
    start: datetime,
    end: datetime,
    weeks: int,
    at: datetime | None = None,
) -> TeamReport:
    """`team_kpis` for `[start, end)` and `[previous_start, start)`, `kpis_by_rm` for `[start, end)`
    and `weekly_trend` up to the period's last week already begun (the week holding the period's
    last moment, or `at` when the period runs on past it, as today's does), in ONE grouped query
    per source table.

    Each row is placed by relationship manager, calendar week and period (current, previous or
    neither), and the counts, all additive, are summed in Python."""
    at = at or timezone.now()
    tz = timezone.get_current_timezone()
    last = week_start(min(end - timedelta(microseconds=1), at))
    week_starts = [(last - timedelta(weeks=i)).date() for i in range(weeks - 1, -1, -1)]
    first, stop = min(previous_start, last - timedelta(weeks=weeks - 1)), max(end, last + timedelta(weeks=1))
    current: dict = {}
    previous: dict = {}
    by_rm: dict[int, dict] = {}
    by_week: dict = {week: {} for week in week_starts}
    for source in _sources().values():
        cap = (lambda moment: min(moment, at)) if source.capped_at_now else (lambda moment: moment)
        date = source.date_field
        rows = source.rows(projects, at).filter(**{f"{date}__gte": first, f"{date}__lt": cap(stop)})
        period = Case(
            When(**{f"{date}__gte": start, f"{date}__lt": cap(end)}, then=Value(1)),
            When(**{f"{date}__gte": previous_start, f"{date}__lt": cap(start)}, then=Value(0)),
            default=Value(-1),
            output_field=IntegerField(),
        )
        grouped = (
            rows.annotate(week=TruncWeek(date, tzinfo=tz), period=period)
            .values(source.rm_path, "week", "period")
            .order_by()
            .annotate(**source.aggregates())
        )
        for row in grouped:
            rm_id, week, in_period = row.pop(source.rm_path), row.pop("week"), row.pop("period")
            week = timezone.localtime(week, tz).date() if timezone.is_aware(week) else week.date()
            targets = [by_week.get(week)]
            if in_period == 1:
                targets += [current, by_rm.setdefault(rm_id, {})]
            elif in_period == 0:
                targets.append(previous)
            for target in targets:
                if target is not None:
                    _add(target, row)
    return TeamReport(
        current=finalize(current),
        previous=finalize(previous),
        by_rm={rm_id: finalize(values) for rm_id, values in by_rm.items()},
        trend=[{"week": week, **finalize(values)} for week, values in by_week.items()],
    )


def _add(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        if value is not None:
            total[key] = value if total.get(key) is None else total[key] + value


def relationship_managers(projects: QuerySet[FinancingProject]) -> dict[int, User]:
    """The relationship managers of `projects` (user id → user, with `project_count`, their number
    of those projects), in one query: the figures by RM name them, whoever reads them, a manager
    of several teams or an administrator with none. Every RM in `kpis_by_rm` is one of them."""
    rows = (
        projects.order_by()
        .values(
            "relationship_manager",
            "relationship_manager__first_name",
            "relationship_manager__last_name",
            "relationship_manager__username",
        )
        .annotate(n=Count("pk"))
    )
    people = {}
    for row in rows:
        if row["relationship_manager"] is None:
            continue
        user = User(
            pk=row["relationship_manager"],
            first_name=row["relationship_manager__first_name"],
            last_name=row["relationship_manager__last_name"],
            username=row["relationship_manager__username"],
        )
        user.project_count = row["n"]
        people[user.pk] = user
    return people


def midnight(day: date, tz) -> datetime:
    """The first moment of `day` in `tz`."""
    return timezone.make_aware(datetime.combine(day, time.min), tz)


def period_bounds(*, days: int, end: datetime | None = None, tz=None) -> tuple[datetime, datetime, datetime]:
    """The last `days` whole days in `tz` (default: the current time zone) up to and including the
    day holding `end` (default: now), and the `days` days before them:
    `(previous_start, start, end)`, each a midnight in `tz`; the periods are half-open.

    The days `/api/v1/metrics/?start=<first day>&end=<last day>` reads (`feedback.api._bound`: a
    start date from its first moment, an end date through its last), so both give the same
    figures; `period_days` names those days."""
    tz = tz or timezone.get_current_timezone()
    today = timezone.localtime(end or timezone.now(), tz).date()
    start = today - timedelta(days=days - 1)
    return (
        midnight(start - timedelta(days=days), tz),
        midnight(start, tz),
        midnight(today + timedelta(days=1), tz),
    )


def period_days(start: datetime, end: datetime, *, tz=None):
    """The first and the last day of the period `[start, end)` from `period_bounds`, in `tz`."""
    tz = tz or timezone.get_current_timezone()
    return timezone.localtime(start, tz).date(), timezone.localtime(end, tz).date() - timedelta(days=1)
