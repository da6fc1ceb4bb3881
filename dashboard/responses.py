"""The survey responses page: every submitted answer the user may see (the survey-response API's
scope), newest first, filtered by failure category, detractors and follow-ups still to make.

Thin: the read is `selectors.response_list`; this parses the filters and turns rows into text in
the user's time zone. A filter value that is not one is ignored, as on the portfolio."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.text import capfirst

from feedback.models import SurveyResponse
from finance_projects.models import FailureCategory

from . import display, selectors
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

    @classmethod
    def from_query(cls, params) -> "ResponseFilters":
        category = params.get("category", "")
        return cls(
            q=params.get("q", "").strip()[:SEARCH_MAX],
            category=category if category in FailureCategory.values else "",
            detractor=_flag(params, "detractor"),
            pending=_flag(params, "pending"),
        )

    @property
    def narrows(self) -> bool:
        return bool(self.q or self.category or self.detractor or self.pending)


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
    filters = ResponseFilters.from_query(request.GET)
    rows = selectors.response_list(
        request.user,
        category=filters.category,
        detractors_only=filters.detractor,
        pending_only=filters.pending,
        q=filters.q,
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
            "headings": _headings(),
            "query": query.urlencode(),
        },
    )
