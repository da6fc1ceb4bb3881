"""Health score of a project and of a client: 0-100, in green / amber / red bands.

A score starts at 100 and each problem takes points off; every deduction is kept as a factor
(`{"points": -20, "code": "commitment_missed", "days": 5, "label": "Term sheet"}`) so a page can
say why ("-20: commitment missed 5 days ago: Term sheet"). Factors are stored as data and put
into words in the reader's language by `factor_text`.

`compute_health` scores a whole portfolio with a fixed number of aggregate queries (one per
source table), whatever its size; the per-project arithmetic is pure Python over those rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from finance_projects.models import (
    AlertKind,
    AlertSeverity,
    CommitmentStatus,
    FinancingProject,
    ProjectStatus,
)

from .sql import as_datetime, fetch, ids_sql

GREEN_FROM = 75
AMBER_FROM = 50

POINTS = {
    "commitment_missed": -20,
    "update_overdue": -15,
    "complaint_open": -10,
    "alert_critical": -10,
    "alert_warning": -4,
    "detractor": -15,
    "low_csat": -10,
    "promoter": 5,
}
# At most this many points come off for one kind of problem, so one bad habit cannot hide the rest.
CAPS = {"commitment_missed": -40, "complaint_open": -30, "alert_critical": -20, "alert_warning": -12}
# Survey answers older than this no longer speak for the client's mood.
RECENT_SURVEY_DAYS = 90
# These alert kinds are scored through their subject (missed commitment, overdue update, complaint).
_ALERTS_SCORED_ELSEWHERE = [
    AlertKind.COMMITMENT_MISSED,
    AlertKind.UPDATE_OVERDUE,
    AlertKind.COMPLAINT_ACK_OVERDUE,
    AlertKind.COMPLAINT_RESOLUTION_OVERDUE,
    AlertKind.DETRACTOR_RESPONSE,
    AlertKind.CONTACT_REQUEST,  # a satisfied client asking for a call is no sign of trouble
]


def band(score: int | None) -> str:
    if score is None:
        return ""
    if score >= GREEN_FROM:
        return "green"
    return "amber" if score >= AMBER_FROM else "red"


@dataclass
class Health:
    score: int = 100
    factors: list[dict] = field(default_factory=list)

    @property
    def band(self) -> str:
        return band(self.score)

    def add(self, code: str, points: int, **details) -> None:
        self.factors.append({"points": points, "code": code, **details})

    def settle(self) -> "Health":
        """Apply the caps per kind of problem and clamp the total into 0-100."""
        taken: dict[str, int] = defaultdict(int)
        for factor in self.factors:
            cap = CAPS.get(factor["code"])
            if cap is not None and taken[factor["code"]] + factor["points"] < cap:
                factor["points"] = min(0, cap - taken[factor["code"]])
            taken[factor["code"]] += factor["points"]
        self.factors = sorted((f for f in self.factors if f["points"]), key=lambda f: f["points"])
        self.score = max(0, min(100, 100 + sum(f["points"] for f in self.factors)))
        return self


def factor_text(factor: dict) -> str:
    """One factor in the reader's language: "-20: commitment missed 5 days ago: Term sheet"."""
    code, days, count = factor["code"], factor.get("days", 0), factor.get("count", 0)
    number = count if code.startswith("alert_") else days
    text = _factor_words(get_language(), code, number) % {
        "days": days,
        "count": count,
        "score": factor.get("score", 0),
    }
    label = factor.get("label")
    points = factor["points"]
    return f"{points:+d}: {text}" + (f": {label}" if label else "")


@lru_cache(maxsize=4096)
def _factor_words(language: str, code: str, number: int) -> str:
    """The sentence of a factor before its numbers go in, in `language` (part of the cache key:
    the active language picks the catalogue)."""
    # Less than a whole day (24 hours, not a calendar day): not "0 days".
    if number == 0 and code == "commitment_missed":
        return _("commitment missed less than a day ago")
    if number == 0 and code == "update_overdue":
        return _("client update overdue by less than a day")
    if number == 0 and code == "complaint_open":
        return _("complaint open for less than a day")
    if code == "commitment_missed":
        return ngettext("commitment missed %(days)d day ago", "commitment missed %(days)d days ago", number)
    if code == "update_overdue":
        return ngettext(
            "client update overdue by %(days)d day", "client update overdue by %(days)d days", number
        )
    if code == "complaint_open":
        return ngettext("complaint open for %(days)d day", "complaint open for %(days)d days", number)
    if code == "alert_critical":
        return ngettext("%(count)d critical alert open", "%(count)d critical alerts open", number)
    if code == "alert_warning":
        return ngettext("%(count)d warning open", "%(count)d warnings open", number)
    if code == "detractor":
        return _("recent NPS answer of %(score)d (detractor)")
    if code == "low_csat":
        return _("recent satisfaction score of %(score)d out of 5")
    if code == "promoter":
        return _("recent NPS answer of %(score)d (promoter)")
    return code.replace("%", "%%")


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _days(since: datetime, at: datetime) -> int:
    return max(0, (at - since) // timedelta(days=1))


def compute_health(
    *,
    projects: QuerySet[FinancingProject] | list[FinancingProject],
    at: datetime | None = None,
    missed: list[tuple[int, str, datetime]] | None = None,
) -> dict[int, Health]:
    """Health of every project (project id → Health), in a fixed number of queries.

    `projects` is a queryset (a whole portfolio: its rows are read here) or projects already
    loaded (a page showing them: their ids go straight into the queries, no subquery).
    `missed`: the projects' missed commitments (project id, title, due date; open and due
    before `at`, soonest first) when the caller has read every commitment of them anyway."""
    at = at or timezone.now()
    if isinstance(projects, QuerySet):
        ids = projects
        deadlines = projects.values_list("pk", "next_update_due_at", "status")
    else:
        ids = [project.pk for project in projects]
        deadlines = [(project.pk, project.next_update_due_at, project.status) for project in projects]
        if not ids:
            return {}
    scores: dict[int, Health] = {}
    for pk, due, status in deadlines:
        scores[pk] = Health()
        # Only an active project owes its client updates (the update_overdue scan's rule too).
        if status == ProjectStatus.ACTIVE and due is not None and due < at:
            scores[pk].add("update_overdue", POINTS["update_overdue"], days=_days(due, at))

    # The reads are raw SQL: a page scores one project, and their ORM form cost more to build
    # than to run. `ids` is a subquery (a portfolio) or a list of placeholders.
    ids, params = ids_sql(ids)
    if missed is None:
        missed = fetch(
            "SELECT project_id, title, due_at FROM finance_projects_commitment"
            f" WHERE project_id IN ({ids}) AND status = %s AND due_at < %s ORDER BY due_at",
            [*params, CommitmentStatus.OPEN.value, at],
        )
    for project_id, title, due_at in missed:
        scores[project_id].add(
            "commitment_missed", POINTS["commitment_missed"], days=_days(as_datetime(due_at), at), label=title
        )

    elsewhere = [kind.value for kind in _ALERTS_SCORED_ELSEWHERE]
    open_alerts = fetch(
        "SELECT project_id, count(CASE WHEN severity = %s THEN 1 END),"
        " count(CASE WHEN severity = %s THEN 1 END) FROM finance_projects_alert"
        f" WHERE project_id IN ({ids}) AND resolved_at IS NULL"
        f" AND kind NOT IN ({', '.join(['%s'] * len(elsewhere))})"
        " AND (snoozed_until IS NULL OR snoozed_until <= %s) GROUP BY project_id",
        [AlertSeverity.CRITICAL.value, AlertSeverity.WARNING.value, *params, *elsewhere, at],
    )
    for project_id, critical, warning in open_alerts:
        health = scores[project_id]
        if critical:
            health.add("alert_critical", POINTS["alert_critical"] * critical, count=critical)
        if warning:
            health.add("alert_warning", POINTS["alert_warning"] * warning, count=warning)

    if _model("complaints.Complaint") is not None:
        from complaints.models import OPEN_STATUSES

        rows = fetch(
            "SELECT project_id, reference, received_at FROM complaints_complaint"
            f" WHERE project_id IN ({ids}) AND status IN ({', '.join(['%s'] * len(OPEN_STATUSES))})"
            " ORDER BY received_at",
            [*params, *(status.value for status in OPEN_STATUSES)],
        )
        for project_id, reference, received_at in rows:
            scores[project_id].add(
                "complaint_open",
                POINTS["complaint_open"],
                days=_days(as_datetime(received_at), at),
                label=reference,
            )

    if _model("feedback.SurveyResponse") is not None:
        latest = fetch(
            "SELECT i.project_id, min(r.nps), min(r.csat) FROM feedback_surveyresponse r"
            " JOIN feedback_surveyinvitation i ON i.id = r.invitation_id"
            f" WHERE i.project_id IN ({ids}) AND r.submitted_at >= %s AND r.submitted_at <= %s"
            " GROUP BY i.project_id",
            [*params, at - timedelta(days=RECENT_SURVEY_DAYS), at],
        )
        for project_id, nps, csat in latest:
            health = scores[project_id]
            if nps is not None and nps <= 6:
                health.add("detractor", POINTS["detractor"], score=nps)
            elif nps is not None and nps >= 9:
                health.add("promoter", POINTS["promoter"], score=nps)
            if csat is not None and csat <= 2:
                health.add("low_csat", POINTS["low_csat"], score=csat)

    return {pk: health.settle() for pk, health in scores.items()}


def client_health(*, scores: dict[int, Health], project_clients: dict[int, int]) -> dict[int, Health]:
    """A client's health from its projects' (client id → Health): the mean of the project scores,
    with the factors of every project, labelled by project code when it has several."""
    grouped: dict[int, list[int]] = defaultdict(list)
    for project_id, client_id in project_clients.items():
        if project_id in scores:
            grouped[client_id].append(project_id)
    result = {}
    for client_id, project_ids in grouped.items():
        health = Health(score=round(sum(scores[p].score for p in project_ids) / len(project_ids)))
        for project_id in project_ids:
            health.factors.extend(scores[project_id].factors)
        health.factors.sort(key=lambda f: f["points"])
        result[client_id] = health
    return result


def live_projects(projects: QuerySet[FinancingProject]) -> QuerySet[FinancingProject]:
    """The projects that carry a health score: closed and lost deals are history."""
    return projects.filter(status__in=[ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD])
