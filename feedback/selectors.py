"""Shared reads for surveys: scoped querysets and the satisfaction metrics.

Scoping always derives from `portfolio_for(user)`, so an invitation or response about a project
the user may not see answers 404 like the project itself. Metrics are SQL aggregates (two
queries whatever the data size); pandas only joins the two result sets and derives the rates.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.http import Http404

from accounts.models import User
from finance_projects.models import Alert, AlertKind, FinancingProject
from finance_projects.selectors import portfolio_for

from .models import (
    DETRACTOR_AT_OR_BELOW,
    TOP_BOX_FROM,
    Question,
    QuestionType,
    SurveyInvitation,
    SurveyResponse,
    SurveySkip,
    Trigger,
)

GROUPS = ("none", "rm", "team", "client", "stage", "week", "month")


# The per-group score counters the response aggregate yields, in column order.
SCORE_COUNTS = (
    "nps_n",
    "promoters",
    "detractors",
    "csat_n",
    "csat_sum",
    "csat_top",
    "ces_n",
    "ces_sum",
    "ces_top",
)


@dataclass(frozen=True)
class RecoverySurvey:
    """Where the recovery survey about one complaint stands, for the complaint's page.

    `state` is answered, sent (e-mailed, not answered yet), waiting (to be e-mailed), revoked,
    held (by the frequency cap, to be sent at `at`) or skipped (not sent, for `reason`); `at` is
    when that happened or will.
    """

    state: str
    at: datetime | None
    reason: str = ""


def recovery_survey_of(*, project_id: int, complaint_reference: str) -> RecoverySurvey | None:
    """The latest recovery survey sent, held or skipped about the complaint; None when there is
    none (the complaint was never resolved). Two queries."""
    about = {
        "project_id": project_id,
        "trigger": Trigger.RECOVERY,
        "reason_params__complaint": complaint_reference,
    }
    invitation = SurveyInvitation.objects.filter(**about).order_by("-created_at", "-id").first()
    skip = SurveySkip.objects.filter(**about).order_by("-at", "-id").first()
    if skip is not None and (invitation is None or skip.at > invitation.created_at):
        if skip.send_at is not None:
            return RecoverySurvey("held", skip.send_at)
        return RecoverySurvey("skipped", skip.at, str(skip.get_reason_display()))
    if invitation is None:
        return None
    if invitation.responded_at is not None:
        return RecoverySurvey("answered", invitation.responded_at)
    if invitation.revoked_at is not None:
        return RecoverySurvey("revoked", invitation.revoked_at)
    if invitation.sent_at is not None:
        return RecoverySurvey("sent", invitation.sent_at)
    return RecoverySurvey("waiting", invitation.created_at)


def invitations_for(user: User) -> QuerySet[SurveyInvitation]:
    return SurveyInvitation.objects.filter(project__in=portfolio_for(user))


def responses_for(user: User, *, submitted_only: bool = True) -> QuerySet[SurveyResponse]:
    responses = SurveyResponse.objects.filter(invitation__project__in=portfolio_for(user))
    return responses.filter(submitted_at__isnull=False) if submitted_only else responses


def get_response_for(user: User, pk) -> SurveyResponse:
    response = (
        responses_for(user)
        .select_related("invitation__project", "invitation__contact", "invitation__survey")
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise Http404
    return response


def asks_to_be_contacted(response: SurveyResponse) -> bool:
    """Whether the respondent chose an option flagged as a request to be contacted (one query)."""
    answers = response.answers or {}
    answered = [int(key) for key in answers if str(key).isascii() and str(key).isdigit()]
    if not answered:
        return False
    questions = Question.objects.filter(
        survey_id=response.invitation.survey_id, type=QuestionType.CHOICE, pk__in=answered
    ).only("id", "choices")
    return any(str(answers[str(question.pk)]) in question.contact_request_values() for question in questions)


def invitation_asks_to_be_contacted(invitation_id: int) -> bool:
    """`asks_to_be_contacted` for the invitation's response, in one query (the answers beside
    each choice question of the survey), for the thank-you page."""
    rows = (
        SurveyResponse.objects.filter(
            invitation_id=invitation_id, invitation__survey__questions__type=QuestionType.CHOICE
        )
        .values_list("answers", "invitation__survey__questions__id", "invitation__survey__questions__choices")
        .order_by()
    )
    for answers, question_id, choices in rows:
        answer = (answers or {}).get(str(question_id))
        if answer is not None and str(answer) in Question(choices=choices).contact_request_values():
            return True
    return False


@dataclass(frozen=True)
class _Grouping:
    invitation_fields: dict
    response_fields: dict


def _grouping(group_by: str, tz) -> _Grouping:
    """The GROUP BY columns for invitations and for responses (through their invitation)."""

    def through(prefix: str) -> dict:
        if group_by == "rm":
            # The name's parts, not a label: `_label` writes it as `User.get_full_name` does
            # (王伟, not 伟 王). They depend on the RM alone, so the groups stay one per RM.
            rm = f"{prefix}project__relationship_manager"
            return {
                "key": F(f"{rm}_id"),
                "rm_first_name": F(f"{rm}__first_name"),
                "rm_last_name": F(f"{rm}__last_name"),
                "rm_username": F(f"{rm}__username"),
            }
        if group_by == "team":
            return {"key": F(f"{prefix}project__team_id"), "label": F(f"{prefix}project__team__name")}
        if group_by == "client":
            return {"key": F(f"{prefix}project__client_id"), "label": F(f"{prefix}project__client__name")}
        if group_by == "stage":
            return {"key": F(f"{prefix}stage"), "label": F(f"{prefix}stage")}
        return {"key": Value("all"), "label": Value("all")}

    if group_by in ("week", "month"):
        trunc = TruncWeek if group_by == "week" else TruncMonth
        return _Grouping(
            invitation_fields={"key": trunc("invited_at", tzinfo=tz)},
            response_fields={"key": trunc("submitted_at", tzinfo=tz)},
        )
    return _Grouping(invitation_fields=through(""), response_fields=through("invitation__"))


def _rate(part, whole, *, scale: float = 100.0, digits: int = 1):
    return None if not whole else round(scale * part / whole, digits)


def tagged(responses: QuerySet[SurveyResponse], category: str) -> QuerySet[SurveyResponse]:
    """The responses tagged with the failure `category`: the categories are a JSON list of known
    codes, and the quoted code matches exactly one entry."""
    return responses.filter(categories__icontains=f'"{category}"')


# The subject type of the alerts a response raises (detractor, contact request).
RESPONSE_ALERT_SUBJECT = "survey_response"


def _needs_follow_up() -> Q:
    """A response nobody has called back yet that needs a call: a detractor's, or one whose
    client asked to be contacted (it raised a contact-request alert, which only a recorded
    follow-up resolves). Other promoters and passives need none."""
    asked = Alert.objects.filter(
        kind=AlertKind.CONTACT_REQUEST,
        subject_type=RESPONSE_ALERT_SUBJECT,
        subject_id=OuterRef("pk"),
        resolved_at__isnull=True,  # the open one: a recorded follow-up resolves it
    )
    return Q(followed_up_at__isnull=True) & (Q(is_detractor=True) | Q(Exists(asked)))


def responses_alerted(alert_ids: list[int]) -> dict[int, int]:
    """Alert id → the survey response it is about, for those of `alert_ids` that are: one query."""
    alerts = Alert.objects.filter(pk__in=alert_ids, subject_type=RESPONSE_ALERT_SUBJECT)
    return dict(alerts.values_list("pk", "subject_id"))


def with_needs_follow_up(responses: QuerySet[SurveyResponse]) -> QuerySet[SurveyResponse]:
    """The responses, each with `needs_follow_up`: whether `needing_follow_up` lists it."""
    return responses.annotate(
        needs_follow_up=ExpressionWrapper(_needs_follow_up(), output_field=BooleanField())
    )


def needing_follow_up(responses: QuerySet[SurveyResponse], needed: bool = True) -> QuerySet[SurveyResponse]:
    """The responses that need a follow-up (`needed`), or every other one."""
    return responses.filter(_needs_follow_up()) if needed else responses.exclude(_needs_follow_up())


def invitations_asked(projects) -> QuerySet[SurveyInvitation]:
    """The invitations a response rate counts, each placed at `invited_at`: when it was e-mailed,
    or answered if that came first (a link answered before any e-mail went out is never e-mailed
    afterwards)."""
    return SurveyInvitation.objects.filter(
        Q(sent_at__isnull=False) | Q(responded_at__isnull=False), project__in=projects
    ).annotate(invited_at=Coalesce("sent_at", "responded_at"))


def survey_metrics(
    *,
    projects: QuerySet[FinancingProject],
    group_by: str = "none",
    start: datetime | None = None,
    end: datetime | None = None,
    tz=None,
) -> list[dict]:
    """NPS, CSAT, CES and response rate per group, each with its sample size.

    - invitations count when emailed in [start, end), or when answered if that came first (a
      manual link answered before the email went out); the response rate is responded / invited,
      so it never exceeds 100%;
    - scores count when submitted in [start, end);
    - NPS = % promoters (9–10) − % detractors (0–6); CSAT: mean and % of 4–5; CES: mean and % 5–7;
    - week/month groups are taken in `tz` (default: the site's time zone).
    """
    if group_by not in GROUPS:
        raise ValueError(group_by)
    tz = tz or ZoneInfo(settings.TIME_ZONE)
    grouping = _grouping(group_by, tz)
    invitations = invitations_asked(projects)
    responses = SurveyResponse.objects.filter(invitation__project__in=projects, submitted_at__isnull=False)
    if start:
        invitations = invitations.filter(invited_at__gte=start)
        responses = responses.filter(submitted_at__gte=start)
    if end:
        invitations = invitations.filter(invited_at__lt=end)
        responses = responses.filter(submitted_at__lt=end)
    sent = (
        invitations.annotate(**grouping.invitation_fields)
        .values(*grouping.invitation_fields)
        .annotate(invited=Count("id"), responded=Count("id", filter=Q(responded_at__isnull=False)))
        .order_by()
    )
    scored = (
        responses.annotate(**grouping.response_fields)
        .values(*grouping.response_fields)
        .annotate(
            responses=Count("id"),
            nps_n=Count("nps"),
            promoters=Count("id", filter=Q(nps__gte=TOP_BOX_FROM[QuestionType.NPS])),
            detractors=Count("id", filter=Q(nps__lte=DETRACTOR_AT_OR_BELOW[QuestionType.NPS])),
            csat_n=Count("csat"),
            csat_sum=Sum("csat"),
            csat_top=Count("id", filter=Q(csat__gte=TOP_BOX_FROM[QuestionType.CSAT])),
            ces_n=Count("ces"),
            ces_sum=Sum("ces"),
            ces_top=Count("id", filter=Q(ces__gte=TOP_BOX_FROM[QuestionType.CES])),
        )
        .order_by()
    )
    frame = pd.merge(
        pd.DataFrame.from_records(list(sent), columns=[*grouping.invitation_fields, "invited", "responded"]),
        pd.DataFrame.from_records(
            list(scored),
            columns=[*grouping.response_fields, "responses", *SCORE_COUNTS],
        ),
        how="outer",
        on=list(grouping.invitation_fields),
        suffixes=("", "_r"),
    )
    if "label_r" in frame:
        frame["label"] = frame["label"].fillna(frame["label_r"])
    rows = []
    for record in frame.sort_values("key", kind="stable").to_dict("records"):
        counts = {
            name: int(record.get(name) or 0) if not pd.isna(record.get(name)) else 0
            for name in ("invited", "responded", "responses", *SCORE_COUNTS)
        }
        if not counts["invited"] and not counts["responses"]:
            continue  # an aggregate over no rows (grouping by a constant still answers one row)
        key = record["key"]
        rows.append(
            {
                "group": _key(key),
                "label": _label(record, group_by, key),
                "invited": counts["invited"],
                "responded": counts["responded"],
                "response_rate": _rate(counts["responded"], counts["invited"]),
                "nps": {
                    "n": counts["nps_n"],
                    "score": _rate(counts["promoters"] - counts["detractors"], counts["nps_n"]),
                    "promoters": counts["promoters"],
                    "detractors": counts["detractors"],
                },
                "csat": {
                    "n": counts["csat_n"],
                    "mean": _rate(counts["csat_sum"], counts["csat_n"], scale=1, digits=2),
                    "satisfied_pct": _rate(counts["csat_top"], counts["csat_n"]),
                },
                "ces": {
                    "n": counts["ces_n"],
                    "mean": _rate(counts["ces_sum"], counts["ces_n"], scale=1, digits=2),
                    "easy_pct": _rate(counts["ces_top"], counts["ces_n"]),
                },
            }
        )
    return rows


def _key(key):
    if isinstance(key, pd.Timestamp):
        key = key.to_pydatetime()
    if isinstance(key, datetime):
        return key.date().isoformat()
    if hasattr(key, "item"):  # numpy scalar
        return key.item()
    return key


def _label(record: dict, group_by: str, key) -> str:
    if group_by in ("week", "month"):
        return str(_key(key))
    if group_by == "stage":
        from finance_projects.models import Stage

        return str(Stage(key).label) if key in Stage.values else str(key)
    label = _rm_name(record) if group_by == "rm" else record.get("label")
    return str(label).strip() if isinstance(label, str) and label.strip() else str(_key(key))


def _rm_name(record: dict) -> str:
    """The RM's name as everywhere else (`User.get_full_name`), from the grouped columns."""
    parts = {name: record.get(f"rm_{name}") for name in ("first_name", "last_name", "username")}
    parts = {name: value if isinstance(value, str) else "" for name, value in parts.items()}
    return User(**parts).get_full_name() or parts["username"]
