"""Reads for the weekly digest: who gets one, in which language and zone, and everything one
digest shows. `build_digest` issues a fixed number of queries whatever the portfolio's size."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from accounts.models import Role, Team, User
from complaints.models import Complaint
from dashboard.kpis import weekly_trend
from dashboard.labels import KPI_LABELS
from feedback.models import SurveyResponse
from finance_projects.models import (
    Alert,
    AlertSeverity,
    Client,
    Commitment,
    CommitmentStatus,
    FinancingProject,
)
from finance_projects.selectors import portfolio_for

from .models import ClientHealthSnapshot, DigestPreference, DigestRun, DigestStatus
from .scans import LIVE_STATUSES
from .weeks import IsoWeek, zone

DIGEST_ROLES = (Role.MANAGER, Role.RELATIONSHIP_MANAGER)
TREND_WEEKS = 8  # at least 2: the last two are the reported week and the one before
LIST_LIMIT = 10
HEALTH_DROP_LIMIT = 5
# A claim older than this belongs to a worker that died; another run may take the digest over.
CLAIM_LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 5


# --- Recipients ------------------------------------------------------------------------------


def preference_of(user: User) -> DigestPreference | None:
    try:
        return user.digest_preference
    except DigestPreference.DoesNotExist:
        return None


def may_receive_digest(user: User) -> bool:
    """Whether the user's role is one the digest is e-mailed to (whatever their preference)."""
    return user.role in DIGEST_ROLES


def is_digest_recipient(user: User) -> bool:
    """Managers get the digest unless they switched it off; relationship managers opt in."""
    if not user.is_active or not user.email or not may_receive_digest(user):
        return False
    preference = preference_of(user)
    if preference is None:
        return user.role == Role.MANAGER
    return preference.enabled


def digest_recipients() -> QuerySet[User]:
    """Everyone who gets the weekly digest (the set form of `is_digest_recipient`)."""
    preferences = DigestPreference.objects.filter(user=OuterRef("pk"))
    opted_out = Exists(preferences.filter(enabled=False))
    opted_in = Exists(preferences.filter(enabled=True))
    return (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter((Q(role=Role.MANAGER) & ~opted_out) | (Q(role=Role.RELATIONSHIP_MANAGER) & opted_in))
        .select_related("digest_preference")
        .order_by("pk")
    )


def digest_language(user: User) -> str:
    preference = preference_of(user)
    language = (preference.language if preference else "") or user.language or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def digest_zone(user: User) -> ZoneInfo:
    return zone(user.time_zone)


@contextmanager
def recipient_locale(user: User, language: str | None = None) -> Iterator[None]:
    """Render in the recipient's language and time zone."""
    with translation.override(language or digest_language(user)), timezone.override(digest_zone(user)):
        yield


def claimable(now: datetime) -> Q:
    """Runs a worker may claim now: never tried, failed with attempts left, or claimed by a
    worker whose lease ran out (it died before recording the outcome)."""
    return (
        Q(status=DigestStatus.PENDING)
        | Q(status=DigestStatus.FAILED, attempts__lt=MAX_ATTEMPTS)
        | Q(status=DigestStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    )


def claimable_run_ids(
    *, weeks: list[IsoWeek], now: datetime, recipient_ids: list[int] | None = None
) -> list[int]:
    if not weeks:
        return []
    in_weeks = Q()
    for week in weeks:
        in_weeks |= Q(iso_year=week.year, iso_week=week.week)
    runs = DigestRun.objects.filter(claimable(now), in_weeks)
    if recipient_ids is not None:
        runs = runs.filter(recipient_id__in=recipient_ids)
    return list(runs.order_by("recipient_id", "iso_year", "iso_week").values_list("pk", flat=True))


# --- The digest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSpec:
    key: str
    label: str
    unit: str  # "pct" (0-100), "score" (NPS, -100..100) or "count"
    higher_is_better: bool | None


# The figures the team page also shows carry its names (`dashboard.labels`), so the two read alike.
KPI_SPECS = [
    KpiSpec("on_time_update_rate", KPI_LABELS["on_time_update_rate"], "pct", True),
    KpiSpec("overdue_updates", _("Overdue client updates"), "count", False),
    KpiSpec("promise_kept_rate", KPI_LABELS["promise_kept_rate"], "pct", True),
    KpiSpec("missed_commitments", KPI_LABELS["missed_commitments"], "count", False),
    KpiSpec("new_complaints", _("New complaints"), "count", False),
    KpiSpec("overdue_complaints", _("Overdue complaints"), "count", False),
    KpiSpec("complaint_ack_rate", KPI_LABELS["complaint_ack_rate"], "pct", True),
    KpiSpec("complaint_resolution_rate", KPI_LABELS["complaint_resolution_rate"], "pct", True),
    KpiSpec("nps", KPI_LABELS["nps"], "score", True),
    KpiSpec("csat", KPI_LABELS["csat"], "pct", True),
    KpiSpec("survey_responses", _("Survey responses"), "count", None),
]
HEADLINE_KEYS = ["on_time_update_rate", "promise_kept_rate", "missed_commitments", "new_complaints", "nps"]


@dataclass(frozen=True)
class KpiRow:
    spec: KpiSpec
    current: float | int | None
    previous: float | int | None

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def delta(self) -> float | int | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)

    @property
    def tone(self) -> str:
        """ "good", "bad" or "flat": whether the change is welcome."""
        if not self.delta or self.spec.higher_is_better is None:
            return "flat"
        return "good" if (self.delta > 0) == self.spec.higher_is_better else "bad"

    def _show(self, value) -> str:
        if value is None:
            return "–"
        if self.spec.unit == "pct":
            return f"{value:.1f}%"
        if self.spec.unit == "score":
            return f"{value:+.1f}" if value else "0.0"
        return str(value)

    @property
    def current_display(self) -> str:
        return self._show(self.current)

    @property
    def previous_display(self) -> str:
        return self._show(self.previous)

    @property
    def delta_display(self) -> str:
        delta = self.delta
        if delta is None:
            return "–"
        if self.spec.unit == "count":
            return f"{int(delta):+d}" if delta else "±0"
        return f"{delta:+.1f}" if delta else "±0.0"


@dataclass(frozen=True)
class TrendWeek:
    monday: datetime
    on_time_update_rate: float | None
    promise_kept_rate: float | None

    @property
    def update_bar(self) -> int:
        return round(self.on_time_update_rate or 0)

    @property
    def promise_bar(self) -> int:
        return round(self.promise_kept_rate or 0)


@dataclass
class Digest:
    recipient: User
    week: IsoWeek
    language: str
    tz: ZoneInfo
    start: datetime
    end: datetime
    generated_at: datetime
    scope: list[str]
    kpis: dict
    previous_kpis: dict
    rows: list[KpiRow]
    trend: list[TrendWeek]
    critical_alerts: list[Alert]
    critical_alert_count: int
    due_commitments: list[Commitment]
    due_commitment_count: int
    health_drops: list[Client]
    detractors: list[SurveyResponse]
    detractor_count: int
    links: dict = field(default_factory=dict)

    @property
    def previous_week(self) -> IsoWeek:
        return self.week.shift(-1)

    @property
    def last_day(self) -> datetime:
        return self.end - timedelta(days=1)

    @property
    def coming_week(self) -> IsoWeek:
        return self.week.shift(1)

    @property
    def by_key(self) -> dict[str, KpiRow]:
        return {row.spec.key: row for row in self.rows}

    @property
    def headline(self) -> dict:
        return {key: self.kpis.get(key) for key in HEADLINE_KEYS}

    @property
    def needs_attention(self) -> bool:
        return bool(self.critical_alerts or self.due_commitments or self.health_drops or self.detractors)

    @property
    def scope_text(self) -> str:
        """The teams covered, as a list in the language being rendered (、 in Chinese)."""
        return pgettext("list separator", ", ").join(str(name) for name in self.scope)

    # What each list leaves out (it shows LIST_LIMIT of its count): said under it, so the count
    # in its heading and the rows agree.
    @property
    def more_critical_alerts(self) -> int:
        return self.critical_alert_count - len(self.critical_alerts)

    @property
    def more_due_commitments(self) -> int:
        return self.due_commitment_count - len(self.due_commitments)

    @property
    def more_detractors(self) -> int:
        return self.detractor_count - len(self.detractors)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def project_url(project_id: int) -> str:
    return absolute(f"/projects/{project_id}/")


def client_url(client_id: int) -> str:
    return absolute(f"/clients/{client_id}/")


def complaint_kpis(
    *, projects: QuerySet[FinancingProject], periods: dict[str, tuple[datetime, datetime]], at: datetime
) -> dict[str, dict]:
    """Per named period `[start, end)`: complaints received in it (`new_complaints`) and those
    overdue as it closed (decision deadline passed, neither decided nor closed by then).
    One aggregate query for all the periods."""
    aggregates = {}
    for name, (start, end) in periods.items():
        cutoff = min(end, at)
        overdue = (
            Q(received_at__lt=cutoff, resolve_due_at__lt=cutoff)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff))
            & (Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff))
            & Q(merged_into__isnull=True)
        )
        aggregates[f"{name}__new_complaints"] = Count(
            "pk", filter=Q(received_at__gte=start, received_at__lt=end)
        )
        aggregates[f"{name}__overdue_complaints"] = Count("pk", filter=overdue)
    counts = Complaint.objects.filter(project__in=projects).aggregate(**aggregates)
    result: dict[str, dict] = {name: {} for name in periods}
    for key, value in counts.items():
        name, kpi = key.split("__", 1)
        result[name][kpi] = value
    return result


def _scope(recipient: User) -> list[str]:
    if recipient.is_manager:
        teams = Team.objects.filter(Q(manager=recipient) | Q(pk=recipient.team_id)).order_by("name")
        return [team.name for team in teams]
    return [str(_("Your own portfolio"))]


def _health_drops(projects: QuerySet[FinancingProject], week: IsoWeek) -> list[Client]:
    """Clients whose health fell most during `week`: the snapshot taken as the week began against
    the one taken as the next week began (or today's score while that week is still running)."""

    def snapshot(of: IsoWeek):
        rows = ClientHealthSnapshot.objects.filter(client=OuterRef("pk"), iso_year=of.year, iso_week=of.week)
        return Cast(Subquery(rows.values("health")[:1]), FloatField())

    live = (
        FinancingProject.objects.filter(client=OuterRef("pk"), status__in=LIVE_STATUSES, health__isnull=False)
        .order_by()
        .values("client")
        .annotate(score=Avg("health"))
        .values("score")[:1]
    )
    in_scope = Exists(projects.filter(client_id=OuterRef("pk")))
    return list(
        Client.objects.filter(in_scope)
        .annotate(
            health_before=snapshot(week),
            health_after=Coalesce(snapshot(week.shift(1)), Subquery(live, output_field=FloatField())),
        )
        .annotate(health_drop=F("health_before") - F("health_after"))
        .filter(health_drop__gt=0)
        .order_by("-health_drop", "name")[:HEALTH_DROP_LIMIT]
    )


def build_digest(*, recipient: User, week: IsoWeek, now: datetime | None = None) -> Digest:
    """Everything one recipient's digest for `week` shows, in their time zone."""
    now = now or timezone.now()
    tz = digest_zone(recipient)
    start, end = week.bounds(tz)
    previous_start = week.shift(-1).bounds(tz)[0]
    coming_start, coming_end = week.shift(1).bounds(tz)
    projects = portfolio_for(recipient)

    with timezone.override(tz):
        # The dashboard's KPIs week by week (one grouped query per source); the last two weeks
        # are the reported week and the one before it.
        weeks = weekly_trend(projects=projects, weeks=TREND_WEEKS, end=start, at=now)
    complaints = complaint_kpis(
        projects=projects, periods={"current": (start, end), "previous": (previous_start, start)}, at=now
    )
    kpis = {**weeks[-1], **complaints["current"]}
    previous = {**weeks[-2], **complaints["previous"]}
    trend = [TrendWeek(row["week"], row["on_time_update_rate"], row["promise_kept_rate"]) for row in weeks]

    open_critical = Alert.objects.filter(
        project__in=projects, resolved_at__isnull=True, severity=AlertSeverity.CRITICAL
    )
    due = Commitment.objects.filter(
        project__in=projects, status=CommitmentStatus.OPEN, due_at__gte=coming_start, due_at__lt=coming_end
    )
    detractors = SurveyResponse.objects.filter(
        invitation__project__in=projects,
        is_detractor=True,
        submitted_at__isnull=False,
        followed_up_at__isnull=True,
    )
    language = digest_language(recipient)
    with translation.override(language):  # the digest's language, not the page's
        scope = _scope(recipient)
    return Digest(
        recipient=recipient,
        week=week,
        language=language,
        tz=tz,
        start=start,
        end=end,
        generated_at=now,
        scope=scope,
        kpis=kpis,
        previous_kpis=previous,
        rows=[KpiRow(spec, kpis.get(spec.key), previous.get(spec.key)) for spec in KPI_SPECS],
        trend=trend,
        critical_alerts=list(
            open_critical.select_related("project__client").order_by("opened_at")[:LIST_LIMIT]
        ),
        critical_alert_count=open_critical.count(),
        due_commitments=list(
            due.select_related("project__client", "owner").order_by("due_at", "pk")[:LIST_LIMIT]
        ),
        due_commitment_count=due.count(),
        health_drops=_health_drops(projects, week),
        detractors=list(
            detractors.select_related("invitation__project__client", "invitation__contact").order_by(
                "submitted_at", "pk"
            )[:LIST_LIMIT]
        ),
        detractor_count=detractors.count(),
    )
