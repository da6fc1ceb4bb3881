"""Reads behind the dashboard pages, each with a fixed number of queries.

Scope always comes from `finance_projects.selectors` (`portfolio_for` and friends); complaints
and survey data are joined in when those apps' models are installed.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from feedback.selectors import needing_follow_up, responses_for, tagged, with_needs_follow_up
from finance_projects.models import (
    Alert,
    AlertSeverity,
    CommitmentStatus,
    FinancingProject,
    ProjectStatus,
    Stage,
)
from finance_projects.selectors import alerts_for, clients_for, portfolio_for

from .health import AMBER_FROM, GREEN_FROM
from .sql import Scope, as_datetime, fetch, ids_sql, stream


def model(label: str):
    """An upper app's model, or None while it is not installed."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def week_bounds(*, user: User, at: datetime | None = None) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of the current week in the user's time zone."""
    local = (at or timezone.now()).astimezone(user.zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday, monday + timedelta(days=7)


def commitment_owners(project: FinancingProject) -> QuerySet[User]:
    """Who can own a commitment on the project: its team's active people, by name."""
    return User.objects.filter(is_active=True, team_id=project.team_id).order_by("first_name", "username")


def parse_id(text: str) -> int | None:
    """A row id typed into a query or a form, or None. ASCII only: str.isdigit() accepts "²",
    which int() refuses; 18 digits fit any id column."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


# --- The early-warning rules as the pages mark them --------------------------------------------
# The same tests `finance_projects.scans` runs in SQL (`update_overdue`, `stage_overrun`), on the
# values a page has read anyway: a page marks a project late exactly when the scan alerts on it.


def past_expected_days(entered_at: datetime, expected_days: int | None, *, at: datetime) -> bool:
    """Whether a stay that began at `entered_at` had lasted longer than `expected_days` days (of
    24 hours) at `at`: strictly, a stay exactly at its deadline is not over it. None: no deadline."""
    return expected_days is not None and entered_at + timedelta(days=expected_days) < at


def update_overdue(*, status: str, next_update_due_at: datetime | None, at: datetime) -> bool:
    """An active project whose next client update was due before `at` (strictly): the scan
    `update_overdue`'s rule. A project on hold, closed or lost owes no updates."""
    return status == ProjectStatus.ACTIVE and next_update_due_at is not None and next_update_due_at < at


def stage_overrun(*, status: str, entered_at: datetime, expected_days: int | None, at: datetime) -> bool:
    """An active project whose current stay, entered at `entered_at` (the open stage transition's
    `entered_at`, which the project's `stage_entered_at` repeats), is past its stage's expected
    days at `at`: the scan `stage_overrun`'s rule."""
    return status == ProjectStatus.ACTIVE and past_expected_days(entered_at, expected_days, at=at)


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
            rm=parse_id(rm),
            sort=sort if sort in SORT_SQL else "health",
            descending=descending,
        )

    @property
    def narrows(self) -> bool:
        return bool(self.q or self.stage or self.band or self.rm)

    def apply(self, projects: QuerySet[FinancingProject]) -> QuerySet[FinancingProject]:
        """The projects that pass the search and filters (the sort is the caller's)."""
        if self.q:
            projects = projects.filter(
                Q(name__icontains=self.q) | Q(code__icontains=self.q) | Q(client__name__icontains=self.q)
            )
        if self.stage:
            projects = projects.filter(stage=self.stage)
        if self.rm:
            projects = projects.filter(relationship_manager_id=self.rm)
        if self.band == "green":
            projects = projects.filter(health__gte=GREEN_FROM)
        elif self.band == "amber":
            projects = projects.filter(health__gte=AMBER_FROM, health__lt=GREEN_FROM)
        elif self.band == "red":
            projects = projects.filter(health__lt=AMBER_FROM)
        return projects


ALERT_ROW_FIELDS = [
    "pk",
    "kind",
    "severity",
    "message",
    "opened_at",
    "acknowledged_at",
    "snoozed_until",
    "project_id",
    "project__code",
    "project__name",
    "assignee_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "escalated_at",
]


def alert_rows(alerts: QuerySet[Alert]) -> QuerySet:
    """What an alert row of the dashboard shows, as plain rows."""
    return alerts.values(*ALERT_ROW_FIELDS)


def satisfaction_points(*, projects: QuerySet[FinancingProject] | list[int], limit: int = 50) -> list[dict]:
    """The latest `limit` survey answers on the projects (a queryset or their ids), oldest first:
    date, NPS and CSAT."""
    if model("feedback.SurveyResponse") is None:
        return []
    ids, params = ids_sql(projects)
    rows = fetch(
        "SELECT r.submitted_at, r.nps, r.csat FROM feedback_surveyresponse r"
        " JOIN feedback_surveyinvitation i ON i.id = r.invitation_id"
        f" WHERE i.project_id IN ({ids}) AND r.submitted_at IS NOT NULL"
        " ORDER BY r.submitted_at DESC, r.id DESC LIMIT %s",
        [*params, limit],
    )
    return [
        {"at": timezone.localtime(as_datetime(at)).date().isoformat(), "nps": nps, "csat": csat}
        for at, nps, csat in reversed(rows)
    ]


def assignable_users(*, user: User) -> list[User]:
    """People an alert can be handed to: the user's team (or the teams they lead)."""
    from accounts.selectors import team_ids_led_by

    team_ids = team_ids_led_by(user) if user.is_manager else ([user.team_id] if user.team_id else [])
    return list(User.objects.filter(is_active=True, team_id__in=team_ids).order_by("first_name", "username"))


def assignees_by_project(*, people: list[User], project_ids: Iterable[int]) -> dict[int, list[User]]:
    """For each project, those of `people` (in their order) an alert on it can be handed to: the
    ones who can see it, the test `finance_projects.alerts.alert_assign` applies."""
    project_ids = sorted(set(project_ids))
    seen = _who_sees(people, project_ids)
    return {pk: [person for person in people if (person.pk, pk) in seen] for pk in project_ids}


def _who_sees(people: list[User], project_ids: list[int]) -> set[tuple[int, int]]:
    """(person id, project id) for every one of `project_ids` in `portfolio_for(person)`.

    One statement, a branch per person: each branch compiles that person's own `portfolio_for`,
    so the rule stays in `finance_projects.selectors` (compiling a manager's reads their teams)."""
    if not people or not project_ids:
        return set()
    ids, ids_params = ids_sql(project_ids)
    branches, params = [], []
    for index, person in enumerate(people):
        visible, visible_params = ids_sql(portfolio_for(person))
        # The index names the branch's rows: part of the statement's shape, not a value.
        branches.append(
            f"SELECT {index}, p.id FROM finance_projects_financingproject p"
            f" WHERE p.id IN ({ids}) AND p.id IN ({visible})"
        )
        params += [*ids_params, *visible_params]
    rows = fetch(" UNION ALL ".join(branches), params)
    return {(people[index].pk, project_id) for index, project_id in rows}


# --- Raw reads (see `sql`): every value a parameter; ORDER BY only from the whitelist below.


def _nulls_last(expression: str, *, descending: bool) -> str:
    return f"{expression} {'DESC' if descending else 'ASC'} NULLS LAST"


# Sort key → its SQL (a column, or the name of a computed column of the portfolio row). "days"
# sorts by the stage entry date: oldest entry = longest stay first.
SORT_SQL = {
    "client": "c.name",
    "project": "p.name",
    "stage": "stage_rank",
    "days": "p.stage_entered_at",
    "update": "p.last_client_update_at",
    "commitment": "next_commitment_at",
    "complaints": "open_complaints",
    "nps": "latest_nps",
    "health": "p.health",
}
PORTFOLIO_KEYS = [
    "pk",
    "name",
    "code",
    "stage",
    "status",
    "amount",
    "currency",
    "stage_entered_at",
    "last_client_update_at",
    "next_update_due_at",
    "health",
    "health_factors",
    "client_id",
    "client__name",
    "relationship_manager__first_name",
    "relationship_manager__last_name",
    "relationship_manager__username",
    "expected_days",
    "next_commitment_at",
    "next_commitment_title",
    "missed_commitments",
    "open_complaints",
    "latest_nps",
    "stage_rank",
]


PORTFOLIO_FROM = (
    " FROM finance_projects_financingproject p"
    " JOIN finance_projects_client c ON c.id = p.client_id"
    " JOIN accounts_user u ON u.id = p.relationship_manager_id"
)


def _portfolio_select(
    at: datetime, viewer: User, *, extra: str = "", source: str = PORTFOLIO_FROM
) -> tuple[str, list]:
    """The SELECT list and FROM of a portfolio row (`PORTFOLIO_KEYS`, then the `extra` columns)
    and its parameters, as `viewer` sees it; `source` joins the project `p`, its client `c` and
    its manager `u`."""
    params: list = []
    next_open = (
        "SELECT {column} FROM finance_projects_commitment WHERE project_id = p.id AND status = %s "
        "ORDER BY due_at, id LIMIT 1"
    )
    columns = [
        "(SELECT expected_days FROM finance_projects_stagedefinition WHERE stage = p.stage LIMIT 1)",
        f"({next_open.format(column='due_at')}) AS next_commitment_at",
        f"({next_open.format(column='title')})",
        "(SELECT count(*) FROM finance_projects_commitment"
        " WHERE project_id = p.id AND status = %s AND due_at < %s)",
    ]
    params += [CommitmentStatus.OPEN.value] * 3 + [at]
    if model("complaints.Complaint") is not None:
        from complaints.models import OPEN_STATUSES
        from complaints.selectors import complaints_for

        marks = ", ".join(["%s"] * len(OPEN_STATUSES))
        visible, visible_params = "", []
        if viewer.is_department_staff:  # who sees a project sees its complaints, but them
            compiled, visible_params = ids_sql(complaints_for(viewer))
            visible = f" AND id IN ({compiled})"
        columns.append(
            "(SELECT count(*) FROM complaints_complaint WHERE project_id = p.id "
            f"AND status IN ({marks}){visible}) AS open_complaints"
        )
        params += [str(status) for status in OPEN_STATUSES] + list(visible_params)
    else:
        columns.append("0 AS open_complaints")
    if model("feedback.SurveyResponse") is not None:
        columns.append(
            "(SELECT r.nps FROM feedback_surveyresponse r "
            "JOIN feedback_surveyinvitation i ON i.id = r.invitation_id "
            "WHERE i.project_id = p.id AND r.submitted_at IS NOT NULL AND r.nps IS NOT NULL "
            "ORDER BY r.submitted_at DESC, r.id DESC LIMIT 1) AS latest_nps"
        )
    else:
        columns.append("NULL AS latest_nps")
    ranks = " ".join("WHEN %s THEN %s" for _ in Stage.values)
    columns.append(f"CASE p.stage {ranks} END AS stage_rank")
    for index, value in enumerate(Stage.values):
        params += [value, index]
    sql = (
        "SELECT p.id, p.name, p.code, p.stage, p.status, p.amount, p.currency, p.stage_entered_at, "
        "p.last_client_update_at, p.next_update_due_at, p.health, p.health_factors, p.client_id, "
        "c.name, u.first_name, u.last_name, u.username, "
        + ", ".join(columns)
        + (f", {extra}" if extra else "")
        + source
    )
    return sql, params


AMOUNT_PLACES = Decimal(1).scaleb(-FinancingProject._meta.get_field("amount").decimal_places)


def _portfolio_row(values: tuple) -> dict:
    row = dict(zip(PORTFOLIO_KEYS, values, strict=True))
    for key in ("stage_entered_at", "last_client_update_at", "next_update_due_at", "next_commitment_at"):
        row[key] = as_datetime(row[key])
    if isinstance(row["health_factors"], str):
        row["health_factors"] = json.loads(row["health_factors"])
    row["health_factors"] = row["health_factors"] or []
    row["amount"] = Decimal(str(row["amount"])).quantize(AMOUNT_PLACES)  # SQLite drops trailing zeros
    return row


class PortfolioTable:
    """The rows of the portfolio table for a Paginator: `count()` and `[start:stop]` each run one
    query; a row is a dict of `PORTFOLIO_KEYS`. `stream()` yields them all, for the exports."""

    def __init__(self, scope: Scope, *, filters: PortfolioFilters, at: datetime | None = None):
        self.at = at or timezone.now()
        self.ids = (
            Scope.of(scope.user, filters.apply(portfolio_for(scope.user))) if filters.narrows else scope
        )
        column = SORT_SQL[filters.sort]
        self.order = f"{_nulls_last(column, descending=filters.descending)}, p.code ASC"

    def count(self) -> int:
        sql = f"SELECT count(*) FROM finance_projects_financingproject WHERE id IN ({self.ids.sql})"
        return fetch(sql, list(self.ids.params))[0][0]

    def _sql(self) -> tuple[str, list]:
        select, params = _portfolio_select(self.at, self.ids.user)
        return f"{select} WHERE p.id IN ({self.ids.sql}) ORDER BY {self.order}", [*params, *self.ids.params]

    def __getitem__(self, window: slice) -> list[dict]:
        sql, params = self._sql()
        rows = fetch(f"{sql} LIMIT %s OFFSET %s", [*params, window.stop - window.start, window.start])
        return [_portfolio_row(values) for values in rows]

    def stream(self, *, chunk_size: int = 500) -> Iterator[dict]:
        """Every row in order, read `chunk_size` at a time."""
        sql, params = self._sql()
        return (_portfolio_row(values) for values in stream(sql, params, chunk_size=chunk_size))


def _alert_scope(scope: Scope) -> tuple[str, list]:
    """The condition on `a` (an alert) of `alerts_for(scope.user)`: on the user's projects; for
    department staff, only the alerts of `alerts_for`'s own rule (compiled: the rule stays there)."""
    condition, params = f"a.project_id IN ({scope.sql})", list(scope.params)
    if scope.user.is_department_staff:
        sql, extra = alerts_for(scope.user).order_by().values("pk").query.sql_with_params()
        condition, params = f"{condition} AND a.id IN ({sql})", [*params, *extra]
    return condition, params


ALERTS_PER_PAGE = 20
MAX_READ_AHEAD = 10**6  # the highest page number read ahead


def _mine(scope: Scope) -> tuple[str, list]:
    """The condition on `a` (an alert) and `p` (its project) that keeps the user's own alerts:
    those assigned to them, or unassigned on the projects they manage. Department staff see only
    their own alerts already (`_alert_scope`: handed to them or about commitments they own), so
    all of those are theirs, whoever they are assigned to."""
    if scope.user.is_department_staff:
        return "", []
    return (
        " AND (a.assignee_id = %s OR (a.assignee_id IS NULL AND p.relationship_manager_id = %s))",
        [scope.user.pk, scope.user.pk],
    )


# What an alert list shows (`show`): the open alerts not snoozed; those snoozed for now; those
# escalated to the team's manager (snoozed or not: a snooze does not stop the escalation).
ALERT_LIST_SHOWS = ("open", "snoozed", "escalated")


def _shown(show: str, at: datetime) -> tuple[str, list]:
    """The condition on `a` of the open alerts the list `show` keeps."""
    if show == "snoozed":
        return " AND a.snoozed_until > %s", [at]
    if show == "escalated":
        return " AND a.escalated_at IS NOT NULL", []
    if show != "open":
        raise ValueError(show)
    return " AND (a.snoozed_until IS NULL OR a.snoozed_until <= %s)", [at]


_ALERT_FROM = (
    "FROM finance_projects_alert a "
    "JOIN finance_projects_financingproject p ON p.id = a.project_id "
    "LEFT JOIN accounts_user u ON u.id = a.assignee_id"
)


def _alert_where(scope: Scope, *, mine_only: bool, show: str | None, at: datetime) -> tuple[str, list]:
    """The WHERE of the open alerts of a list (`OpenAlertList`; every open one when `show` is
    None) on `_ALERT_FROM`."""
    condition, params = _alert_scope(scope)
    shown, shown_params = _shown(show, at) if show else ("", [])
    sql = f" WHERE {condition} AND a.resolved_at IS NULL{shown}"
    params += shown_params
    if mine_only:
        mine, mine_params = _mine(scope)
        sql += mine
        params += mine_params
    return sql, params


def _alert_source(scope: Scope, *, mine_only: bool, show: str, at: datetime | None) -> tuple[str, list]:
    """FROM and WHERE of the alerts of a list (`OpenAlertList`)."""
    where, params = _alert_where(scope, mine_only=mine_only, show=show, at=at or timezone.now())
    return f"{_ALERT_FROM}{where}", params


def _counts_sql(scope: Scope, *, mine_only: bool, at: datetime) -> tuple[str, list]:
    """How many of the open alerts of the lists of `mine_only` are snoozed at `at`, and how many
    escalated: one row (`snoozed`, `escalated`)."""
    where, params = _alert_where(scope, mine_only=mine_only, show=None, at=at)
    sql = (
        "SELECT count(CASE WHEN a.snoozed_until > %s THEN 1 END) AS snoozed, "
        f"count(CASE WHEN a.escalated_at IS NOT NULL THEN 1 END) AS escalated {_ALERT_FROM}{where}"
    )
    return sql, [at, *params]


class OpenAlertList:
    """Open alerts by severity then age, for a Paginator: the unsnoozed ones (`show="open"`), the
    snoozed ones or the escalated ones (`ALERT_LIST_SHOWS`); assigned to the user (or unassigned
    on their projects; any of a department colleague's) when `mine_only`, otherwise every open
    alert the user may see. A row is a dict of `ALERT_ROW_FIELDS`.

    The total rides on every row read (a window counts before the LIMIT), so a page read ahead
    before the Paginator counts (`alerts[start:stop]`) also answers `count()`: one query for a
    page that exists."""

    def __init__(self, scope: Scope, *, mine_only: bool, show: str = "open", at: datetime | None = None):
        at = at or timezone.now()
        where, params = _alert_where(scope, mine_only=mine_only, show=show, at=at)
        counts, counts_params = _counts_sql(scope, mine_only=mine_only, at=at)
        # The counts of the snoozed and escalated alerts ride along too (`counts()`).
        sql = (
            "SELECT a.id, a.kind, a.severity, a.message, a.opened_at, a.acknowledged_at, a.snoozed_until, "
            "a.project_id, p.code, p.name, a.assignee_id, u.first_name, u.last_name, u.username, "
            f"a.escalated_at, c.snoozed, c.escalated, count(*) OVER () {_ALERT_FROM} "
            f"CROSS JOIN ({counts}) c{where}"
        )
        self.sql, self.params = sql, [*counts_params, *params]
        self._scope, self._mine_only, self._at = scope, mine_only, at
        self._counts: dict[str, int] | None = None
        self._total: int | None = None
        self._read: dict[int, list[dict]] = {}  # rows read, by their offset

    def _fetch(self, start: int, size: int) -> list[dict]:
        sql = (
            f"{self.sql} ORDER BY CASE a.severity WHEN %s THEN 0 WHEN %s THEN 1 ELSE 2 END, "
            "a.opened_at, a.id LIMIT %s OFFSET %s"
        )
        params = [*self.params, AlertSeverity.CRITICAL.value, AlertSeverity.WARNING.value, size, start]
        fetched = fetch(sql, params)
        if fetched:
            *_row, snoozed, escalated, self._total = fetched[0]
            self._counts = {"snoozed": snoozed, "escalated": escalated}
        elif start == 0:
            self._total = 0
        rows = [dict(zip(ALERT_ROW_FIELDS, values[:-3], strict=True)) for values in fetched]
        for row in rows:
            for key in ("opened_at", "acknowledged_at", "snoozed_until", "escalated_at"):
                row[key] = as_datetime(row[key])
        self._read[start] = rows
        return rows

    def counts(self) -> dict[str, int]:
        """`alert_counts` of the list's user and alerts: read with a page that has rows, else
        one query."""
        if self._counts is None:
            self._counts = alert_counts(self._scope, mine_only=self._mine_only, at=self._at)
        return self._counts

    def count(self) -> int:
        if self._total is None:  # nothing read yet, or a window past the end
            self._total = fetch(f"SELECT count(*) FROM ({self.sql}) AS open_alerts", list(self.params))[0][0]
        return self._total

    def __getitem__(self, window: slice) -> list[dict]:
        start, stop = window.start or 0, window.stop
        rows = self._read.get(start)
        if rows is None:
            rows = self._fetch(start, stop - start)
        return rows[: stop - start]


def open_alerts(
    scope: Scope,
    *,
    mine_only: bool,
    show: str = "open",
    page: str | int | None = 1,
    at: datetime | None = None,
    per_page: int = ALERTS_PER_PAGE,
) -> Page:
    """The page numbered `page` of `OpenAlertList`, most urgent first; a number that is not one
    (missing, not a whole number, below 1, past the end) gives the page `Paginator.get_page`
    gives. One query for a page that exists, three at most otherwise, whatever the number open."""
    alerts = OpenAlertList(scope, mine_only=mine_only, show=show, at=at)
    try:
        number = int(page)
    except (TypeError, ValueError):
        number = 1
    if 1 <= number <= MAX_READ_AHEAD:  # a larger one is past any end: no OFFSET that overflows
        alerts[(number - 1) * per_page : number * per_page]  # read ahead: the total comes with it
    return Paginator(alerts, per_page).get_page(page)


def alert_listed(
    scope: Scope, *, pk: int, mine_only: bool, show: str = "open", at: datetime | None = None
) -> bool:
    """Whether the alert `pk` belongs to the list (`OpenAlertList`) now: one query."""
    source, params = _alert_source(scope, mine_only=mine_only, show=show, at=at)
    return bool(fetch(f"SELECT a.id {source} AND a.id = %s", [*params, pk]))


def alert_counts(scope: Scope, *, mine_only: bool, at: datetime | None = None) -> dict[str, int]:
    """The alerts of the user (`mine_only`, as `open_alerts` keeps them) or of everyone they see
    that are snoozed for now, and those escalated to the team's manager: one query."""
    sql, params = _counts_sql(scope, mine_only=mine_only, at=at or timezone.now())
    snoozed, escalated = fetch(sql, params)[0]
    return {"snoozed": snoozed, "escalated": escalated}


COMMITMENT_KEYS = [
    "pk",
    "title",
    "due_at",
    "project_id",
    "project__code",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
]


# The most commitments a home-page list shows.
COMMITMENT_LIST_LIMIT = 50


def commitments_due_this_week(
    scope: Scope,
    *,
    mine_only: bool,
    with_overdue: bool = False,
    at: datetime | None = None,
    limit: int = COMMITMENT_LIST_LIMIT,
) -> list[dict]:
    """Open commitments due this week in the user's zone, soonest first, as rows with the
    project's code and the owner's name fields. `with_overdue`: first those still open that fell
    due before this week, oldest first. One query; each list has at most `limit` rows, plus one
    more when there are more, so that the caller can say the list is cut."""
    start, end = week_bounds(user=scope.user, at=at)
    sql = (
        "SELECT m.id, m.title, m.due_at, m.project_id, p.code, o.first_name, o.last_name, o.username, "
        "row_number() OVER (PARTITION BY CASE WHEN m.due_at < %s THEN 0 ELSE 1 END "
        "ORDER BY m.due_at, m.id) AS n "
        "FROM finance_projects_commitment m "
        "JOIN finance_projects_financingproject p ON p.id = m.project_id "
        "JOIN accounts_user o ON o.id = m.owner_id "
        f"WHERE m.project_id IN ({scope.sql}) AND m.status = %s AND m.due_at < %s"
    )
    params = [start, *scope.params, CommitmentStatus.OPEN.value, end]
    if not with_overdue:
        sql += " AND m.due_at >= %s"
        params.append(start)
    if mine_only:
        sql += " AND (m.owner_id = %s OR p.relationship_manager_id = %s)"
        params += [scope.user.pk, scope.user.pk]
    sql = f"SELECT * FROM ({sql}) AS due WHERE n <= %s ORDER BY 3, 1"
    params.append(limit + 1)
    rows = [dict(zip(COMMITMENT_KEYS, values[:-1], strict=True)) for values in fetch(sql, params)]
    for row in rows:
        row["due_at"] = as_datetime(row["due_at"])
    return rows


RESPONSE_KEYS = [
    "pk",
    "submitted_at",
    "nps",
    "csat",
    "comment",
    "project_id",
    "project__code",
    "contact__name",
]


def recent_responses(scope: Scope, *, limit: int = 8) -> list[dict]:
    """The latest submitted survey answers on the user's projects, newest first."""
    if model("feedback.SurveyResponse") is None:
        return []
    sql = (
        "SELECT r.id, r.submitted_at, r.nps, r.csat, r.comment, i.project_id, p.code, ct.name "
        "FROM feedback_surveyresponse r "
        "JOIN feedback_surveyinvitation i ON i.id = r.invitation_id "
        "JOIN finance_projects_financingproject p ON p.id = i.project_id "
        "JOIN finance_projects_contact ct ON ct.id = i.contact_id "
        f"WHERE i.project_id IN ({scope.sql}) AND r.submitted_at IS NOT NULL "
        "ORDER BY r.submitted_at DESC, r.id DESC LIMIT %s"
    )
    rows = [dict(zip(RESPONSE_KEYS, values, strict=True)) for values in fetch(sql, [*scope.params, limit])]
    for row in rows:
        row["submitted_at"] = as_datetime(row["submitted_at"])
    return rows


CLIENT_KEYS = ["pk", "name", "industry", "region", "rm_first_name", "rm_last_name", "rm_username", "team"]


def client_page(scope: Scope, *, pk: int, at: datetime | None = None) -> tuple[dict | None, list[dict]]:
    """The client's heading (its RM's name fields, its team's name) when `clients_for(user)` holds
    it, else None; and its projects in `scope`, newest first, as portfolio rows. One statement:
    the client's row is read once, for the heading and for the projects' client column."""
    # The id inside the subquery too: the visibility test then runs on that one client.
    visible, visible_params = ids_sql(clients_for(scope.user).filter(pk=pk))
    source = (
        " FROM finance_projects_client c"
        " JOIN accounts_user cu ON cu.id = c.relationship_manager_id"
        " JOIN accounts_team t ON t.id = c.team_id"
        f" LEFT JOIN finance_projects_financingproject p ON p.client_id = c.id AND p.id IN ({scope.sql})"
        " LEFT JOIN accounts_user u ON u.id = p.relationship_manager_id"
    )
    extra = "c.id, c.industry, c.region, cu.first_name, cu.last_name, cu.username, t.name"
    select, params = _portfolio_select(at or timezone.now(), scope.user, extra=extra, source=source)
    sql = f"{select} WHERE c.id IN ({visible}) ORDER BY p.created_at DESC"
    rows = fetch(sql, [*params, *scope.params, *visible_params])
    if not rows:
        return None, []
    width = len(PORTFOLIO_KEYS)
    client_id, industry, region, *rm_name, team = rows[0][width:]
    name = rows[0][PORTFOLIO_KEYS.index("client__name")]
    client = dict(zip(CLIENT_KEYS, [client_id, name, industry, region, *rm_name, team], strict=True))
    # A client with none of its projects in scope comes as one row without a project.
    projects = [_portfolio_row(row[:width]) for row in rows if row[0] is not None]
    return client, projects


CONTACT_KEYS = ["name", "title", "email", "phone", "language", "opted_out"]


def client_contacts(client_id: int) -> list[dict]:
    rows = fetch(
        "SELECT name, title, email, phone, language, opted_out FROM finance_projects_contact"
        " WHERE client_id = %s ORDER BY name",
        [client_id],
    )
    return [dict(zip(CONTACT_KEYS, values, strict=True)) for values in rows]


COMPLAINT_KEYS = ["reference", "received_at", "project__code", "category", "status"]


def complaint_history(project_ids: list[int], *, limit: int = 50) -> list[dict]:
    """The latest complaints on the projects, newest first."""
    if model("complaints.Complaint") is None:
        return []
    ids, params = ids_sql(project_ids)
    rows = fetch(
        "SELECT k.reference, k.received_at, p.code, k.category, k.status FROM complaints_complaint k"
        " JOIN finance_projects_financingproject p ON p.id = k.project_id"
        f" WHERE k.project_id IN ({ids}) ORDER BY k.received_at DESC LIMIT %s",
        [*params, limit],
    )
    complaints = [dict(zip(COMPLAINT_KEYS, values, strict=True)) for values in rows]
    for row in complaints:
        row["received_at"] = as_datetime(row["received_at"])
    return complaints


# --- Survey responses page ---------------------------------------------------------------------

RESPONSE_LIST_FIELDS = [
    "pk",
    "submitted_at",
    "nps",
    "csat",
    "ces",
    "comment",
    "is_detractor",
    "categories",
    "followed_up_at",
    "needs_follow_up",
    "invitation__project_id",
    "invitation__project__code",
    "invitation__project__name",
    "invitation__project__client__name",
    "invitation__contact__name",
]


def response_list(
    user: User,
    *,
    category: str = "",
    detractors_only: bool = False,
    pending_only: bool = False,
    q: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    rm: int | None = None,
) -> QuerySet:
    """The submitted survey responses `user` may see, newest first, as rows of
    `RESPONSE_LIST_FIELDS` for a Paginator (its count and its page: two queries, whatever the
    data size and the filters). The scope is the survey-response API's own
    (`feedback.selectors.responses_for`), and so are the filters: `category` keeps the responses
    tagged with that failure category (the API's `category`), `detractors_only` its
    `detractor=true`, `pending_only` its `needs_follow_up=true` (detractors and call-back
    requests with no follow-up yet), `start` and `end` its `submitted_after` and
    `submitted_before` (submitted in [start, end), the period `survey_metrics` counts scores in);
    `rm` keeps the responses on the projects whose relationship manager that user is (the RM
    `survey_metrics` groups them under), inside the scope: never another RM's unseen ones. `q`
    searches the client's name and the project's name and code."""
    responses = responses_for(user)
    if start is not None:
        responses = responses.filter(submitted_at__gte=start)
    if end is not None:
        responses = responses.filter(submitted_at__lt=end)
    if rm:
        responses = responses.filter(invitation__project__relationship_manager_id=rm)
    if category:
        responses = tagged(responses, category)
    if detractors_only:
        responses = responses.filter(is_detractor=True)
    if pending_only:
        responses = needing_follow_up(responses)
    if q:
        responses = responses.filter(
            Q(invitation__project__name__icontains=q)
            | Q(invitation__project__code__icontains=q)
            | Q(invitation__project__client__name__icontains=q)
        )
    return with_needs_follow_up(responses).order_by("-submitted_at", "-id").values(*RESPONSE_LIST_FIELDS)
