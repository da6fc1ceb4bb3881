"""Shared reads for complaints. Every scoped query derives from
`finance_projects.selectors.portfolio_for`, so another team's complaint answers 404 everywhere."""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import Role, User
from feedback.models import TOP_BOX_FROM, QuestionType, SurveyResponse
from finance_projects.models import Currency, FailureCategory, FinancingProject, RootCause
from finance_projects.selectors import can_edit_project, portfolio_for, users_who_see

from .models import (
    OPEN_STATUSES,
    SEVERITY_RANK,
    CaseStudy,
    Channel,
    ClientEmail,
    Complaint,
    ComplaintEvent,
    FollowUpVisit,
    RecoveryAction,
    Severity,
    Status,
)


def unsent_client_emails(complaint: Complaint) -> list[ClientEmail]:
    """The e-mails to the complaint's client the mail server has not taken yet, oldest first."""
    return list(ClientEmail.objects.filter(complaint=complaint, sent_at__isnull=True).defer("body", "html"))


def complaints_for(user: User) -> QuerySet[Complaint]:
    """Complaints about the projects the user may see, plus those they handle or hold a
    recovery action on (a handler is deliberately not the project's RM). Department staff see
    only what is assigned to them: a commitment on the project does not open its complaints."""
    if not user.is_authenticated or not user.is_active:
        return Complaint.objects.none()
    holds_action = RecoveryAction.objects.filter(complaint_id=OuterRef("pk"), owner=user)
    if user.is_department_staff:
        return Complaint.objects.filter(Q(owner=user) | Exists(holds_action))
    return Complaint.objects.filter(Q(project__in=portfolio_for(user)) | Q(owner=user) | Exists(holds_action))


def complaint_list(
    user: User, *, filters: dict | None = None, at: datetime | None = None
) -> QuerySet[Complaint]:
    """The complaints a user may see, filtered, with what a list row shows in one query."""
    filters = filters or {}
    at = at or timezone.now()
    queryset = complaints_for(user).select_related(
        "project", "project__client", "contact", "owner", "sla_policy"
    )
    if filters.get("status") == "open":
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    for name in ("category", "severity", "channel", "root_cause"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("owner"):
        queryset = queryset.filter(owner_id=filters["owner"])
    if filters.get("project"):
        queryset = queryset.filter(project_id=filters["project"])
    if filters.get("overdue"):
        queryset = queryset.filter(
            Q(status=Status.NEW, ack_due_at__lt=at)
            | Q(status__in=OPEN_STATUSES, paused_at__isnull=True, resolve_due_at__lt=at)
        )
    if filters.get("q"):
        text = filters["q"].strip()
        queryset = queryset.filter(
            Q(reference__icontains=text)
            | Q(description__icontains=text)
            | Q(project__name__icontains=text)
            | Q(project__client__name__icontains=text)
        )
    return queryset.order_by("-received_at", "-id")


def with_severity_rank(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """`severity_rank` to sort by (low 0 < medium 1 < high 2 < critical 3), not by the word; an
    alias, so it costs nothing unless ordered by."""
    ranks = [When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()]
    return complaints.alias(severity_rank=Case(*ranks))


def get_complaint_for(user: User, pk) -> Complaint:
    """The complaint with everything its page shows, or 404 for an outsider."""
    complaint = (
        complaints_for(user)
        .select_related(
            "project__client",
            "project__team",
            "contact",
            "owner",
            "sla_policy",
            "merged_into",
            "rm_handling_approved_by",
            "compensation_approved_by",
        )
        .prefetch_related(
            Prefetch("events", queryset=ComplaintEvent.objects.select_related("actor")),
            Prefetch("actions", queryset=RecoveryAction.objects.select_related("owner")),
            Prefetch("followups", queryset=FollowUpVisit.objects.select_related("done_by")),
            "merged",
        )
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


def can_handle(user: User, complaint: Complaint) -> bool:
    """Who may act on a complaint: its handler, the team's managers and admins, and the project's
    RM (an RM handling their own project's complaint still needs a manager's consent)."""
    if complaint.owner_id == user.pk or user.is_admin_role:
        return True
    if user.is_department_staff:
        return False
    return can_edit_project(user, complaint.project)


def recovery_action_owners(project: FinancingProject) -> QuerySet[User]:
    """Whom a recovery action on a complaint about `project` may be handed to
    (`services.check_action_owner`): the active users who see the project, and the active
    department staff, by name."""
    return User.objects.filter(
        Q(pk__in=users_who_see(project).values("pk")) | Q(is_active=True, role=Role.DEPARTMENT)
    ).order_by("first_name", "last_name", "username")


def recovery_actions_for(user: User) -> QuerySet[RecoveryAction]:
    return RecoveryAction.objects.filter(complaint__in=complaints_for(user))


def open_recovery_actions_of(user: User) -> QuerySet[RecoveryAction]:
    """The recovery actions handed to `user` and not done yet, soonest due first. Holding an
    action shows its complaint (`complaints_for`), so each one's complaint opens to them."""
    if not user.is_authenticated or not user.is_active:
        return RecoveryAction.objects.none()
    # A closed complaint (merged ones included) is read-only: its actions can no longer be done.
    return (
        RecoveryAction.objects.filter(owner=user, done_at__isnull=True)
        .exclude(complaint__status=Status.CLOSED)
        .order_by("due_at", "id")
    )


def followups_for(user: User) -> QuerySet[FollowUpVisit]:
    return FollowUpVisit.objects.filter(complaint__in=complaints_for(user))


def cases_search(*, q: str = "", category: str = "", root_cause: str = "") -> QuerySet[CaseStudy]:
    """The case library is anonymised and open to every staff member."""
    cases = CaseStudy.objects.all()
    if category:
        cases = cases.filter(category=category)
    if root_cause:
        cases = cases.filter(root_cause=root_cause)
    if q.strip():
        text = q.strip()
        query = Q()
        for name in ("title", "summary", "lessons", "what_worked"):
            query |= Q(**{f"{name}_zh__icontains": text}) | Q(**{f"{name}_en__icontains": text})
        cases = cases.filter(query)
    return cases


# --- recovery effect -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryEffect:
    complaints: int
    detractors_before: int
    surveyed_after: int
    became_promoters: int


def recovery_effect(user: User, *, since: datetime | None = None) -> RecoveryEffect:
    """Of the resolved complaints a user may see, how many came from a detractor (the last
    response before the resolution is a detractor's, by the product's one rule,
    `SurveyResponse.is_detractor`: NPS, CSAT or CES at or below its mark) who was won back (the
    first response after it is in the top box of every score it gives: NPS 9–10, CSAT 4–5,
    CES 5–7). One query."""
    responses = SurveyResponse.objects.filter(
        submitted_at__isnull=False,
        invitation__project_id=OuterRef("project_id"),
        invitation__contact_id=OuterRef("contact_id"),
    )
    before = responses.filter(submitted_at__lte=OuterRef("resolved_at")).order_by("-submitted_at", "-id")
    after = responses.filter(submitted_at__gt=OuterRef("resolved_at")).order_by("submitted_at", "id")
    resolved = complaints_for(user).filter(resolved_at__isnull=False, merged_into__isnull=True)
    if since is not None:
        resolved = resolved.filter(resolved_at__gte=since)
    detractor_before = Q(detractor_before=True)
    scored_after = {name: Subquery(after.values(name)[:1]) for name in ("nps", "csat", "ces", "id")}
    top_box = Q()
    for name, question in (("nps", QuestionType.NPS), ("csat", QuestionType.CSAT), ("ces", QuestionType.CES)):
        top_box &= Q(**{f"{name}_after__isnull": True}) | Q(**{f"{name}_after__gte": TOP_BOX_FROM[question]})
    some_score = Q(nps_after__isnull=False) | Q(csat_after__isnull=False) | Q(ces_after__isnull=False)
    rows = resolved.annotate(
        detractor_before=Subquery(before.values("is_detractor")[:1]),
        **{f"{name}_after": value for name, value in scored_after.items()},
    ).aggregate(
        complaints=Count("id"),
        detractors_before=Count("id", filter=detractor_before),
        surveyed_after=Count("id", filter=detractor_before & Q(id_after__isnull=False)),
        became_promoters=Count("id", filter=detractor_before & some_score & top_box),
    )
    return RecoveryEffect(**rows)


# --- reports -------------------------------------------------------------------------------

REPORT_COLUMNS = [
    "reference",
    "received_at",
    "channel",
    "category",
    "severity",
    "status",
    "root_cause",
    "team",
    "project",
    "ack_due_at",
    "acknowledged_at",
    "resolve_due_at",
    "resolved_at",
    "closed_at",
    "paused_seconds",
    "extension_count",
    "compensation_amount",
    "compensation_currency",
]


def report_rows(user: User, *, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """One row per complaint received in [start, end) that the user may see (merged repeats
    left out: they are counted in the original). One query."""
    queryset = complaints_for(user).filter(merged_into__isnull=True)
    if start is not None:
        queryset = queryset.filter(received_at__gte=start)
    if end is not None:
        queryset = queryset.filter(received_at__lt=end)
    values = queryset.order_by("received_at", "id").values(
        *[name for name in REPORT_COLUMNS if name not in ("team", "project")],
        team_name=F("project__team__name"),
        project_code=F("project__code"),
    )
    frame = pd.DataFrame.from_records(list(values))
    frame = frame.rename(columns={"team_name": "team", "project_code": "project"}).reindex(
        columns=REPORT_COLUMNS
    )
    for column in (
        "received_at",
        "ack_due_at",
        "acknowledged_at",
        "resolve_due_at",
        "resolved_at",
        "closed_at",
    ):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def report_export_frame(frame: pd.DataFrame, zone) -> pd.DataFrame:
    """`report_rows` as the export shows them: headings and codes in the reader's language, and
    moments to the minute in `zone`, named in their heading (a spreadsheet keeps no zone)."""
    shown = frame.copy()
    choices = {
        "channel": Channel,
        "category": FailureCategory,
        "severity": Severity,
        "status": Status,
        "root_cause": RootCause,
        "compensation_currency": Currency,
    }
    for column, kind in choices.items():
        labels = {value: str(label) for value, label in kind.choices}
        shown[column] = shown[column].map(lambda value, labels=labels: labels.get(value, value or ""))
    headings = []
    for column in shown.columns:
        if column in ("team", "project"):
            heading = _("Team") if column == "team" else _("Project")
        else:
            heading = capfirst(str(Complaint._meta.get_field(column).verbose_name))
        if str(shown[column].dtype).startswith("datetime64"):
            shown[column] = shown[column].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M").fillna("")
            heading = f"{heading} ({zone})"
        headings.append(heading)
    shown.columns = headings
    return shown


@dataclass
class Report:
    total: int
    open: int
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_team: list[tuple[str, int]]
    pareto: list[tuple[str, int, float]]
    ack_on_time: float | None
    resolve_on_time: float | None
    ack_hours: dict[str, float | None]
    resolve_days: dict[str, float | None]
    buckets: list[tuple[str, int]]
    compensation: list[tuple[str, str]]
    extras: dict = field(default_factory=dict)


def _counts(series: pd.Series, labels: dict) -> list[tuple[str, int]]:
    counts = series[series.astype(bool)].value_counts()
    return [(str(labels.get(key, key)), int(value)) for key, value in counts.items()]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _quantiles(values: pd.Series) -> dict[str, float | None]:
    values = values.dropna()
    if values.empty:
        return {"median": None, "p90": None}
    return {"median": round(float(values.median()), 1), "p90": round(float(values.quantile(0.9)), 1)}


REGULATOR_BUCKETS = ((15, "within 15 days"), (30, "within 30 days"), (60, "within 60 days"))


def complaint_report(frame: pd.DataFrame) -> Report:
    """Everything the reports page and its export show, from `report_rows`."""
    total = len(frame)
    categories = dict(FailureCategory.choices)
    causes = dict(RootCause.choices)
    channels = dict(Channel.choices)
    open_count = int(frame["status"].isin([s.value for s in OPEN_STATUSES]).sum()) if total else 0

    # Most frequent first; a tie keeps the causes' own order, so the chart does not reshuffle.
    cause_counts = frame["root_cause"][frame["root_cause"].astype(bool)].value_counts()
    rank = {value: index for index, value in enumerate(RootCause.values)}
    cause_counts = cause_counts.reindex(
        sorted(cause_counts.index, key=lambda key: (-cause_counts[key], rank.get(key, len(rank))))
    )
    cumulative = cause_counts.cumsum() / cause_counts.sum() * 100 if len(cause_counts) else cause_counts
    pareto = [
        (str(causes.get(key, key)), int(count), round(float(cumulative[key]), 1))
        for key, count in cause_counts.items()
    ]

    acknowledged = frame[frame["acknowledged_at"].notna()]
    resolved = frame[frame["resolved_at"].notna()]
    # On time among those whose acknowledgement was due: acknowledged, or still waiting past the
    # deadline (those count as late already; leaving them out showed 100% with one overdue).
    ack_due = frame[frame["acknowledged_at"].notna() | (frame["ack_due_at"] < pd.Timestamp(timezone.now()))]
    ack_on_time = _percent(int((ack_due["acknowledged_at"] <= ack_due["ack_due_at"]).sum()), len(ack_due))
    resolve_on_time = _percent(
        int((resolved["resolved_at"] <= resolved["resolve_due_at"]).sum()), len(resolved)
    )
    ack_hours = _quantiles(
        (acknowledged["acknowledged_at"] - acknowledged["received_at"]).dt.total_seconds() / 3600
    )
    # The regulator's clock: time paused for an outside appraisal does not count.
    resolve_span = (resolved["resolved_at"] - resolved["received_at"]).dt.total_seconds() - resolved[
        "paused_seconds"
    ]
    resolve_days = _quantiles(resolve_span / 86400)

    days = resolve_span / 86400
    buckets, lower = [], -1.0
    labels = {15: _("Within 15 days"), 30: _("Within 30 days"), 60: _("Within 60 days")}
    for limit, _label in REGULATOR_BUCKETS:
        buckets.append((str(labels[limit]), int(((days > lower) & (days <= limit)).sum())))
        lower = limit
    buckets.append((_("Later than 60 days"), int((days > 60).sum())))
    buckets.append((_("Not resolved yet"), total - len(resolved)))

    paid = frame[frame["compensation_amount"].notna() & frame["resolved_at"].notna()]
    compensation = [
        (currency, f"{sum(group['compensation_amount'], start=0):,.2f}")
        for currency, group in paid.groupby("compensation_currency")
    ]
    return Report(
        total=total,
        open=open_count,
        by_category=_counts(frame["category"], categories),
        by_channel=_counts(frame["channel"], channels),
        by_team=_counts(frame["team"].fillna(""), {}),
        pareto=pareto,
        ack_on_time=ack_on_time,
        resolve_on_time=resolve_on_time,
        ack_hours=ack_hours,
        resolve_days=resolve_days,
        buckets=buckets,
        compensation=compensation,
    )


# --- the Pareto chart ----------------------------------------------------------------------
# Drawn on the server as SVG (no script; the CSP allows none inline). Coordinates are in the
# viewBox's units: the browser scales the whole drawing to the width of the screen.

PARETO_WIDTH = 360
PARETO_PLOT = {"left": 44, "right": 322, "top": 34, "bottom": 194}
PARETO_LABEL_ANGLE = 55  # the causes' names slant up to the right by this many degrees
PARETO_LABEL_SIZE = 12  # font size of the causes' names, in viewBox units
PARETO_LABEL_WIDTH = 110  # longest line of a cause's name before it wraps, in viewBox units


@dataclass(frozen=True)
class ParetoBar:
    label: str
    lines: list[str]
    count: int
    cumulative: float
    x: float
    y: float
    width: float
    height: float
    centre: float
    point_y: float


@dataclass(frozen=True)
class ParetoChart:
    width: int
    height: int
    label_angle: int
    left: int
    right: int
    top: int
    bottom: int
    bars: list[ParetoBar]
    count_ticks: list[tuple[int, float]]
    percent_ticks: list[tuple[int, float]]
    points: str
    eighty_y: float
    total: int
    summary: str


def _round(value: float) -> float:
    return round(value, 1)


def _text_width(text: str) -> float:
    """About how wide `text` runs at the labels' size: a Chinese character is a full em."""
    return sum(1.0 if ord(char) >= 0x2E80 else 0.56 for char in text) * PARETO_LABEL_SIZE


def _wrap(label: str, most: int = 2) -> list[str]:
    """A cause's name in lines short enough to sit under its bar: by words, or by characters
    for a language written without spaces; what does not fit in `most` lines ends in an ellipsis."""
    spaced = " " in label
    words = label.split() if spaced else re.findall(r"（[^）]*）|\([^)]*\)|.", label)
    joiner = " " if spaced else ""
    lines: list[str] = []
    for word in words:
        if lines and _text_width(lines[-1] + joiner + word) <= PARETO_LABEL_WIDTH:
            lines[-1] += joiner + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1] + "…"]
    return lines


def _count_axis(highest: int) -> tuple[int, int]:
    """A round top for the count axis and its step: at most five steps of 1, 2 or 5 × 10ⁿ."""
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            if math.ceil(highest / step) <= 5:
                return math.ceil(highest / step) * step, step
        magnitude *= 10


def pareto_chart(pareto: list[tuple[str, int, float]]) -> ParetoChart | None:
    """The geometry of the Pareto chart of `complaint_report(...).pareto`: one bar per root cause,
    its height in proportion to its count, and the cumulative share as a line over them (right
    axis, 0–100%). None when no complaint has a root cause yet."""
    if not pareto:
        return None
    left, right = PARETO_PLOT["left"], PARETO_PLOT["right"]
    top, bottom = PARETO_PLOT["top"], PARETO_PLOT["bottom"]
    plot_height = bottom - top
    axis_top, step = _count_axis(max(count for _label, count, _cumulative in pareto))
    slot = (right - left) / len(pareto)
    bar_width = min(slot * 0.7, 56.0)
    bars = []
    for index, (label, count, cumulative) in enumerate(pareto):
        centre = left + slot * (index + 0.5)
        height = plot_height * count / axis_top
        bars.append(
            ParetoBar(
                label=label,
                lines=_wrap(label),
                count=count,
                cumulative=cumulative,
                x=_round(centre - bar_width / 2),
                y=_round(bottom - height),
                width=_round(bar_width),
                height=_round(height),
                centre=_round(centre),
                point_y=_round(bottom - plot_height * cumulative / 100),
            )
        )
    # Tall enough for the longest name under its bar, slanted; no taller.
    slant = math.radians(PARETO_LABEL_ANGLE)
    label_depth = max(
        max(_text_width(line) for line in bar.lines) * math.sin(slant)
        + (len(bar.lines) - 1) * 13 * math.cos(slant)
        for bar in bars
    )
    total = sum(count for _label, count, _cumulative in pareto)
    parts = [
        _("%(cause)s: %(count)s, cumulative %(cumulative)s%%")
        % {"cause": label, "count": count, "cumulative": cumulative}
        for label, count, cumulative in pareto
    ]
    summary = ngettext(
        "Pareto chart of the root causes of %(total)s complaint, most frequent first. %(causes)s.",
        "Pareto chart of the root causes of %(total)s complaints, most frequent first. %(causes)s.",
        total,
    ) % {"total": total, "causes": pgettext("between the items of a list", "; ").join(parts)}
    return ParetoChart(
        width=PARETO_WIDTH,
        height=math.ceil(bottom + 14 + label_depth + 12),
        label_angle=-PARETO_LABEL_ANGLE,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bars=bars,
        count_ticks=[
            (value, _round(bottom - plot_height * value / axis_top)) for value in range(0, axis_top + 1, step)
        ],
        percent_ticks=[(value, _round(bottom - plot_height * value / 100)) for value in range(0, 101, 20)],
        points=" ".join(f"{bar.centre},{bar.point_y}" for bar in bars),
        eighty_y=_round(bottom - plot_height * 0.8),
        total=total,
        summary=summary,
    )
