"""Portfolio and KPI tables as CSV (streamed in chunks) and XLSX (pandas + openpyxl).

Exports use the same scope and filters as the pages: what the viewer sees is what they get."""

import csv
from collections.abc import Iterator

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cem.spreadsheets import csv_row, xlsx_bytes
from finance_projects.models import Stage
from finance_projects.selectors import portfolio_for

from . import display, kpis, selectors
from .labels import KPI_LABELS, KPI_UNITS
from .sql import Scope

CHUNK = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value):
        return value


def _local(moment, zone=None) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def portfolio_columns(zone=None) -> list[str]:
    """The headings; a moment's names the time zone its cells are in (a spreadsheet keeps none)."""
    zone = zone or timezone.get_current_timezone()
    last_update, commitment_due = _("Last client update"), _("Next commitment due")
    return [
        _("Client"),
        _("Code"),
        _("Project"),
        _("Stage"),
        _("Days in stage"),
        _("Expected days"),
        f"{last_update} ({zone})",
        _("Next commitment"),
        f"{commitment_due} ({zone})",
        _("Open complaints"),
        _("NPS"),
        _("Health"),
        _("Relationship manager"),
        _("Amount"),
        _("Currency"),
    ]


def portfolio_records(request, *, as_text: bool = True) -> Iterator[list]:
    """The rows of the viewer's portfolio table, every page of it, in its filters and order;
    moments in the viewer's zone, as text (CSV) or as date-times without a zone (XLSX).

    Read while the response streams, after the view has returned: the time zone is taken now."""
    filters = selectors.PortfolioFilters.from_query(request.GET)
    table = selectors.PortfolioTable(Scope.of(request.user), filters=filters)
    stages = dict(Stage.choices)
    zone = timezone.get_current_timezone()
    now = timezone.now()
    people = display.People()

    def local(moment):
        if as_text:
            return _local(moment, zone)
        return timezone.localtime(moment, zone).replace(tzinfo=None) if moment else None

    return (
        [
            project["client__name"],
            project["code"],
            project["name"],
            str(stages.get(project["stage"], project["stage"])),
            (now - project["stage_entered_at"]).days,
            project["expected_days"],
            local(project["last_client_update_at"]),
            project["next_commitment_title"] or "",
            local(project["next_commitment_at"]),
            project["open_complaints"],
            project["latest_nps"],
            project["health"],
            _person(project, people),
            project["amount"],
            project["currency"],
        ]
        for project in table.stream(chunk_size=CHUNK)
    )


def _person(project: dict, people: display.People) -> str:
    """The relationship manager as `str(User)` shows them (王伟, Grace Ho)."""
    return people.name(
        project["relationship_manager__first_name"],
        project["relationship_manager__last_name"],
        project["relationship_manager__username"],
    )


def _stream_csv(name: str, header: list[str], records: Iterator[list]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8 (Chinese names)
        yield writer.writerow(csv_row(header))
        for record in records:
            yield writer.writerow(csv_row(record))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _xlsx(name: str, frames: dict[str, pd.DataFrame]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(frames), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
def portfolio_export(request, fmt: str):
    with timezone.override(request.user.zone):
        stamp = timezone.localdate().isoformat()
        if fmt == "csv":
            return _stream_csv(f"portfolio-{stamp}", portfolio_columns(), portfolio_records(request))
        if fmt == "xlsx":
            frame = pd.DataFrame(list(portfolio_records(request, as_text=False)), columns=portfolio_columns())
            return _xlsx(f"portfolio-{stamp}", {_("Portfolio"): frame})
    raise Http404


def kpi_name(key: str) -> str:
    """A KPI's name with its unit where the name does not say it: "%" for a rate, "count" for a
    number of things."""
    if KPI_UNITS[key] == "%":
        return _("%(kpi)s (%%)") % {"kpi": KPI_LABELS[key]}
    if key == "missed_commitments":
        return _("%(kpi)s (count)") % {"kpi": KPI_LABELS[key]}
    return str(KPI_LABELS[key])


def _days(start, end, zone) -> str:
    first, last = kpis.period_days(start, end, tz=zone)
    return f"{first.isoformat()} – {last.isoformat()}"


def kpi_tables(request) -> tuple[list[str], list[list], list[str], list[list]]:
    """The KPI table (this period beside the previous one) and the per-RM table: the team page's
    figures, over the same whole days in the user's time zone. The headings name the teams
    covered and the days of each period; each KPI's name its unit."""
    days = {"7": 7, "30": 30, "90": 90}.get(request.GET.get("days", ""), 30)
    zone = request.user.zone
    previous_start, start, end = kpis.period_bounds(days=days, tz=zone)
    projects = portfolio_for(request.user)
    current = kpis.team_kpis(projects=projects, start=start, end=end)
    previous = kpis.team_kpis(projects=projects, start=previous_start, end=start)
    teams = sorted(
        name for name in projects.order_by().values_list("team__name", flat=True).distinct() if name
    )
    header = [
        _("KPI: %(teams)s") % {"teams": ", ".join(teams)} if teams else _("KPI"),
        _("This period (%(days)s)") % {"days": _days(start, end, zone)},
        _("Previous period (%(days)s)") % {"days": _days(previous_start, start, zone)},
    ]
    rows = [[kpi_name(key), current[key], previous[key]] for key in kpis.KPI_KEYS]
    by_rm = kpis.kpis_by_rm(projects=projects, start=start, end=end)
    people = {pk: str(user) for pk, user in kpis.relationship_managers(projects).items()}
    rm_header = [_("Relationship manager")] + [kpi_name(key) for key in kpis.KPI_KEYS]
    rm_rows = [
        [people.get(pk, str(pk))] + [values[key] for key in kpis.KPI_KEYS]
        for pk, values in sorted(by_rm.items(), key=lambda item: people.get(item[0], "").casefold())
    ]
    return header, rows, rm_header, rm_rows


@login_required
def kpi_export(request, fmt: str):
    if not (request.user.is_manager or request.user.is_admin_role):
        raise PermissionDenied
    with timezone.override(request.user.zone):
        stamp = timezone.localdate().isoformat()
        header, rows, rm_header, rm_rows = kpi_tables(request)
        if fmt == "csv":
            return _stream_csv(f"kpis-{stamp}", header, iter([*rows, [], rm_header, *rm_rows]))
        if fmt == "xlsx":
            return _xlsx(
                f"kpis-{stamp}",
                {
                    _("KPIs"): pd.DataFrame(rows, columns=header),
                    _("By relationship manager"): pd.DataFrame(rm_rows, columns=rm_header),
                },
            )
    raise Http404
