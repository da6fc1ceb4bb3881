"""The survey responses on the project page's timeline: their scores (NPS, CSAT and CES, coloured
as everywhere), their failure categories and whether a person corrected them, the follow-up
with the client, and, for those who may act on the project, a form to correct the categories
and one to record the follow-up. Built as HTML in one pass, as the timeline's rows are: a page
may hold sixty responses."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from feedback.models import DETRACTOR_AT_OR_BELOW
from feedback.services import is_detractor_score
from finance_projects.models import FailureCategory

from . import display
from .forms import FollowUpForm, ResponseCategoriesForm
from .sql import as_datetime

# The scores a response may carry: its column, its name and how it is written.
SCORES = (("nps", "NPS", "{}"), ("csat", "CSAT", "{}/5"), ("ces", "CES", "{}/7"))
# The project page's actions on a survey response (`dashboard:project-action`).
RESPONSE_ACTIONS = ("categories", "follow_up")
_INPUT_TIME = "%Y-%m-%dT%H:%M"  # a datetime-local field's value


@dataclass(frozen=True)
class SentBack:
    """A response's form sent back with an error: shown open, with what was sent and the error."""

    response_id: int
    action: str
    error: str
    data: dict = field(default_factory=dict)  # field → value, `categories` → list


def category_codes(value) -> list[str]:
    """The categories column of a raw row: SQLite and psycopg both answer the JSON text."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [code for code in value or [] if isinstance(code, str)]


def response_facts(row: dict, *, people: display.People) -> dict:
    """What the timeline shows of one response, from its raw columns (see `_survey_events`),
    with the follow-up of its first row; `add_follow_up` adds those of the next rows."""
    scores = {key: row[key] for key, _name, _pattern in SCORES}
    response = {
        "id": row["id"],
        "scores": scores,
        "detractor": is_detractor_score(**scores),
        "categories": category_codes(row["categories"]),
        "edited_at": row["categories_edited_at"],
        "edited_by": people.name(*row["editor"]),
        "follow_ups": [],
    }
    add_follow_up(response, row["follow_up"], people=people)
    return response


def add_follow_up(response: dict, columns, *, people: display.People) -> None:
    """Add a follow-up to the response's history from its raw columns: when the client was
    contacted, the outcome and who (a name triple); nothing when they are empty (a response with
    no follow-up). Rows come newest contact first, and so does the history."""
    contacted_at, outcome, *by = columns
    if contacted_at is None:
        return
    response["follow_ups"].append(
        {"at": as_datetime(contacted_at), "by": people.name(*by), "outcome": outcome or ""}
    )


class ResponseBlocks:
    """For a timeline event, the HTML a survey response adds before its comment (the scores)
    and after it (categories, follow-up, forms); ("", "") for other events. The labels are
    translated and the form URLs reversed once for the page."""

    def __init__(
        self, *, project_pk: int, csrf_token: str, editable: bool, at: datetime, sent_back: SentBack | None
    ):
        self.editable = editable
        self.sent_back = sent_back
        self.labels = display.choice_labels(FailureCategory.choices)
        self.now = timezone.localtime(at).strftime(_INPUT_TIME)
        self.urls = {
            action: reverse("dashboard:project-action", args=[project_pk, action])
            for action in RESPONSE_ACTIONS
        }
        self.csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        follow_up_fields = FollowUpForm.base_fields
        self.text = {
            name: escape(value)
            for name, value in {
                "categories": _("Failure categories:"),
                "none": _("none"),
                "found": _("found in the comment"),
                "edit": _("Edit categories"),
                "legend": ResponseCategoriesForm.base_fields["categories"].label,
                "save_categories": _("Save categories"),
                "record": _("Record the follow-up"),
                "another": _("Record another follow-up"),
                "contacted_at": follow_up_fields["contacted_at"].label,
                "outcome": follow_up_fields["outcome"].label,
                "save_follow_up": _("Save the follow-up"),
                "pending": _("No follow-up recorded yet."),
            }.items()
        }
        self.detractor = _("Detractor: %(scores)s")
        self.edited_by, self.edited = _("edited by %(name)s, %(when)s"), _("edited %(when)s")
        self.followed_by, self.followed = _("Followed up by %(name)s, %(when)s:"), _("Followed up %(when)s:")

    def __call__(self, event: dict) -> tuple[str, str]:
        response = event.get("response")
        if response is None:
            return "", ""
        sent = self.sent_back if self.sent_back and self.sent_back.response_id == response["id"] else None
        after = self._categories(response) + self._follow_up(response)
        if self.editable:
            after += (
                '\n          <div class="row-actions">'
                f"{self._categories_form(response, sent)}{self._follow_up_form(response, sent)}</div>"
            )
        return self._scores(response), after

    def _scores(self, response: dict) -> str:
        badges, low = [], []
        for key, name, pattern in SCORES:
            value = response["scores"][key]
            if value is None:
                continue
            tone = display.score_tone(key, value)
            badges.append(f'<span class="badge {tone}">{name} {pattern.format(value)}</span>')
            if display.is_low_score(key, value):
                low.append(f"{name} {value} ≤ {DETRACTOR_AT_OR_BELOW[key]}")
        if low:
            text = self.detractor % {"scores": ", ".join(low)}
            badges.append(f'<span class="sev-critical">{escape(text)}</span>')
        return f'<div class="small scores">{" ".join(badges)}</div>' if badges else ""

    def _categories(self, response: dict) -> str:
        text = self.text
        labels = self.labels
        tags = " ".join(
            f'<span class="badge">{escape(labels.get(code, code))}</span>' for code in response["categories"]
        )
        when = display.local(response["edited_at"], "Y-m-d H:i")
        if when:
            mark = (
                self.edited_by % {"name": response["edited_by"], "when": when}
                if response["edited_by"]
                else self.edited % {"when": when}
            )
            mark = f' <span class="muted edited">· {escape(mark)}</span>'
        else:
            mark = f' <span class="muted">· {text["found"]}</span>' if tags else ""
        tags = tags or f'<span class="muted">{text["none"]}</span>'
        return f'\n          <div class="small tags">{text["categories"]} {tags}{mark}</div>'

    def _follow_up(self, response: dict) -> str:
        """Every follow-up recorded, newest contact first, each with who and when (in the
        reader's zone); a detractor's notice while there is none."""
        if not response["follow_ups"]:
            if response["detractor"]:
                return f'\n          <div class="small sev-warning">{self.text["pending"]}</div>'
            return ""
        shown = []
        for follow_up in response["follow_ups"]:
            when = display.local(follow_up["at"], "Y-m-d H:i")
            head = (
                self.followed_by % {"name": follow_up["by"], "when": when}
                if follow_up["by"]
                else self.followed % {"when": when}
            )
            outcome = display.multiline(follow_up["outcome"])
            shown.append(
                f'\n          <div class="small follow-up"><strong>{escape(head)}</strong> {outcome}</div>'
            )
        return "".join(shown)

    def _form(self, action: str, response: dict, sent: SentBack | None, summary: str, body: str) -> str:
        opened = sent is not None and sent.action == action
        error = f'<div class="error" role="alert">{escape(sent.error)}</div>' if opened else ""
        return (
            f'<details{" open" if opened else ""}><summary class="button small-btn">{summary}</summary>'
            f'<form method="post" action="{self.urls[action]}" class="stack" novalidate>{self.csrf}'
            f'<input type="hidden" name="response" value="{response["id"]}">{error}{body}</form></details>'
        )

    def _categories_form(self, response: dict, sent: SentBack | None) -> str:
        text, pk = self.text, response["id"]
        chosen = set(response["categories"])
        if sent is not None and sent.action == "categories":
            chosen = set(sent.data.get("categories", []))
        boxes = "".join(
            f'<label class="field check" for="response-{pk}-{code}">'
            f'<input type="checkbox" name="categories" value="{code}" id="response-{pk}-{code}"'
            f"{' checked' if code in chosen else ''}> {escape(label)}</label>"
            for code, label in self.labels.items()
        )
        body = (
            f'<fieldset><legend class="small">{text["legend"]}</legend>{boxes}</fieldset>'
            f'<button type="submit" class="small-btn">{text["save_categories"]}</button>'
        )
        return self._form("categories", response, sent, text["edit"], body)

    def _follow_up_form(self, response: dict, sent: SentBack | None) -> str:
        """A new follow-up, added to those recorded (which stay as they are)."""
        text, pk = self.text, response["id"]
        contacted_at, outcome = self.now, ""
        if sent is not None and sent.action == "follow_up":
            contacted_at, outcome = sent.data.get("contacted_at", ""), sent.data.get("outcome", "")
        body = (
            f'<div class="field"><label for="response-{pk}-contacted_at">{text["contacted_at"]}</label>'
            f'<input type="datetime-local" name="contacted_at" id="response-{pk}-contacted_at"'
            f' value="{escape(contacted_at)}" required></div>'
            f'<div class="field"><label for="response-{pk}-outcome">{text["outcome"]}</label>'
            f'<textarea name="outcome" id="response-{pk}-outcome" rows="3" maxlength="4000" required>'
            f"{escape(outcome)}</textarea></div>"
            f'<button type="submit" class="primary small-btn">{text["save_follow_up"]}</button>'
        )
        summary = text["another" if response["follow_ups"] else "record"]
        return self._form("follow_up", response, sent, summary, body)
