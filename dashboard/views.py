"""Browser pages for staff: RM home, team view, project 360°, client profile and alert actions.

Thin: scope from `finance_projects.selectors`, numbers from `selectors`/`kpis`/`health`, writes
through the services; every page is rendered in the user's time zone."""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import User
from complaints import selectors as complaint_selectors
from complaints.models import RecoveryKind
from feedback import selectors as feedback_selectors
from feedback import services as feedback_services
from finance_projects import alerts as alert_services
from finance_projects import services
from finance_projects.models import (
    AlertKind,
    AlertSeverity,
    Contact,
    FinancingProject,
    ProjectStatus,
    ProjectStatusLink,
    Stage,
)
from finance_projects.selectors import (
    alerts_for,
    can_change_commitment,
    can_edit_project,
    client_projects_for,
    commitments_for,
    get_project_for,
    portfolio_for,
)

from . import display, kpis, selectors
from .forms import (
    AssignForm,
    CommitmentForm,
    FollowUpForm,
    PeriodForm,
    RenegotiateForm,
    ResponseCategoriesForm,
    SnoozeForm,
    StageMoveForm,
    StatusLinkForm,
    TouchpointForm,
    add_service_errors,
    error_text,
)
from .health import Health, band, client_health, compute_health, factor_text
from .labels import KPI_LABELS, KPI_UNITS, LOWER_IS_BETTER
from .project_page import PAGE_FORMS, blank_form, form_context, project_context
from .project_responses import RESPONSE_ACTIONS, SentBack
from .sql import Scope

PAGE_SIZE = 25
RECOVERY_ACTION_LIST_LIMIT = 50  # the home page's list of the user's recovery actions
ALERTS_PAGE = "alerts_page"  # the query parameter of the alert list's page, beside the portfolio's
ALERTS_SHOW = "alerts"  # the query parameter of which alerts the list shows (`ALERT_LIST_SHOWS`)
MY_ALERT_LISTS = ("open", "snoozed")  # the RM's own: open, or snoozed
TEAM_ALERT_LISTS = ("open", "snoozed", "escalated")  # the team's: and those escalated to its manager
LIVE_STATUSES = {ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD}
PORTFOLIO_COLUMNS = [
    ("client", _lazy("Client")),
    ("project", _lazy("Project")),
    ("stage", _lazy("Stage")),
    ("days", _lazy("Days in stage")),
    ("update", _lazy("Last client update")),
    ("commitment", _lazy("Next commitment")),
    ("complaints", _lazy("Open complaints")),
    ("nps", "NPS"),
    ("health", _lazy("Health")),
]


def in_user_zone(view):
    """Log-in required; dates on the page are shown in the user's own time zone."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(request.user.zone):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

    return wrapper


def _unscored_health(rows: list[tuple[int, str, int | None]], *, at) -> dict[int, Health]:
    """Live scores for the live projects shown that the refresh has not scored yet (new ones): a
    fixed number of queries, and none once every row has its stored score."""
    missing = [pk for pk, status, health in rows if health is None and status in LIVE_STATUSES]
    return compute_health(projects=FinancingProject.objects.filter(pk__in=missing), at=at) if missing else {}


def _portfolio_context(request, scope: Scope) -> dict:
    """One page of the portfolio table. The health shown is the stored score of the last refresh,
    the one the table filters and sorts by; the project page scores live."""
    filters = selectors.PortfolioFilters.from_query(request.GET)
    now = timezone.now()
    rows = selectors.PortfolioTable(scope, filters=filters, at=now)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    project_url, client_url = display.id_link("dashboard:project"), display.id_link("dashboard:client")
    stages, people = display.choice_labels(Stage.choices), display.People()
    rows_shown = page.object_list
    fresh = _unscored_health([(row["pk"], row["status"], row["health"]) for row in rows_shown], at=now)
    shown = []
    for row in rows_shown:
        if row["pk"] in fresh:
            row["health"], row["health_factors"] = fresh[row["pk"]].score, fresh[row["pk"]].factors
        days = (now - row["stage_entered_at"]).days
        shown.append(
            {
                **row,
                "url": project_url(row["pk"]),
                "client_url": client_url(row["client_id"]),
                "rm": people.name(
                    row["relationship_manager__first_name"],
                    row["relationship_manager__last_name"],
                    row["relationship_manager__username"],
                ),
                "stage_label": stages.get(row["stage"], row["stage"]),
                "days_in_stage": days,
                # The scans' rules to the second, not the whole days shown beside them.
                "overrun": selectors.stage_overrun(
                    status=row["status"],
                    entered_at=row["stage_entered_at"],
                    expected_days=row["expected_days"],
                    at=now,
                ),
                "last_update": display.local(row["last_client_update_at"], "Y-m-d"),
                "update_overdue": selectors.update_overdue(
                    status=row["status"], next_update_due_at=row["next_update_due_at"], at=now
                ),
                "commitment_title": display.truncate(row["next_commitment_title"], 40),
                "commitment_due": display.local(row["next_commitment_at"], "Y-m-d H:i"),
                "band": band(row["health"]),
                "health_title": display.health_title(row["health_factors"]),
            }
        )
    page.object_list = shown
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    sort_query.pop("sort", None)
    sort_query.pop("page", None)
    return {
        "page": page,
        "columns": PORTFOLIO_COLUMNS,
        "filters": filters,
        "stages": Stage.choices,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
    }


@in_user_zone
def home(request):
    user = request.user
    scope = Scope.of(user)
    context = _portfolio_context(request, scope)
    if request.htmx and request.htmx.target == "portfolio":
        return render(request, "dashboard/partials/portfolio_table.html", context)
    show = _alert_show(request, MY_ALERT_LISTS)
    alerts = selectors.open_alerts(scope, mine_only=True, show=show, page=request.GET.get(ALERTS_PAGE))
    # The assign menus are only shown on alerts: no alerts, no colleagues to read.
    people = _assign_menu_people(user) if alerts.object_list else []
    limit = selectors.COMMITMENT_LIST_LIMIT
    commitments = _due_this_week(scope, limit=limit)
    overdue, this_week = (
        [row for row in commitments if row["before_week"] == before] for before in (True, False)
    )
    actions = _open_recovery_actions(user, limit=RECOVERY_ACTION_LIST_LIMIT)
    context.update(
        _alert_list(request, alerts, people=people, mine_only=True, show=show),
        recovery_actions=actions[:RECOVERY_ACTION_LIST_LIMIT],
        recovery_actions_cut=len(actions) > RECOVERY_ACTION_LIST_LIMIT,
        # A list cut at the limit says so in its count ("50+").
        overdue_commitments=overdue[:limit],
        overdue_cut=len(overdue) > limit,
        commitments=this_week[:limit],
        commitments_cut=len(this_week) > limit,
        responses=_responses(scope),
        export_base=reverse("dashboard:export-portfolio", args=["csv"]),
        # A manager's (or an administrator's) portfolio is the team's: the lists say so.
        team_scope=user.may_view_team,
    )
    return render(request, "dashboard/home.html", context)


def _open_recovery_actions(user: User, *, limit: int) -> list[dict]:
    """The recovery actions handed to the user and not done yet, soonest due first, each linking
    to its complaint's page: one query, for at most `limit` + 1 rows (the one more says the list
    was cut). Whoever owns actions has them here, whatever their role: the portfolio's scope
    does not matter, holding the action opens its complaint."""
    complaint_url, kinds = display.id_link("complaints:detail"), display.choice_labels(RecoveryKind.choices)
    now = timezone.now()
    rows = complaint_selectors.open_recovery_actions_of(user).values(
        "pk",
        "kind",
        "description",
        "due_at",
        "complaint_id",
        "complaint__reference",
        "complaint__project__name",
        "complaint__project__code",
    )[: limit + 1]
    return [
        {
            **row,
            "url": complaint_url(row["complaint_id"]),
            "kind_label": kinds.get(row["kind"], row["kind"]),
            "text": display.truncate(row["description"], 120),
            "late": row["due_at"] < now,
            "due": display.local(row["due_at"], "Y-m-d H:i"),
        }
        for row in rows
    ]


def _response_link(project_url, project_id: int, response_id: int) -> str:
    """The response itself on its project's page (its `response-<id>` anchor)."""
    return f"{project_url(project_id)}#response-{response_id}"


def _responses(scope: Scope) -> list[dict]:
    project_url = display.id_link("dashboard:project")
    return [
        {
            **row,
            "url": _response_link(project_url, row["project_id"], row["pk"]),
            "tone": display.score_tone("nps", row["nps"]),
            "day": display.local(row["submitted_at"], "m-d"),
            "quote": display.truncate(row["comment"], 120),
        }
        for row in selectors.recent_responses(scope)
    ]


def _due_this_week(scope: Scope, *, limit: int) -> list[dict]:
    """The open commitments due this week on the projects of the portfolio shown beside them
    (`scope`: a manager's are the team's), and (`before_week`) those still open that fell due
    before it, oldest first: one query."""
    project_url, people = display.id_link("dashboard:project"), display.People()
    now = timezone.now()
    week_start, _week_end = selectors.week_bounds(user=scope.user, at=now)
    return [
        {
            **row,
            "url": project_url(row["project_id"]),
            "late": row["due_at"] < now,
            "before_week": row["due_at"] < week_start,
            "due": display.local(row["due_at"], "Y-m-d H:i" if row["due_at"] < week_start else "D m-d H:i"),
            "owner": people.name(row["owner__first_name"], row["owner__last_name"], row["owner__username"]),
        }
        for row in selectors.commitments_due_this_week(
            scope, mine_only=False, with_overdue=True, at=now, limit=limit
        )
    ]


def _require_team_view(user):
    if not user.may_view_team:
        raise PermissionDenied


@in_user_zone
def team(request):
    user = request.user
    _require_team_view(user)
    scope = Scope.of(user)
    context = _portfolio_context(request, scope)
    context["period_form_on_page"] = True
    if request.htmx and request.htmx.target == "portfolio":
        return render(request, "dashboard/partials/portfolio_table.html", context)
    period = PeriodForm(request.GET or None)
    days = (period.cleaned_data.get("days") if period.is_valid() else None) or 30
    # Whole days in the user's zone, today included: the days the label names, as the API reads them.
    previous_start, start, end = kpis.period_bounds(days=days, tz=user.zone)
    first_day, last_day = kpis.period_days(start, end, tz=user.zone)
    projects = portfolio_for(user)
    report = kpis.team_report(
        projects=projects, previous_start=previous_start, start=start, end=end, weeks=12
    )
    by_rm, trend = report.by_rm, report.trend
    # Named from the RMs of the projects in view, whoever looks: an administrator has no team.
    people = kpis.relationship_managers(projects)
    rm_rows = [
        {
            "user": people.get(pk),
            "user_id": pk,
            "filter_query": _portfolio_filter_query(request, rm=pk),
            "projects": people[pk].project_count if pk in people else 0,
            **values,
        }
        for pk, values in sorted(by_rm.items(), key=lambda item: str(people.get(item[0], "")))
    ]
    show = _alert_show(request, TEAM_ALERT_LISTS)
    alerts = selectors.open_alerts(scope, mine_only=False, show=show, page=request.GET.get(ALERTS_PAGE))
    context.update(
        period=period,
        days=days,
        start=start,
        end=end,
        first_day=first_day,
        last_day=last_day,
        kpi_rows=_kpi_rows(report.current, report.previous),
        rm_rows=rm_rows,
        people=sorted(people.values(), key=str),
        chart_data=_trend_chart(trend),
        **_alert_list(
            request,
            alerts,
            people=_assign_menu_people(user) if alerts.object_list else [],
            mine_only=False,
            show=show,
        ),
        **_feedback_tables(projects=projects, start=start, end=end, tz=user.zone),
        export_base=reverse("dashboard:export-portfolio", args=["csv"]),
    )
    return render(request, "dashboard/team.html", context)


def _trend_chart(trend: list[dict]) -> dict:
    """The weekly series of the team page's charts. NPS and CSAT each against their whole scale,
    NPS from -100 once a week is negative; counts on an axis of their own (a chart apart)."""
    nps_floor = -100 if any(week["nps"] is not None and week["nps"] < 0 for week in trend) else 0
    return {
        "labels": [week["week"].isoformat() for week in trend],
        "series": {key: [week[key] for week in trend] for key in kpis.KPI_KEYS},
        "names": {key: str(label) for key, label in KPI_LABELS.items()},
        "axes": {
            "nps": {"min": nps_floor, "max": 100},
            "csat": {"min": 0, "max": 100},
            "missed_commitments": {"min": 0, "integer": True},
        },
    }


def _portfolio_filter_query(request, **params) -> str:
    """The page's query string with `params` set: the period and every other parameter kept, but
    the portfolio's page number, which a new filter starts again from."""
    query = request.GET.copy()
    query.pop("page", None)
    for name, value in params.items():
        query[name] = value
    return query.urlencode()


# A figure resting on fewer answers than this is shown greyed out.
SMALL_SAMPLE = 5


def _feedback_tables(*, projects, start, end, tz) -> dict:
    """Client feedback of the period by RM and by stage: the figures `/api/v1/metrics/` gives
    (`survey_metrics`, two queries per table whatever the data size), each score marked when
    it rests on fewer than `SMALL_SAMPLE` answers."""

    def rows(group_by: str) -> list[dict]:
        metrics = feedback_selectors.survey_metrics(
            projects=projects, group_by=group_by, start=start, end=end, tz=tz
        )
        return [
            {
                **row,
                **{
                    score: {**row[score], "small": 0 < row[score]["n"] < SMALL_SAMPLE}
                    for score in ("nps", "csat", "ces")
                },
            }
            for row in metrics
        ]

    by_rm = sorted(rows("rm"), key=lambda row: row["label"].casefold())
    by_stage = [
        {**row, "label": Stage(row["group"]).label} if row["group"] in Stage.values else row
        for row in rows("stage")
    ]
    by_stage.sort(key=lambda row: Stage.order(row["group"]) if row["group"] in Stage.values else len(Stage))
    return {"feedback_by_rm": by_rm, "feedback_by_stage": by_stage, "small_sample": SMALL_SAMPLE}


def _kpi_rows(current: dict, previous: dict) -> list[dict]:
    rows = []
    for key in kpis.KPI_KEYS:
        now_value, before = current[key], previous[key]
        delta = None if now_value is None or before is None else round(now_value - before, 1)
        better = None
        if delta:
            better = (delta < 0) if key in LOWER_IS_BETTER else (delta > 0)
        rows.append(
            {
                "key": key,
                "label": KPI_LABELS[key],
                "unit": KPI_UNITS[key],
                "value": now_value,
                "previous": before,
                "delta": delta,
                "better": better,
            }
        )
    return rows


# --- Alerts: acknowledge / snooze / assign in place (HTMX) ---------------------------------


def _alert_show(request, shows: tuple[str, ...]) -> str:
    """Which of `shows` the page's alert list shows (`?alerts=`): the open alerts unless told."""
    show = request.GET.get(ALERTS_SHOW, "")
    return show if show in shows else "open"


def _alert_list(request, alerts: Page, *, people: list[User], mine_only: bool, show: str) -> dict:
    """The context `alerts.html` needs: the rows of the page shown and `_alert_page` of it."""
    query = request.GET.copy()
    query.pop(ALERTS_PAGE, None)
    return {
        **_alert_rows(alerts.object_list, people=people),
        **_alert_page(alerts, alerts_list=f"{'mine' if mine_only else 'team'}:{show}", query=query),
        "back": request.get_full_path(),  # where an action without HTMX comes back to
    }


def _alert_page(alerts: Page, *, alerts_list: str, query) -> dict:
    """What the alert list says around its rows: the page itself (its summary line, its page
    links, the empty state) and the query its links keep (`query`: the page's, without the alert
    page number), the count and the links to the other lists (`_alert_counts`). The page and an
    action's answer (`_alert_row`) both draw it from here."""
    return {
        **_alert_counts(
            alerts_list=alerts_list,
            total=alerts.paginator.count,
            counts=alerts.paginator.object_list.counts(),
            query=query,
        ),
        "alerts_page": alerts,
        "alerts_query": query.urlencode(),
    }


def _parse_alerts_list(value: str) -> tuple[bool, str] | None:
    """`mine:open`, `team:escalated`...: (mine_only, show) of a list; None for anything else."""
    whose, _sep, show = value.partition(":")
    shows = MY_ALERT_LISTS if whose == "mine" else TEAM_ALERT_LISTS if whose == "team" else ()
    return (whose == "mine", show) if show in shows else None


def _alert_counts(*, alerts_list: str, total: int, query, counts: dict[str, int]) -> dict:
    """The count of the list shown (`total`), how many of the user's alerts (or the team's) are
    snoozed or escalated (`counts`), and the links to those lists, which keep the rest of the
    page's `query` (a QueryDict without the alert page)."""
    mine_only, show = _parse_alerts_list(alerts_list)
    query = query.copy()
    query.pop(ALERTS_SHOW, None)
    base = query.urlencode()

    def url(list_show: str) -> str:
        params = f"{base}&" if base else ""
        return f"?{params}{ALERTS_SHOW}={list_show}#alerts" if list_show != "open" else f"?{base}#alerts"

    links = [
        {
            "show": "snoozed",
            "url": url("snoozed"),
            "current": show == "snoozed",
            "label": ngettext("%(n)d snoozed", "%(n)d snoozed", counts["snoozed"]) % {"n": counts["snoozed"]},
        }
    ]
    if not mine_only:
        links.append(
            {
                "show": "escalated",
                "url": url("escalated"),
                "current": show == "escalated",
                "label": ngettext("%(n)d escalated", "%(n)d escalated", counts["escalated"])
                % {"n": counts["escalated"]},
            }
        )
    return {
        "alerts_total": total,
        "alerts_list": alerts_list,
        "alerts_show": show,
        "alerts_open_url": url("open") if show != "open" else "",
        # A list is offered when it holds an alert, or is the one shown.
        "alerts_links": [link for link in links if link["current"] or counts[link["show"]]],
        "snoozed": counts["snoozed"],
        "escalated": counts["escalated"],
    }


def _alert_rows(alerts: list[dict], *, people: list[User]) -> dict:
    """Links, labels and the options of the snooze and assign menus of every alert shown, built
    once for the list; the context `alert_row.html` needs. An alert's assign menu offers those of
    `people` who can see its project: the only ones the assign service accepts."""
    project_url = display.id_link("dashboard:project")
    actions = {
        name: display.id_link("dashboard:alert-action", name)
        for name in ("acknowledge", "snooze", "unsnooze", "assign")
    }
    kinds, severities = display.choice_labels(AlertKind.choices), display.choice_labels(AlertSeverity.choices)
    names, people_names = display.People(), {person.pk: str(person) for person in people}
    assignees = selectors.assignees_by_project(
        people=people, project_ids=[alert["project_id"] for alert in alerts]
    )
    responses = _alerted_responses(alerts)
    now = timezone.now()
    # One menu for each project and current assignee, however many alerts share them.
    menus: dict[tuple[int, int | None], str] = {}
    for alert in alerts:
        menu = (alert["project_id"], alert["assignee_id"])
        if menu not in menus:
            menus[menu] = _assign_options(
                assignees[alert["project_id"]], names=people_names, selected=alert["assignee_id"]
            )
        snoozed_until = alert["snoozed_until"]
        alert.update(
            escalated=display.local(alert["escalated_at"], "Y-m-d H:i"),
            snoozed=display.local(snoozed_until, "Y-m-d H:i")
            if snoozed_until and snoozed_until > now
            else "",
            link=_response_link(project_url, alert["project_id"], responses[alert["pk"]])
            if alert["pk"] in responses
            else project_url(alert["project_id"]),
            urls={name: url(alert["pk"]) for name, url in actions.items()},
            kind_label=kinds.get(alert["kind"], alert["kind"]),
            severity_label=severities.get(alert["severity"], alert["severity"]),
            assignee=names.name(
                alert["assignee__first_name"], alert["assignee__last_name"], alert["assignee__username"]
            ),
            assignee_options=menus[menu],
        )
    return {
        "alerts": alerts,
        "snooze_options": format_html_join(
            "", '<option value="{}">{}</option>', SnoozeForm.base_fields["hours"].choices
        ),
        "now": now,
    }


# Alerts about one survey response (`subject_id`), which their link opens on the project page.
RESPONSE_ALERT_KINDS = (AlertKind.DETRACTOR_RESPONSE, AlertKind.CONTACT_REQUEST)


def _alerted_responses(alerts: list[dict]) -> dict[int, int]:
    """Alert id → survey response id, for the alerts shown that are about a response: one query
    when there are any, none otherwise."""
    ids = [alert["pk"] for alert in alerts if alert["kind"] in RESPONSE_ALERT_KINDS]
    if not ids:
        return {}
    return feedback_selectors.responses_alerted(ids)


def _assign_options(people: list[User], *, names: dict[int, str], selected: int | None) -> str:
    """The `<option>`s of an assign menu: `people` by their `names`, `selected` chosen."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (person.pk, mark_safe(" selected") if person.pk == selected else "", names[person.pk])
            for person in people
        ),
    )


def _safe_back(request) -> str:
    """The `next` of the form when it is a page of this site, else ""."""
    back = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return back if allowed else ""


def _assign_menu_people(user: User) -> list[User]:
    """Whom the user's assign menus offer: none for department staff, who reassign nothing
    (`alert_assign`)."""
    return [] if user.is_department_staff else selectors.assignable_users(user=user)


def _alert_row(request, alert, *, error: str = "", status: str = ""):
    """The alert's row redrawn after an action, for HTMX. Told which list the row is in (the
    form's `alerts_list`), the answer also updates the list's count, links, summary line, page
    links and empty state out of band, as the page the form came from (`next`) would draw them
    now, and drops the row when it no longer belongs to the list (snoozed, handed to someone
    else...), saying what was done in the list's status line: the page's rows are then drawn
    again, so those of the next page move up, as on the page reloaded."""
    shown = _parse_alerts_list(request.POST.get("alerts_list", ""))
    scope = Scope.of(request.user)
    listed = shown is None or bool(error)
    if not listed:
        mine_only, show = shown
        listed = selectors.alert_listed(scope, pk=alert.pk, mine_only=mine_only, show=show)
    context = {"listed": listed, "alerts_status": status}
    if listed:
        row = selectors.alert_rows(alerts_for(request.user).filter(pk=alert.pk)).get()
        context.update(_alert_rows([row], people=_assign_menu_people(request.user)))
        context.update(alert=row, error=error)
    if shown is not None:
        mine_only, show = shown
        query = QueryDict(urlsplit(_safe_back(request)).query, mutable=True)
        number = query.pop(ALERTS_PAGE, [None])[-1]
        # The page as `home` and `team` read it: its rows carry the counts, one query.
        alerts = selectors.open_alerts(scope, mine_only=mine_only, show=show, page=number)
        context.update(_alert_page(alerts, alerts_list=request.POST["alerts_list"], query=query))
        if not listed:
            # The row left: the page's rows are drawn again, so those of the next page move up
            # into it, and a page emptied in place shows the last page there is.
            rows = list(alerts.object_list)
            context.update(_alert_rows(rows, people=_assign_menu_people(request.user) if rows else []))
    context["back"] = _safe_back(request)
    return render(request, "dashboard/partials/alert_action.html", context)


def _alert_status(alert, action: str, *, until=None, assignee: User | None = None) -> str:
    """What an action did, in a sentence for the list's status line or the page's message."""
    project = alert.project.code
    if action == "acknowledge":
        return _("Acknowledged the alert on %(project)s.") % {"project": project}
    if action == "snooze":
        return _("Snoozed the alert on %(project)s until %(until)s.") % {
            "project": project,
            "until": display.local(until, "Y-m-d H:i"),
        }
    if action == "unsnooze":
        return _("Ended the snooze: the alert on %(project)s is open again.") % {"project": project}
    return _("Assigned the alert on %(project)s to %(name)s.") % {"project": project, "name": assignee}


@require_POST
@in_user_zone
def alert_action(request, pk: int, action: str):
    alert = get_object_or_404(alerts_for(request.user).select_related("project"), pk=pk)
    error = status = ""
    try:
        if action == "acknowledge":
            alert_services.alert_acknowledge(alert=alert, by=request.user)
            status = _alert_status(alert, action)
        elif action == "snooze":
            form = SnoozeForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"until": _("Choose how long to snooze.")})
            until = timezone.now() + timedelta(hours=form.cleaned_data["hours"])
            alert_services.alert_snooze(alert=alert, until=until, by=request.user)
            status = _alert_status(alert, action, until=until)
        elif action == "unsnooze":
            alert_services.alert_unsnooze(alert=alert, by=request.user)
            status = _alert_status(alert, action)
        elif action == "assign":
            users = selectors.assignable_users(user=request.user)
            form = AssignForm(request.POST, users=User.objects.filter(pk__in=[u.pk for u in users]))
            if not form.is_valid():
                raise ValidationError({"assignee": _("Choose someone to assign the alert to.")})
            assignee = form.cleaned_data["assignee"]
            alert_services.alert_assign(alert=alert, assignee=assignee, by=request.user)
            status = _alert_status(alert, action, assignee=assignee)
        else:
            raise Http404
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:
        if error:  # shown on the page the browser goes back to
            messages.error(request, error)
        else:
            messages.success(request, status)
        return redirect(_safe_back(request) or "dashboard:home")
    return _alert_row(request, alert, error=error, status=status)


# --- Project 360° ---------------------------------------------------------------------------


@in_user_zone
def project_detail(request, pk: int):
    """The page; `?form=<name>` opens one of its side forms: alone for HTMX (the user opened the
    section), in the whole page otherwise."""
    project = get_project_for(request.user, pk)
    open_form = request.GET.get("form", "")
    if open_form not in PAGE_FORMS:
        open_form = ""
    if open_form and not can_edit_project(request.user, project):
        raise PermissionDenied
    if open_form and request.htmx:
        form = blank_form(open_form, project=project, user=request.user, at=timezone.now())
        return render(
            request, "dashboard/partials/project_form.html", form_context(request, project, open_form, form)
        )
    return render(request, "dashboard/project.html", project_context(request, project, open_form=open_form))


@require_POST
@in_user_zone
def project_action(request, pk: int, action: str):
    """Every write from the project page; on a rule violation the page is shown again with the
    error next to the field and nothing saved."""
    project = get_project_for(request.user, pk)
    if not can_edit_project(request.user, project):
        raise PermissionDenied
    if action in RESPONSE_ACTIONS:
        return _response_action(request, project, action)
    user = request.user
    forms = {}
    shown_token = None
    try:
        if action == "touchpoint":
            form = forms["touchpoint_form"] = TouchpointForm(request.POST, project=project)
            if form.is_valid():
                data = form.cleaned_data
                services.touchpoint_log(project=project, logged_by=user, **data)
                return _back(project, _("Touchpoint logged."), request)
        elif action == "commitment":
            owners = selectors.commitment_owners(project)
            form = forms["commitment_form"] = CommitmentForm(request.POST, owners=owners)
            if form.is_valid():
                services.commitment_create(project=project, created_by=user, **form.cleaned_data)
                return _back(project, _("Commitment added."), request)
        elif action == "stage":
            form = forms["stage_form"] = StageMoveForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                services.project_move_stage(
                    project=project,
                    to_stage=data["to_stage"],
                    moved_by=user,
                    override=data["override"],
                    note=data["note"],
                )
                return _back(project, _("Stage moved."), request)
        elif action == "status_link":
            form = forms["status_link_form"] = StatusLinkForm(request.POST, project=project)
            if form.is_valid():
                _link, token = services.status_link_create(
                    project=project,
                    contact=form.cleaned_data["contact"],
                    created_by=user,
                    days=form.cleaned_data["days"],
                    request_key=form.cleaned_data["request_key"],
                )
                del forms["status_link_form"]  # the next one shown asks for another link
                shown_token = request.build_absolute_uri(reverse("dashboard:status-page", args=[token]))
        else:
            raise Http404
    except ValidationError as exc:
        add_service_errors(form, exc, aliases={"stage": "to_stage", "days": "days"})
        if isinstance(form, StatusLinkForm):
            form.renew_request_key()
    context = project_context(request, project, **forms)
    context["new_status_url"] = shown_token
    status = 200 if shown_token else 400
    return render(request, "dashboard/project.html", context, status=status)


def _back(project, message, request):
    messages.success(request, message)
    return redirect("dashboard:project", pk=project.pk)


def _response_action(request, project, action: str):
    """Correct the failure categories of one of the project's survey responses, or record the
    follow-up with its client: the response named by `response` in the form, 404 when it is not
    one of the project's submitted responses (the caller may act on the project: checked above).
    Bad input: the page again (400) with a message naming the field, the form open, nothing saved."""
    response_id = selectors.parse_id(request.POST.get("response", ""))
    survey_response = (
        feedback_selectors.responses_for(request.user)
        .filter(pk=response_id, invitation__project_id=project.pk)
        .first()
        if response_id is not None
        else None
    )
    if survey_response is None:
        raise Http404
    form = (ResponseCategoriesForm if action == "categories" else FollowUpForm)(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "categories":
                feedback_services.response_set_categories(
                    response=survey_response, categories=data["categories"], by=request.user
                )
                done = _("Failure categories saved.")
            else:
                feedback_services.response_record_follow_up(
                    response=survey_response,
                    by=request.user,
                    contacted_at=data["contacted_at"],
                    outcome=data["outcome"],
                )
                done = _("Follow-up recorded.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            url = reverse("dashboard:project", args=[project.pk])
            return redirect(f"{url}#response-{survey_response.pk}")
    error = _("Nothing was saved. %(errors)s") % {"errors": error_text(form)}
    messages.error(request, error)
    if action == "categories":
        sent = {"categories": request.POST.getlist("categories")}
    else:
        sent = {name: request.POST.get(name, "") for name in ("contacted_at", "outcome")}
    sent_back = SentBack(response_id=survey_response.pk, action=action, error=error, data=sent)
    context = project_context(request, project, response_sent_back=sent_back)
    return render(request, "dashboard/project.html", context, status=400)


@require_POST
@in_user_zone
def commitment_action(request, pk: int, action: str):
    commitment = get_object_or_404(commitments_for(request.user).select_related("project"), pk=pk)
    project = get_project_for(request.user, commitment.project_id)
    if not can_change_commitment(request.user, commitment):
        raise PermissionDenied
    renegotiate_form = None
    try:
        if action == "fulfil":
            services.commitment_fulfil(commitment=commitment, by=request.user)
            return _back(project, _("Commitment fulfilled."), request)
        if action == "renegotiate":
            renegotiate_form = RenegotiateForm(request.POST, commitment_pk=commitment.pk)
            if renegotiate_form.is_valid():
                services.commitment_renegotiate(
                    commitment=commitment, by=request.user, **renegotiate_form.cleaned_data
                )
                return _back(project, _("New due date agreed."), request)
        else:
            raise Http404
    except ValidationError as exc:
        if renegotiate_form is None:
            renegotiate_form = RenegotiateForm(commitment_pk=commitment.pk)
        add_service_errors(renegotiate_form, exc)
    context = project_context(
        request, project, renegotiate_form=renegotiate_form, renegotiating=commitment.pk
    )
    return render(request, "dashboard/project.html", context, status=400)


@require_POST
@in_user_zone
def status_link_revoke(request, pk: int):
    link = get_object_or_404(ProjectStatusLink.objects.filter(project__in=portfolio_for(request.user)), pk=pk)
    project = get_project_for(request.user, link.project_id)
    if not can_edit_project(request.user, project):
        raise PermissionDenied
    services.status_link_revoke(link=link)
    return _back(project, _("Link revoked."), request)


# --- Client profile -------------------------------------------------------------------------

# Reasons shown under each project of the client's health, the worst first.
HEALTH_REASONS_SHOWN = 5


def _client_health_projects(projects: list[dict]) -> list[dict]:
    """What the client's health is made of: each scored project (the client's score is their
    average) with its own score and the points its problems took off, the weakest project first."""
    scored = [project for project in projects if project["health"] is not None]
    scored.sort(key=lambda project: (project["health"], project["code"] or ""))
    return [
        {
            "code": project["code"],
            "name": project["name"],
            "url": project["url"],
            "score": project["health"],
            "band": band(project["health"]),
            "reasons": [factor_text(f) for f in project["health_factors"] or []][:HEALTH_REASONS_SHOWN],
        }
        for project in scored
    ]


@in_user_zone
def client_detail(request, pk: int):
    now = timezone.now()
    scope = Scope.of(request.user, client_projects_for(request.user, pk))
    client, projects = selectors.client_page(scope, pk=pk, at=now)
    if client is None:
        raise Http404
    client["relationship_manager"] = display.People().name(
        client["rm_first_name"], client["rm_last_name"], client["rm_username"]
    )
    # The stored scores of the last refresh, as on the portfolio; closed and lost deals have none.
    fresh = _unscored_health([(p["pk"], p["status"], p["health"]) for p in projects], at=now)
    project_url = display.id_link("dashboard:project")
    stages = display.choice_labels(Stage.choices)
    statuses = display.choice_labels(ProjectStatus.choices)
    scores = {}
    for project in projects:
        if project["pk"] in fresh:
            live = fresh[project["pk"]]
            project["health"], project["health_factors"] = live.score, live.factors
        if project["health"] is not None:
            scores[project["pk"]] = Health(score=project["health"], factors=project["health_factors"])
        project.update(
            url=project_url(project["pk"]),
            stage_label=stages.get(project["stage"], project["stage"]),
            status_label=statuses.get(project["status"], project["status"]),
            money=f"{project['amount']:,.2f} {project['currency']}",
            commitment_title=display.truncate(project["next_commitment_title"], 40),
            commitment_due=display.local(project["next_commitment_at"], "Y-m-d"),
            band=band(project["health"]),
            health_title=display.health_title(project["health_factors"]),
        )
    project_ids = [p["pk"] for p in projects]
    clients = dict.fromkeys(project_ids, client["pk"])
    overall = client_health(scores=scores, project_clients=clients).get(client["pk"])
    complaints = selectors.complaint_history(project_ids, limit=50)
    if complaints:
        complaint = selectors.model("complaints.Complaint")
        categories = display.choice_labels(complaint._meta.get_field("category").choices)
        statuses = display.choice_labels(complaint._meta.get_field("status").choices)
        for row in complaints:
            row.update(
                received=display.local(row["received_at"], "Y-m-d"),
                category_label=categories.get(row["category"], row["category"]),
                status_label=statuses.get(row["status"], row["status"]),
            )
    contacts = selectors.client_contacts(client["pk"])
    languages = display.choice_labels(Contact._meta.get_field("language").choices)
    for contact in contacts:
        contact["language_label"] = languages.get(contact["language"], contact["language"])
    # The projects listed above are exactly the client's projects the user may see.
    satisfaction = selectors.satisfaction_points(projects=project_ids, limit=50)
    return render(
        request,
        "dashboard/client.html",
        {
            "client": client,
            "projects": projects,
            "contacts": contacts,
            "health": overall,
            "health_projects": _client_health_projects(projects),
            "complaints": complaints,
            "responses": satisfaction,
            "chart_data": {
                "labels": [row["at"] for row in satisfaction],
                "series": {
                    "nps": [row["nps"] for row in satisfaction],
                    "csat": [row["csat"] for row in satisfaction],
                },
                "names": {"nps": "NPS", "csat": "CSAT"},
                # Each score against its whole scale (NPS 0–10, CSAT 1–5), each on its own axis.
                "axes": {"nps": {"min": 0, "max": 10}, "csat": {"min": 1, "max": 5}},
            },
        },
    )
