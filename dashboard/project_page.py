"""What the project 360° page shows: the stage path, one merged timeline, the audit trail and the
forms. A fixed number of queries whatever the project's history (each list is read once)."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from complaints.services import SURVEY_RESPONSE_SOURCE
from complaints.views import OPEN_FROM_SURVEY_RESPONSE, VIEW_COMPLAINT
from feedback import services as feedback_services
from feedback.models import Trigger, bilingual
from finance_projects.models import (
    AlertKind,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    FinancingProject,
    Stage,
    TouchpointChannel,
)
from finance_projects.selectors import can_edit_project, get_project_for

from . import display, selectors
from .forms import (
    CommitmentForm,
    RenegotiateForm,
    StageMoveForm,
    StatusLinkForm,
    SurveySendForm,
    TouchpointForm,
    add_service_errors,
)
from .health import compute_health, factor_text
from .project_responses import ResponseBlocks, add_follow_up, response_facts
from .sql import as_datetime, fetch

TIMELINE_LIMIT = 60
AUDIT_LIMIT = 30


def stage_path(project: FinancingProject, *, at: datetime) -> list[dict]:
    """Every stage in order with its purpose, expected days and the days actually spent in it
    (every stay in it, rounded to whole days).

    A stage is marked late as the early-warning scan rules it, not by the rounded days shown: the
    current stage while its open stay is past the expected days and the project active (exactly
    when a stage-overrun alert is open, see `selectors.stage_overrun`); any other stage when one
    of its stays lasted longer than the expected days."""
    language = get_language() or "zh-hans"
    purpose = "purpose_en" if language.startswith("en") else "purpose_zh"  # as StageDefinition.purpose
    definitions = {
        stage: (expected, text)
        for stage, expected, text in fetch(
            f"SELECT stage, expected_days, {purpose} FROM finance_projects_stagedefinition", []
        )
    }
    spent: dict[str, float] = defaultdict(float)
    late: set[str] = set()
    transitions = fetch(
        "SELECT stage, entered_at, left_at FROM finance_projects_stagetransition"
        " WHERE project_id = %s ORDER BY entered_at, id",
        [project.pk],
    )
    current = Stage.order(project.stage)
    for stage, entered_at, left_at in transitions:
        entered_at, left_at = as_datetime(entered_at), as_datetime(left_at)
        spent[stage] += ((left_at or at) - entered_at).total_seconds() / 86400
        expected = definitions.get(stage, (None, ""))[0]
        if left_at is None:  # the open stay: the scan's rule
            overrun = selectors.stage_overrun(
                status=project.status, entered_at=entered_at, expected_days=expected, at=at
            )
        else:  # a stay gone by: whether it outlasted its days
            overrun = stage != project.stage and selectors.past_expected_days(
                entered_at, expected, at=left_at
            )
        if overrun:
            late.add(stage)
    path = []
    for index, (value, label) in enumerate(Stage.choices):
        expected, text = definitions.get(value, (None, ""))
        path.append(
            {
                "stage": value,
                "label": label,
                "purpose": text,
                "expected_days": expected,
                "actual_days": int(spent[value]) if value in spent else None,  # whole days, as elsewhere
                "state": "done" if index < current else ("current" if index == current else "todo"),
                "late": value in late,
            }
        )
    return path


def _event(at, kind, title, detail="", *, tone="", who=None, link=None):
    return {"at": at, "kind": kind, "title": title, "detail": detail, "tone": tone, "who": who, "link": link}


# The columns `_survey_events` reads, in order; `editor` and `follower` are name triples. A
# response comes once per follow-up recorded on it (newest contact first), or once with none.
SURVEY_COLUMNS = (
    "r.id, r.submitted_at, r.nps, r.csat, r.ces, r.comment, ct.name, r.categories, r.categories_edited_at,"
    " e.first_name, e.last_name, e.username, fu.contacted_at, fu.outcome,"
    " f.first_name, f.last_name, f.username"
)


def _survey_events(project: FinancingProject, *, complaint_actions: bool) -> list[dict]:
    """Every survey response of the project (at most one per invitation, so few), each with its
    scores, failure categories (and who corrected them) and every follow-up recorded on it; with
    `complaint_actions`, each with its complaint: the one opened from it to view, or a button to
    open one. One query: the people come along by their keys, the follow-ups by their response
    (one row each), the complaint by its source key (unique, so indexed)."""
    complaint_column, complaint_join, params = "NULL", "", [project.pk]
    if complaint_actions:
        complaint_column = "c.id"
        complaint_join = " LEFT JOIN complaints_complaint c ON c.source_key = %s || CAST(r.id AS VARCHAR(20))"
        params = [SURVEY_RESPONSE_SOURCE, *params]
    rows = fetch(
        f"SELECT {SURVEY_COLUMNS}, {complaint_column}"
        " FROM feedback_surveyresponse r JOIN feedback_surveyinvitation i ON i.id = r.invitation_id"
        " JOIN finance_projects_contact ct ON ct.id = i.contact_id"
        " LEFT JOIN accounts_user e ON e.id = r.categories_edited_by_id"
        " LEFT JOIN feedback_surveyfollowup fu ON fu.response_id = r.id"
        f" LEFT JOIN accounts_user f ON f.id = fu.by_id{complaint_join}"
        " WHERE i.project_id = %s AND r.submitted_at IS NOT NULL"
        " ORDER BY r.submitted_at DESC, r.id DESC, fu.contacted_at DESC, fu.id DESC",
        params,
    )
    view_url = display.id_link("complaints:detail")
    open_url = display.id_link("complaints:from-survey-response")
    people = display.People()
    events = []
    for values in rows:
        response_id = values[0]
        if events and events[-1]["response"]["id"] == response_id:  # another follow-up of the last one
            add_follow_up(events[-1]["response"], values[12:17], people=people)
            continue
        submitted_at, nps, csat, ces, comment, name, categories, edited_at = values[1:9]
        response = response_facts(
            {
                "id": response_id,
                "nps": nps,
                "csat": csat,
                "ces": ces,
                "categories": categories,
                "categories_edited_at": as_datetime(edited_at),
                "editor": values[9:12],
                "follow_up": values[12:17],
            },
            people=people,
        )
        event = _event(
            as_datetime(submitted_at),
            "survey",
            _("Survey answered by %(name)s") % {"name": name},
            comment.strip(),
            tone="bad" if response["detractor"] else "good",
        )
        event["response"], event["anchor"] = response, f"response-{response_id}"
        if complaint_actions:
            complaint_id = values[17]
            event["complaint_link"] = view_url(complaint_id) if complaint_id else None
            event["complaint_form"] = None if complaint_id else open_url(response_id)
        events.append(event)
    return events


def _invitation_events(project: FinancingProject) -> list[dict]:
    """The newest TIMELINE_LIMIT surveys e-mailed to the project's contacts, each with where its
    link stands: answered, withdrawn, expired unanswered, or still open (opened or not, and the
    reminders sent). One query; a survey held back or not yet e-mailed has no event."""
    rows = fetch(
        "SELECT i.sent_at, i.expires_at, i.revoked_at, i.responded_at, i.opened_at, i.reminders_sent,"
        " s.name_zh, s.name_en, ct.name"
        " FROM feedback_surveyinvitation i JOIN feedback_survey s ON s.id = i.survey_id"
        " JOIN finance_projects_contact ct ON ct.id = i.contact_id"
        " WHERE i.project_id = %s AND i.sent_at IS NOT NULL ORDER BY i.sent_at DESC, i.id DESC LIMIT %s",
        [project.pk, TIMELINE_LIMIT],
    )
    english = (get_language() or "").startswith("en")
    now = timezone.now()

    def day(value) -> dict:
        return {"date": display.local(as_datetime(value), "Y-m-d")}

    events = []
    for sent_at, expires_at, revoked_at, responded_at, opened_at, reminders, *names, contact in rows:
        if responded_at is not None:
            details = [_("Answered on %(date)s.") % day(responded_at)]
        elif revoked_at is not None:
            details = [_("Withdrawn on %(date)s: the link no longer works.") % day(revoked_at)]
        elif as_datetime(expires_at) <= now:
            details = [_("Not answered: the link expired on %(date)s.") % day(expires_at)]
        else:
            details = [_("Not answered yet: the link works until %(date)s.") % day(expires_at)]
        if responded_at is None and opened_at is not None:
            details.append(_("Opened on %(date)s.") % day(opened_at))
        if reminders:
            sent = ngettext("%(count)d reminder sent.", "%(count)d reminders sent.", reminders)
            details.append(sent % {"count": reminders})
        survey = bilingual(*names)
        events.append(
            _event(
                as_datetime(sent_at),
                "invitation",
                _("%(survey)s e-mailed to %(contact)s") % {"survey": survey, "contact": contact},
                (" " if english else "").join(details),  # Chinese sentences take no space between
            )
        )
    return events


def timeline(
    project: FinancingProject, commitments: list[dict], *, complaint_actions: bool = False
) -> list[dict]:
    """Touchpoints, commitments (with every renegotiation), alerts, complaints, surveys e-mailed
    and survey responses of the project, newest first: the newest TIMELINE_LIMIT events, and
    every survey response besides, however old (its category editor, follow-up form and complaint
    button are only here, so none may drop off a busy project's page). With `complaint_actions`, survey
    responses carry the way to their complaint (see `_survey_events`)."""
    events = []
    people = display.People()
    channels = display.choice_labels(TouchpointChannel.choices)
    # Raw reads, each the newest TIMELINE_LIMIT rows of one table (see `sql`).
    touchpoints = fetch(
        "SELECT t.occurred_at, t.channel, t.summary, t.needs_attention,"
        " u.first_name, u.last_name, u.username, ct.name"
        " FROM finance_projects_touchpoint t LEFT JOIN accounts_user u ON u.id = t.logged_by_id"
        " LEFT JOIN finance_projects_contact ct ON ct.id = t.contact_id"
        " WHERE t.project_id = %s ORDER BY t.occurred_at DESC, t.id DESC LIMIT %s",
        [project.pk, TIMELINE_LIMIT],
    )
    # Translators: a touchpoint on the timeline: its channel ("Call") and the client's contact.
    with_contact = _("%(channel)s with %(contact)s")
    for occurred_at, channel, summary, needs_attention, first, last, username, contact in touchpoints:
        channel_label = channels.get(channel, channel)
        events.append(
            _event(
                as_datetime(occurred_at),
                "touchpoint",
                with_contact % {"channel": channel_label, "contact": contact} if contact else channel_label,
                summary,
                tone="attention" if needs_attention else "",
                who=people.name(first, last, username),
            )
        )
    promised, due = _("Promised: %(title)s"), _("due %(due)s")
    kept, kept_late = _("Kept: %(title)s"), _("Kept late: %(title)s")
    for commitment in commitments:
        title = commitment["title"]
        events.append(
            _event(
                commitment["created_at"],
                "commitment",
                promised % {"title": title},
                due % {"due": display.local(commitment["due_at"], "Y-m-d H:i")},
                who=commitment["created_by"],
            )
        )
        status = commitment["status"]
        if status == CommitmentStatus.FULFILLED:
            # Kept after its due time is a promise that slipped, as the client saw it.
            late = commitment["fulfilled_at"] > commitment["due_at"]
            events.append(
                _event(
                    commitment["fulfilled_at"],
                    "commitment",
                    (kept_late if late else kept) % {"title": title},
                    due % {"due": display.local(commitment["due_at"], "Y-m-d H:i")} if late else "",
                    tone="warn" if late else "good",
                )
            )
        elif status == CommitmentStatus.RENEGOTIATED:
            events.append(
                _event(
                    commitment["closed_at"],
                    "commitment",
                    _("New date agreed: %(title)s") % {"title": title},
                    commitment["close_reason"],
                    tone="warn",
                )
            )
        elif status == CommitmentStatus.CANCELLED:
            events.append(
                _event(
                    commitment["closed_at"],
                    "commitment",
                    _("Cancelled: %(title)s") % {"title": title},
                    commitment["close_reason"],
                )
            )
    kinds = display.choice_labels(AlertKind.choices)
    alerts = fetch(
        "SELECT kind, severity, opened_at, message FROM finance_projects_alert"
        " WHERE project_id = %s ORDER BY opened_at DESC, id DESC LIMIT %s",
        [project.pk, TIMELINE_LIMIT],
    )
    for kind, severity, opened_at, message in alerts:
        tone = "bad" if severity == "critical" else "warn"
        events.append(_event(as_datetime(opened_at), "alert", kinds.get(kind, kind), message, tone=tone))
    complaint = selectors.model("complaints.Complaint")
    if complaint is not None:
        categories = display.choice_labels(complaint._meta.get_field("category").choices)
        rows = fetch(
            "SELECT received_at, reference, category, description FROM complaints_complaint"
            " WHERE project_id = %s ORDER BY received_at DESC LIMIT %s",
            [project.pk, TIMELINE_LIMIT],
        )
        for received_at, reference, category, description in rows:
            events.append(
                _event(
                    as_datetime(received_at),
                    "complaint",
                    _("Complaint %(reference)s: %(category)s")
                    % {"reference": reference, "category": categories.get(category, category)},
                    description,
                    tone="bad",
                )
            )
    if selectors.model("feedback.SurveyResponse") is not None:
        events.extend(_invitation_events(project))
        events.extend(_survey_events(project, complaint_actions=complaint_actions))
    events.sort(key=lambda e: e["at"] or timezone.now(), reverse=True)
    events = [e for index, e in enumerate(events) if index < TIMELINE_LIMIT or e["kind"] == "survey"]
    # Formatted once here, not through date and linebreaksbr filters on every row of the page.
    zone = timezone.get_current_timezone()
    for event in events:
        at = event["at"].astimezone(zone) if event["at"] else None
        event["at_iso"] = at.isoformat() if at else ""
        event["at_text"] = at.strftime("%Y-%m-%d %H:%M") if at else ""
        event["detail"] = display.multiline(event["detail"]) if event["detail"] else ""
    return events


def _complaint_action(*, csrf_token: str, next_url: str):
    """For a timeline row, the survey response's way to its complaint: a link to the one opened
    from it, or a one-click form (POST, CSRF) that opens it; "" for other rows. The labels are the
    complaints app's, translated in its catalogue."""
    view, open_ = escape(VIEW_COMPLAINT), escape(OPEN_FROM_SURVEY_RESPONSE)
    hidden = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
    )

    def action(event: dict) -> str:
        if event.get("complaint_link"):
            return f' <a class="small" href="{escape(event["complaint_link"])}">{view}</a>'
        if event.get("complaint_form"):
            return (
                f' <form method="post" action="{escape(event["complaint_form"])}" class="inline">{hidden}'
                f'<button type="submit" class="link small">{open_}</button></form>'
            )
        return ""

    return action


def _no_response_block(event: dict) -> tuple[str, str]:
    return "", ""


def timeline_rows(
    events: list[dict],
    *,
    csrf_token: str = "",
    next_url: str = "",
    responses: ResponseBlocks | None = None,
) -> SafeString:
    """The timeline's rows as HTML, in one pass: the page's longest list, it would otherwise cost
    a dozen template nodes a row. Text is escaped here; `detail` comes escaped from `timeline`.
    `csrf_token` and `next_url` go into the survey responses' complaint forms; `responses` adds
    each survey response's scores, categories, follow-up and forms (see `project_responses`)."""
    action = _complaint_action(csrf_token=csrf_token, next_url=next_url)
    response_block = responses or _no_response_block
    rows = []
    for event in events:
        tone = f"tone-{event['tone']}" if event["tone"] else ""
        anchor = f' id="{event["anchor"]}"' if event.get("anchor") else ""
        who = f' <span class="muted small">· {escape(event["who"])}</span>' if event["who"] else ""
        detail = f'<div class="small">{event["detail"]}</div>' if event["detail"] else ""
        before, after = response_block(event)
        rows.append(
            f'\n        <li class="tl-{event["kind"]} {tone}"{anchor}>'
            f'\n          <time datetime="{event["at_iso"]}">{event["at_text"]}</time>'
            f'\n          <span class="tl-kind">{escape(event["title"])}</span>{who}{action(event)}'
            f"\n          {before}{detail}{after}\n        </li>"
        )
    return mark_safe("".join(rows))  # every value above is escaped


# The audited fields the trail compares, as columns of the history tables.
PROJECT_AUDIT_FIELDS = [
    "name",
    "amount",
    "currency",
    "stage",
    "status",
    "update_cadence_days",
    "relationship_manager_id",
]
COMMITMENT_AUDIT_FIELDS = ["title", "due_at", "status", "owner_id", "close_reason"]


def _audit_reader(model, fields: list[str]):
    """For each of `fields` of `model`'s history rows: its name, its label, its choice labels in
    the active language (None without choices) and its decimal places (None if not a decimal)."""
    columns = []
    for name in fields:
        field = model._meta.get_field(name.removesuffix("_id"))
        choices = display.choice_labels(field.choices) if field.choices else None
        places = getattr(field, "decimal_places", None)
        columns.append((name, str(field.verbose_name), choices, places))
    return columns


def _audit_value(value, places: int | None):
    if places is not None and value is not None:
        # A decimal as the ORM gives it (SQLite answers a float or an integer): its fixed places.
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    return value


def _audit_text(value, choices) -> str:
    if choices is not None:
        return str(choices.get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str("—" if value in (None, "") else value)


def _audit_rows(sql: str, pk: int, columns, *, datetimes: set[str]) -> list[dict]:
    """History rows as dicts: `history_id`, `history_date`, `id`, the audited columns and `who`."""
    people = display.People()
    rows = []
    for values in fetch(sql, [pk, AUDIT_LIMIT]):
        history_id, history_date, row_id, *audited, first, last, username = values
        row = {"history_id": history_id, "history_date": as_datetime(history_date), "id": row_id}
        for (name, _label, _choices, places), value in zip(columns, audited, strict=True):
            row[name] = as_datetime(value) if name in datetimes else _audit_value(value, places)
        row["who"] = people.name(first, last, username) or "—"
        rows.append(row)
    return rows


def _changes(rows: list[dict], columns) -> list[dict]:
    """What each history row changed compared with the previous row of the same object."""
    by_object: dict[int, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["history_date"], r["history_id"])):
        by_object[row["id"]].append(row)
    entries = []
    for versions in by_object.values():
        previous = None
        for row in versions:
            if previous is None:
                changed = [_("created")]
            else:
                changed = [
                    f"{label}: {_audit_text(previous[name], choices)} → {_audit_text(row[name], choices)}"
                    for name, label, choices, _places in columns
                    if previous[name] != row[name]
                ]
            if changed:
                entries.append({"row": row, "changes": changed})
            previous = row
    return entries


def _history_sql(table: str, key: str, fields: list[str]) -> str:
    columns = ", ".join(f"h.{name}" for name in fields)
    return (
        f"SELECT h.history_id, h.history_date, h.id, {columns}, u.first_name, u.last_name, u.username"
        f" FROM {table} h LEFT JOIN accounts_user u ON u.id = h.history_user_id"
        f" WHERE h.{key} = %s ORDER BY h.history_date DESC, h.history_id DESC LIMIT %s"
    )


PROJECT_HISTORY = _history_sql("finance_projects_historicalfinancingproject", "id", PROJECT_AUDIT_FIELDS)
COMMITMENT_HISTORY = _history_sql(
    "finance_projects_historicalcommitment", "project_id", COMMITMENT_AUDIT_FIELDS
)


def audit_trail(project: FinancingProject) -> list[dict]:
    """Who changed what and when, on the project and its commitments (django-simple-history's
    tables, only the columns the trail compares)."""
    project_columns = _audit_reader(FinancingProject, PROJECT_AUDIT_FIELDS)
    commitment_columns = _audit_reader(Commitment, COMMITMENT_AUDIT_FIELDS)
    project_rows = _audit_rows(PROJECT_HISTORY, project.pk, project_columns, datetimes=set())
    commitment_rows = _audit_rows(COMMITMENT_HISTORY, project.pk, commitment_columns, datetimes={"due_at"})
    entries = [{**entry, "what": _("Project")} for entry in _changes(project_rows, project_columns)] + [
        {**entry, "what": entry["row"]["title"]} for entry in _changes(commitment_rows, commitment_columns)
    ]
    entries.sort(key=lambda e: e["row"]["history_date"], reverse=True)
    entries = entries[:AUDIT_LIMIT]
    for entry in entries:
        row = entry["row"]
        entry["when"] = timezone.localtime(row["history_date"]).strftime("%Y-%m-%d %H:%M")
        entry["who"] = row["who"]
        entry["change"] = "; ".join(entry["changes"])
    return entries


COMMITMENT_KEYS = [
    "pk",
    "title",
    "kind",
    "due_at",
    "status",
    "created_at",
    "fulfilled_at",
    "closed_at",
    "close_reason",
    "renegotiated_from_id",
]


def project_commitments(project: FinancingProject) -> list[dict]:
    """Every commitment of the project by due date, as rows with the owner's and the author's
    names: what the page shows of them."""
    rows = fetch(
        "SELECT m.id, m.title, m.kind, m.due_at, m.status, m.created_at, m.fulfilled_at, m.closed_at,"
        " m.close_reason, m.renegotiated_from_id, o.first_name, o.last_name, o.username,"
        " b.first_name, b.last_name, b.username, m.owner_id FROM finance_projects_commitment m"
        " JOIN accounts_user o ON o.id = m.owner_id LEFT JOIN accounts_user b ON b.id = m.created_by_id"
        " WHERE m.project_id = %s ORDER BY m.due_at, m.id",
        [project.pk],
    )
    people = display.People()
    commitments = []
    for values in rows:
        row = dict(zip(COMMITMENT_KEYS, values[:10], strict=True))
        for key in ("due_at", "created_at", "fulfilled_at", "closed_at"):
            row[key] = as_datetime(row[key])
        row["owner"] = people.name(*values[10:13])
        row["created_by"] = people.name(*values[13:16])
        row["owner_id"] = values[16]
        commitments.append(row)
    return commitments


# The side forms of the page, by the name their section and action go by. They load when the
# user opens them (HTMX, or `?form=<name>` without JavaScript); a form sent back with errors is
# shown open in place.
PAGE_FORMS = ("touchpoint", "commitment", "stage", "status_link", "survey")


def blank_form(name: str, *, project: FinancingProject, user: User, at: datetime):
    """A side form of the page as it opens, with its defaults."""
    if name == "touchpoint":
        return TouchpointForm(
            project=project, initial={"occurred_at": timezone.localtime(at), "is_client_update": True}
        )
    if name == "commitment":
        owners = selectors.commitment_owners(project)
        return CommitmentForm(
            owners=owners, initial={"owner": user.pk if user.team_id == project.team_id else None}
        )
    if name == "stage":
        return StageMoveForm(initial={"to_stage": Stage.next_after(project.stage)})
    if name == "status_link":
        return StatusLinkForm(project=project)
    if name == "survey":
        return SurveySendForm(project=project)
    raise ValueError(name)


def form_context(request, project: FinancingProject, name: str, form) -> dict:
    """What `partials/project_form.html` needs to show one side form."""
    user = request.user
    return {
        "project": project,
        "name": name,
        "form": form,
        "is_manager": user.is_manager or user.is_admin_role,
    }


def status_links(project: FinancingProject, *, at: datetime) -> list[dict]:
    """The project's live client status links, newest first: contact, expiry, last view."""
    rows = fetch(
        "SELECT l.id, ct.name, l.expires_at, l.last_viewed_at FROM finance_projects_projectstatuslink l"
        " JOIN finance_projects_contact ct ON ct.id = l.contact_id"
        " WHERE l.project_id = %s AND l.revoked_at IS NULL AND l.expires_at > %s ORDER BY l.created_at DESC",
        [project.pk, at],
    )
    revoke_url = display.id_link("dashboard:status-link-revoke")
    return [
        {
            "revoke_url": revoke_url(pk),
            "contact": name,
            "until": display.local(as_datetime(expires_at), "Y-m-d"),
            "last_viewed": display.local(as_datetime(last_viewed_at), "m-d H:i"),
        }
        for pk, name, expires_at, last_viewed_at in rows
    ]


def open_commitment_rows(commitments: list[dict], *, at: datetime) -> list[dict]:
    """The open commitments as the page lists them: links, kind, due date, and the earlier dates
    of each (the renegotiated ones it replaced, oldest first)."""
    by_pk = {c["pk"]: c for c in commitments}
    fulfil_url = display.id_link("dashboard:commitment-action", "fulfil")
    renegotiate_url = display.id_link("dashboard:commitment-action", "renegotiate")
    kinds = display.choice_labels(CommitmentKind.choices)
    rows = []
    for commitment in commitments:
        if commitment["status"] != CommitmentStatus.OPEN:
            continue
        chain, step = [], commitment
        while step["renegotiated_from_id"] and step["renegotiated_from_id"] in by_pk:
            step = by_pk[step["renegotiated_from_id"]]
            chain.insert(
                0,
                {
                    "due": display.local(step["due_at"], "Y-m-d"),
                    "reason": display.truncate(step["close_reason"], 60),
                },
            )
        rows.append(
            {
                **commitment,
                "fulfil_url": fulfil_url(commitment["pk"]),
                "renegotiate_url": renegotiate_url(commitment["pk"]),
                "kind_label": kinds.get(commitment["kind"], commitment["kind"]),
                "due": display.local(commitment["due_at"], "Y-m-d H:i"),
                "missed": commitment["due_at"] < at,
                "previous_versions": chain,
            }
        )
    return rows


def with_actions(rows: list[dict], request, *, can_edit: bool) -> list[dict]:
    """Mark the open commitments the viewer may fulfil or give a new date (the rule of
    `can_change_commitment`, with `can_edit` known once for the page) and give each its blank
    new-date form. The form is rendered once, not once per row; each row's copy gets the
    commitment's ids (no two fields on the page share one)."""
    blank = render_to_string(
        "dashboard/partials/fields.html", {"form": RenegotiateForm(commitment_pk=0)}, request=request
    )
    for row in rows:
        row["can_change"] = can_edit or row["owner_id"] == request.user.pk
        ids = f'"id_renegotiate_{row["pk"]}_'  # an int: the escaped form stays escaped
        row["renegotiate_fields"] = mark_safe(blank.replace('"id_renegotiate_0_', ids))
    return rows


def project_context(request, project: FinancingProject, *, open_form: str = "", **forms) -> dict:
    now = timezone.now()
    user = request.user
    commitments = project_commitments(project)
    can_edit = can_edit_project(user, project)
    csrf_token = get_token(request)
    # As the complaints app rules: everyone who sees the project but department staff.
    may_record_complaints = not user.is_department_staff
    renegotiate_form = forms.get("renegotiate_form")
    # Every commitment is read above: the missed ones need no query of their own.
    missed = [
        (project.pk, c["title"], c["due_at"])
        for c in commitments
        if c["status"] == CommitmentStatus.OPEN and c["due_at"] < now
    ]
    health = compute_health(projects=[project], at=now, missed=missed).get(project.pk)
    side_forms = {}
    if can_edit:
        for name in PAGE_FORMS:
            form = forms.get(f"{name}_form")
            if form is None and name == open_form:
                form = blank_form(name, project=project, user=user, at=now)
            if form is not None:
                side_forms[name] = form
    return {
        "project": project,
        "client": project.client,
        "can_edit": can_edit,
        "path": stage_path(project, at=now),
        "days_in_stage": (now - project.stage_entered_at).days,
        "open_commitments": with_actions(
            open_commitment_rows(commitments, at=now), request, can_edit=can_edit
        ),
        "timeline": timeline_rows(
            timeline(project, commitments, complaint_actions=may_record_complaints),
            csrf_token=csrf_token,
            next_url=reverse("dashboard:project", args=[project.pk]),
            responses=ResponseBlocks(
                project_pk=project.pk,
                csrf_token=csrf_token,
                editable=can_edit,
                at=now,
                sent_back=forms.get("response_sent_back"),
            ),
        ),
        "audit": audit_trail(project),
        "health": health,
        "health_reasons": [factor_text(f) for f in health.factors] if health else [],
        "status_links": status_links(project, at=now),
        # Only the side forms shown open: the others load when the user opens them.
        "side_forms": side_forms,
        "form_url": reverse("dashboard:project", args=[project.pk]) + "?form=",
        "renegotiate_form": renegotiate_form,
        "renegotiating": forms.get("renegotiating"),
        "is_manager": user.is_manager or user.is_admin_role,
    }


# `dashboard:project-survey` is `projects/<pk>/survey/`, ahead of `dashboard:project-action`:
# the side form's action URL (`project-action` with "survey") reaches this view.
@require_POST
@login_required
def send_survey(request, pk: int):
    """Send a survey from the project page, as `POST /api/v1/survey-invitations/` does: only who
    may act on the project, the same rules. The contact gets the personal link by e-mail (the
    delivery task), so the page never shows it. A send the rules hold back (frequency cap, opted
    out, no e-mail) or bad input: the page again (400) with the reason on its field, the form
    open as typed, no invitation."""
    with timezone.override(request.user.zone):
        project = get_project_for(request.user, pk)
        if not can_edit_project(request.user, project):
            raise PermissionDenied
        form = SurveySendForm(request.POST, project=project)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = feedback_services.survey_send(
                    project=project,
                    contact=data["contact"],
                    survey=data["survey"],
                    trigger=Trigger.MANUAL,
                    reason=data["reason"],
                    created_by=request.user,
                    issue_link=True,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if result.skip is None:
                    sent = _("Survey sent to %(contact)s.") % {"contact": data["contact"].name}
                    messages.success(request, sent)
                    return redirect("dashboard:project", pk=project.pk)
                form.add_error("contact", feedback_services.skip_message(result.skip))
        context = project_context(request, project, survey_form=form)
        return render(request, "dashboard/project.html", context, status=400)
