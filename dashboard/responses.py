"""The survey responses page: every submitted answer the user may see (the survey-response API's
scope), newest first, filtered by failure category, detractors, follow-ups still to make, the days
they were submitted on and the relationship manager of their project.

Thin: the read is `selectors.response_list`; this parses the filters and turns rows into text in
the user's time zone. A filter value that is not one is ignored, as on the portfolio."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.text import capfirst

from accounts.models import User
from feedback.models import SurveyResponse
from finance_projects.models import FailureCategory
from finance_projects.selectors import portfolio_for

from . import display, kpis, selectors
from .forms import SubmittedPeriodForm
from .project_responses import SCORES, category_codes
from .views import PAGE_SIZE, in_user_zone

SEARCH_MAX = 100  # characters of the search kept, as on the portfolio
QUOTE_MAX, TITLE_MAX = 120, 1000  # characters of a comment shown, and in its tooltip
TRUE_VALUES = ("1", "true", "on", "yes")


def _flag(params, name: str) -> bool:
    return params.get(name, "").strip().lower() in TRUE_VALUES


@dataclass(frozen=True)
class ResponseFilters:
    """The filters of the page, from its query string; a value that is not one is dropped."""

    q: str = ""
    category: str = ""
    detractor: bool = False
    pending: bool = False
    start: date | None = None  # the first day and the last, both included
    end: date | None = None
    rm: int | None = None

    @classmethod
    def from_query(cls, params) -> "ResponseFilters":
        category = params.get("category", "")
        period = SubmittedPeriodForm(params)
        period.is_valid()  # a day that is not one is left out of cleaned_data
        return cls(
            q=params.get("q", "").strip()[:SEARCH_MAX],
            category=category if category in FailureCategory.values else "",
            detractor=_flag(params, "detractor"),
            pending=_flag(params, "pending"),
            start=period.cleaned_data.get("start"),
            end=period.cleaned_data.get("end"),
            rm=selectors.parse_id(params.get("rm", "")),
        )

    @property
    def narrows(self) -> bool:
        return bool(
            self.q or self.category or self.detractor or self.pending or self.start or self.end or self.rm
        )

    def moments(self, zone) -> tuple[datetime | None, datetime | None]:
        """The days as the half-open period [start, end) in `zone`: from the first day's midnight
        to the midnight after the last day, as the team page's periods and `/api/v1/metrics/` read
        a day."""
        return (
            kpis.midnight(self.start, zone) if self.start else None,
            kpis.midnight(self.end + timedelta(days=1), zone) if self.end else None,
        )


def _relationship_managers(user: User) -> list[User]:
    """The menu of the RM filter: the relationship managers of the projects the user sees, as
    the team page's portfolio offers them. None for a relationship manager, who sees their own."""
    if not (user.is_admin_role or user.is_manager or user.is_department_staff):
        return []
    return sorted(kpis.relationship_managers(portfolio_for(user)).values(), key=str)


def _headings() -> dict[str, str]:
    """Column titles from the model's field names, translated once for the page."""
    field = SurveyResponse._meta.get_field
    return {
        name: capfirst(field(name).verbose_name)
        for name in ("submitted_at", "comment", "categories", "is_detractor", "followed_up_at")
    }


def _rows(rows: list[dict]) -> list[dict]:
    project_url = display.id_link("dashboard:project")
    labels = display.choice_labels(FailureCategory.choices)
    shown = []
    for row in rows:
        scores = [
            (name, row[key], pattern.format(row[key]), display.score_tone(key, row[key]))
            for key, name, pattern in SCORES
        ]
        shown.append(
            {
                "pk": row["pk"],
                "submitted": display.local(row["submitted_at"], "Y-m-d H:i"),
                "url": f"{project_url(row['invitation__project_id'])}#response-{row['pk']}",
                "project_code": row["invitation__project__code"],
                "project_name": row["invitation__project__name"],
                "client_name": row["invitation__project__client__name"],
                "contact_name": row["invitation__contact__name"],
                "scores": [
                    {"name": name, "value": value, "text": text, "tone": tone}
                    for name, value, text, tone in scores
                ],
                "quote": display.truncate(row["comment"].strip(), QUOTE_MAX),
                "comment": display.truncate(row["comment"].strip(), TITLE_MAX),
                "categories": [labels.get(code, code) for code in category_codes(row["categories"])],
                "detractor": row["is_detractor"],
                "waiting": row["needs_follow_up"],
                "followed_up": display.local(row["followed_up_at"], "Y-m-d H:i"),
            }
        )
    return shown


@in_user_zone
def response_list(request):
    user = request.user
    filters, people = ResponseFilters.from_query(request.GET), _relationship_managers(user)
    if not people:
        filters = replace(filters, rm=None)  # an RM sees their own: there is no RM to pick
    start, end = filters.moments(user.zone)
    rows = selectors.response_list(
        user,
        category=filters.category,
        detractors_only=filters.detractor,
        pending_only=filters.pending,
        q=filters.q,
        start=start,
        end=end,
        rm=filters.rm,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _rows(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/responses.html",
        {
            "page": page,
            "filters": filters,
            "categories": FailureCategory.choices,
            "period": SubmittedPeriodForm(),
            "people": people,
            "headings": _headings(),
            "query": query.urlencode(),
        },
    )
