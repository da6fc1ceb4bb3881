"""What the project 360° page shows: the stage path, one merged timeline, the audit trail and the
forms. A fixed number of queries whatever the project's history (each list is read once)."""

from collections import defaultdict
from datetime import datetime

from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from finance_projects.models import (
    AlertKind,
    Commitment,
    CommitmentStatus,
    FinancingProject,
    Stage,
    StageDefinition,
    TouchpointChannel,
)
from finance_projects.selectors import can_edit_project

from . import display, selectors
from .forms import CommitmentForm, RenegotiateForm, StageMoveForm, StatusLinkForm, TouchpointForm
from .health import compute_health, factor_text
from .sql import as_datetime, fetch

TIMELINE_LIMIT = 60
AUDIT_LIMIT = 30


def stage_path(project: FinancingProject, *, at: datetime) -> list[dict]:
    """Every stage in order with its purpose, expected days and the days actually spent in it."""
    definitions = {d.stage: d for d in StageDefinition.objects.all()}
    spent: dict[str, float] = defaultdict(float)
    for transition in project.transitions.all():
        end = transition.left_at or at
        spent[transition.stage] += (end - transition.entered_at).total_seconds() / 86400
    current = Stage.order(project.stage)
    language = get_language()
    path = []
    for index, (value, label) in enumerate(Stage.choices):
        definition = definitions.get(value)
        expected = definition.expected_days if definition else None
        actual = round(spent[value]) if value in spent else None
        path.append(
            {
                "stage": value,
                "label": label,
                "purpose": definition.purpose(language) if definition else "",
                "expected_days": expected,
                "actual_days": actual,
                "state": "done" if index < current else ("current" if index == current else "todo"),
                "late": bool(expected and actual is not None and actual > expected),
            }
        )
    return path


def _event(at, kind, title, detail="", *, tone="", who=None, link=None):
    return {"at": at, "kind": kind, "title": title, "detail": detail, "tone": tone, "who": who, "link": link}


def timeline(project: FinancingProject, commitments: list[Commitment]) -> list[dict]:
    """Touchpoints, commitments (with every renegotiation), alerts, complaints and survey
    responses of the project, newest first."""
    events = []
    people = display.People()
    channels = display.choice_labels(TouchpointChannel.choices)
    # Raw reads, each the newest TIMELINE_LIMIT rows of one table (see `sql`).
    touchpoints = fetch(
        "SELECT t.occurred_at, t.channel, t.summary, t.needs_attention, u.first_name, u.last_name, u.username"
        " FROM finance_projects_touchpoint t LEFT JOIN accounts_user u ON u.id = t.logged_by_id"
        " WHERE t.project_id = %s ORDER BY t.occurred_at DESC, t.id DESC LIMIT %s",
        [project.pk, TIMELINE_LIMIT],
    )
    for occurred_at, channel, summary, needs_attention, first, last, username in touchpoints:
        events.append(
            _event(
                as_datetime(occurred_at),
                "touchpoint",
                channels.get(channel, channel),
                summary,
                tone="attention" if needs_attention else "",
                who=people.name(first, last, username),
            )
        )
    for commitment in commitments:
        events.append(
            _event(
                commitment.created_at,
                "commitment",
                _("Promised: %(title)s") % {"title": commitment.title},
                _("due %(due)s") % {"due": timezone.localtime(commitment.due_at).strftime("%Y-%m-%d %H:%M")},
                who=commitment.created_by,
            )
        )
        if commitment.status == CommitmentStatus.FULFILLED:
            events.append(
                _event(
                    commitment.fulfilled_at,
                    "commitment",
                    _("Kept: %(title)s") % {"title": commitment.title},
                    tone="good",
                )
            )
        elif commitment.status == CommitmentStatus.RENEGOTIATED:
            events.append(
                _event(
                    commitment.closed_at,
                    "commitment",
                    _("New date agreed: %(title)s") % {"title": commitment.title},
                    commitment.close_reason,
                    tone="warn",
                )
            )
        elif commitment.status == CommitmentStatus.CANCELLED:
            events.append(
                _event(
                    commitment.closed_at,
                    "commitment",
                    _("Cancelled: %(title)s") % {"title": commitment.title},
                    commitment.close_reason,
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
        rows = fetch(
            "SELECT r.submitted_at, r.nps, r.csat, r.comment, r.is_detractor, ct.name"
            " FROM feedback_surveyresponse r JOIN feedback_surveyinvitation i ON i.id = r.invitation_id"
            " JOIN finance_projects_contact ct ON ct.id = i.contact_id"
            " WHERE i.project_id = %s AND r.submitted_at IS NOT NULL ORDER BY r.submitted_at DESC LIMIT %s",
            [project.pk, TIMELINE_LIMIT],
        )
        for submitted_at, nps, csat, comment, detractor, name in rows:
            scores = ", ".join(
                f"{label} {value}" for label, value in (("NPS", nps), ("CSAT", csat)) if value is not None
            )
            events.append(
                _event(
                    as_datetime(submitted_at),
                    "survey",
                    _("Survey answered by %(name)s") % {"name": name},
                    f"{scores} {comment}".strip(),
                    tone="bad" if detractor else "good",
                )
            )
    events.sort(key=lambda e: e["at"] or timezone.now(), reverse=True)
    events = events[:TIMELINE_LIMIT]
    # Formatted once here, not through date and linebreaksbr filters on every row of the page.
    for event in events:
        at = timezone.localtime(event["at"]) if event["at"] else None
        event["at_iso"] = at.isoformat() if at else ""
        event["at_text"] = at.strftime("%Y-%m-%d %H:%M") if at else ""
        event["detail"] = linebreaksbr(event["detail"], autoescape=True) if event["detail"] else ""
    return events


def _changes(records: list, fields: list[str]) -> list[dict]:
    """What each historical record changed compared with the previous record of the same row."""
    by_row: dict[int, list] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        by_row[record.id].append(record)
    entries = []
    for versions in by_row.values():
        previous = None
        for record in versions:
            if previous is None:
                changed = [_("created")]
            else:
                changed = [
                    f"{_label(record, name)}: {_display(previous, name)} → {_display(record, name)}"
                    for name in fields
                    if getattr(previous, name) != getattr(record, name)
                ]
            if changed:
                entries.append({"record": record, "changes": changed})
            previous = record
    return entries


def _label(record, name: str) -> str:
    return str(record._meta.get_field(name.removesuffix("_id")).verbose_name)


def _display(record, name: str) -> str:
    value = getattr(record, name)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    display = getattr(record, f"get_{name}_display", None)
    return str(display() if display else ("—" if value in (None, "") else value))


def audit_trail(project: FinancingProject) -> list[dict]:
    """Who changed what and when, on the project and its commitments (django-simple-history)."""
    project_records = list(
        project.history.select_related("history_user").order_by("-history_date")[:AUDIT_LIMIT]
    )
    commitment_records = list(
        Commitment.history.filter(project_id=project.pk)
        .select_related("history_user")
        .order_by("-history_date")[:AUDIT_LIMIT]
    )
    entries = [
        {**entry, "what": _("Project")}
        for entry in _changes(
            project_records,
            [
                "name",
                "amount",
                "currency",
                "stage",
                "status",
                "update_cadence_days",
                "relationship_manager_id",
            ],
        )
    ] + [
        {**entry, "what": entry["record"].title}
        for entry in _changes(commitment_records, ["title", "due_at", "status", "owner_id", "close_reason"])
    ]
    entries.sort(key=lambda e: e["record"].history_date, reverse=True)
    entries = entries[:AUDIT_LIMIT]
    for entry in entries:
        record = entry["record"]
        entry["when"] = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
        entry["who"] = str(record.history_user) if record.history_user else "—"
        entry["change"] = "; ".join(entry["changes"])
    return entries


# The side forms of the page, by the name their section and action go by. They load when the
# user opens them (HTMX, or `?form=<name>` without JavaScript); a form sent back with errors is
# shown open in place.
PAGE_FORMS = ("touchpoint", "commitment", "stage", "status_link")


def blank_form(name: str, *, project: FinancingProject, user: User, at: datetime):
    """A side form of the page as it opens, with its defaults."""
    if name == "touchpoint":
        return TouchpointForm(
            project=project, initial={"occurred_at": timezone.localtime(at), "is_client_update": True}
        )
    if name == "commitment":
        owners = User.objects.filter(is_active=True, team_id=project.team_id)
        owners = owners.order_by("first_name", "username")
        return CommitmentForm(
            owners=owners, initial={"owner": user.pk if user.team_id == project.team_id else None}
        )
    if name == "stage":
        return StageMoveForm(initial={"to_stage": Stage.next_after(project.stage)})
    if name == "status_link":
        return StatusLinkForm(project=project)
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


def project_context(request, project: FinancingProject, *, open_form: str = "", **forms) -> dict:
    now = timezone.now()
    user = request.user
    commitments = list(
        project.commitments.select_related("owner", "created_by", "renegotiated_from").order_by(
            "due_at", "id"
        )
    )
    by_pk = {c.pk: c for c in commitments}
    fulfil_url = display.id_link("dashboard:commitment-action", "fulfil")
    renegotiate_url = display.id_link("dashboard:commitment-action", "renegotiate")
    for commitment in commitments:
        commitment.fulfil_url, commitment.renegotiate_url = (
            fulfil_url(commitment.pk),
            renegotiate_url(commitment.pk),
        )
        chain, step = [], commitment
        while step.renegotiated_from_id and step.renegotiated_from_id in by_pk:
            step = by_pk[step.renegotiated_from_id]
            chain.insert(0, step)
        commitment.previous_versions = chain
        commitment.missed = commitment.is_missed(at=now)
    can_edit = can_edit_project(user, project)
    renegotiate_form = forms.get("renegotiate_form") or RenegotiateForm()
    health = compute_health(projects=[project], at=now).get(project.pk)
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
        "open_commitments": [c for c in commitments if c.status == CommitmentStatus.OPEN],
        "timeline": timeline(project, commitments),
        "audit": audit_trail(project),
        "health": health,
        "health_reasons": [factor_text(f) for f in health.factors] if health else [],
        "status_links": list(
            project.status_links.filter(revoked_at__isnull=True, expires_at__gt=now).select_related("contact")
        ),
        # Only the side forms shown open: the others load when the user opens them.
        "side_forms": side_forms,
        "form_url": reverse("dashboard:project", args=[project.pk]) + "?form=",
        "renegotiate_form": renegotiate_form,
        # Every open commitment carries the same blank form: rendered once, not once per row.
        "renegotiate_fields": render_to_string(
            "dashboard/partials/fields.html", {"form": RenegotiateForm()}, request=request
        ),
        "renegotiating": forms.get("renegotiating"),
        "is_manager": user.is_manager or user.is_admin_role,
    }
