"""Browser pages for complaints: list, detail with its timeline and actions, reports and
exports, the case library, and the client's own page `/c/<token>/`. Views parse input and call
services; refused steps re-render the page with the reason next to the field."""

from datetime import datetime, time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cem.client_pages import language_choices, link_not_valid, requested_language
from cem.spreadsheets import csv_cell, xlsx_bytes
from feedback import selectors as feedback_selectors

from . import deadlines, selectors, services
from .anonymise import anonymiser_for
from .forms import (
    AssignForm,
    CaseFilterForm,
    CaseForm,
    CloseForm,
    CompensationForm,
    ComplaintCreateForm,
    ComplaintFilterForm,
    ExtendForm,
    FollowUpForm,
    MergeForm,
    NoteForm,
    ReasonForm,
    RecoveryActionForm,
    ReportFilterForm,
    ResolveForm,
)
from .models import CaseStudy, RecoveryAction, ResponseChannel, Status

PAGE_SIZE = 25


@login_required
def complaint_list(request):
    form = ComplaintFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(selectors.complaint_list(request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "complaints/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()},
    )


@login_required
def complaint_create(request):
    if request.user.is_department_staff:
        raise PermissionDenied
    form = ComplaintCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.complaint_create(
                created_by=request.user,
                project=data["project"],
                contact=data["contact"],
                channel=data["channel"],
                received_at=data["received_at"],
                category=data["category"],
                severity=data["severity"],
                description=data["description"],
                remedy_requested=data["remedy_requested"],
                legal_risk=data["legal_risk"],
                sla_policy=data["sla_policy"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Complaint %(ref)s recorded.") % {"ref": complaint.reference})
            return redirect("complaints:detail", pk=complaint.pk)
    return render(request, "complaints/create.html", {"form": form}, status=400 if form.errors else 200)


# What the project page's timeline offers on each survey response: open its complaint here, or
# view the one opened before.
OPEN_FROM_SURVEY_RESPONSE = gettext_lazy("Open a complaint")
VIEW_COMPLAINT = gettext_lazy("View complaint")


@login_required
@require_POST
def complaint_from_survey_response(request, response_id):
    """The one-click complaint about a survey response (the project page's timeline): opens it,
    or finds the one opened before, and shows it."""
    response = feedback_selectors.get_response_for(request.user, response_id)  # 404 outside scope
    if request.user.is_department_staff:
        raise PermissionDenied
    try:
        complaint, created = services.complaint_open_from_survey_response(response=response, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_safe_next(request) or "complaints:list")
    if created:
        messages.success(
            request, _("Complaint %(ref)s opened from the survey response.") % {"ref": complaint.reference}
        )
    else:
        messages.info(
            request, _("This survey response already has complaint %(ref)s.") % {"ref": complaint.reference}
        )
    return redirect("complaints:detail", pk=complaint.pk)


def _safe_next(request) -> str | None:
    """The page the form came from (`next`), when it is one of ours."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else None


def _add_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _action_form(name: str, complaint, data=None, **kwargs):
    """The form of a step on the complaint page, with ids of its own (`id_assign_owner`): several
    forms on the page share field names."""
    form_class, prefix = ACTION_FORMS[name]
    extra = {"project": complaint.project} if form_class in (AssignForm, RecoveryActionForm) else {}
    auto_id = "id_%s" if prefix else f"id_{name.replace('-', '_')}_%s"
    return form_class(data, prefix=prefix, auto_id=auto_id, **extra, **kwargs)


def _followup_form(visit, data=None) -> FollowUpForm:
    return FollowUpForm(data, auto_id=f"id_followup_{visit.pk}_%s")


def _detail_context(request, complaint, bound: dict | None = None) -> dict:
    bound = {name.replace("-", "_"): form for name, form in (bound or {}).items()}
    forms = {
        "extend": _action_form("extend", complaint),
        "pause": _action_form("pause", complaint),
        "resolve": _action_form(
            "resolve", complaint, initial={"root_cause": complaint.root_cause, "response_channel": "email"}
        ),
        "close": _action_form("close", complaint),
        "reopen": _action_form("reopen", complaint),
        "note": _action_form("note", complaint),
        "assign": _action_form("assign", complaint),
        "compensation": _action_form(
            "compensation", complaint, initial={"currency": complaint.sla_policy.compensation_currency}
        ),
        "add_action": _action_form("add-action", complaint),
    }
    can_handle = services.may_handle(request.user, complaint)
    case = CaseStudy.objects.filter(complaint=complaint).first()
    may_reopen = (
        can_handle and complaint.status in (Status.RESOLVED, Status.CLOSED) and not complaint.merged_into_id
    )
    if may_reopen and case is None and "publish" not in bound:
        # The narrative to review before publishing: scrubbed, each language from its own text.
        narratives = anonymiser_for(complaint).narratives()
        forms["publish"] = _action_form(
            "publish", complaint, initial={"summary_zh": narratives["zh"], "summary_en": narratives["en"]}
        )
    forms.update(bound)
    followups = [
        (visit, bound.get(f"followup_{visit.pk}") or _followup_form(visit))
        for visit in complaint.followups.all()
    ]
    events = list(complaint.events.all())
    return {
        "complaint": complaint,
        "recovery_survey": feedback_selectors.recovery_survey_of(
            project_id=complaint.project_id, complaint_reference=complaint.reference
        ),
        "forms": forms,
        "followups": followups,
        # A follow-up at which the client said they were not satisfied, while the complaint rests
        # resolved or closed: the page says so and offers to reopen it.
        "unsatisfied": [
            visit
            for visit, _form in followups
            if visit.done_at
            and visit.client_satisfied is False
            and complaint.status in (Status.RESOLVED, Status.CLOSED)
        ],
        "may_reopen": may_reopen,
        "events": reversed(events),
        "unsent_emails": selectors.unsent_client_emails(complaint),
        # Handling steps (acknowledge, extend, resolve...) and notes: the project's RM may add a
        # note but handles the complaint only with a manager's approval.
        "can_handle": can_handle,
        "can_note": selectors.can_handle(request.user, complaint),
        "duplicates": list(services.duplicate_candidates(complaint).select_related("owner"))
        if complaint.is_open
        else [],
        "summary_due": deadlines.summary_resolution_due(complaint.received_at, complaint.sla_policy.rules()),
        "case": case,
        "now": timezone.now(),
    }


@login_required
def complaint_detail(request, pk):
    complaint = selectors.get_complaint_for(request.user, pk)
    return render(request, "complaints/detail.html", _detail_context(request, complaint))


def _call(name, complaint, user, data):
    if name == "acknowledge":
        return services.complaint_acknowledge(complaint=complaint, by=user)
    if name == "investigate":
        return services.complaint_start_investigation(complaint=complaint, by=user)
    if name == "resume":
        return services.complaint_resume(complaint=complaint, by=user)
    if name == "extend":
        return services.complaint_extend(
            complaint=complaint, by=user, reason=data["reason"], days=data["days"]
        )
    if name == "pause":
        return services.complaint_pause(complaint=complaint, by=user, reason=data["reason"])
    if name == "reopen":
        return services.complaint_reopen(complaint=complaint, by=user, reason=data["reason"])
    if name == "resolve":
        return services.complaint_resolve(
            complaint=complaint,
            by=user,
            response_text=data["response_text"],
            response_channel=data["response_channel"],
            response_sent_at=data["response_sent_at"],
            root_cause=data["root_cause"] or None,
        )
    if name == "close":
        return services.complaint_close(
            complaint=complaint, by=user, client_confirmed=data["client_confirmed"], reason=data["reason"]
        )
    if name == "note":
        return services.complaint_add_note(complaint=complaint, by=user, text=data["text"])
    if name == "assign":
        return services.complaint_assign(
            complaint=complaint, by=user, owner=data["owner"], rm_handling_reason=data["rm_handling_reason"]
        )
    if name == "compensation":
        return services.complaint_set_compensation(
            complaint=complaint, by=user, amount=data["amount"], currency=data["currency"]
        )
    if name == "add-action":
        return services.recovery_action_add(complaint=complaint, by=user, **data)
    if name == "merge":
        into = selectors.get_complaint_for(user, data["into"])
        return services.complaint_merge(duplicate=complaint, into=into, by=user)
    if name == "publish":
        return services.case_publish(complaint=complaint, by=user, **data)
    raise Http404


ACTION_FORMS = {
    "acknowledge": None,
    "investigate": None,
    "resume": None,
    "extend": (ExtendForm, None),
    "pause": (ReasonForm, "pause"),
    "reopen": (ReasonForm, "reopen"),
    "resolve": (ResolveForm, None),
    "close": (CloseForm, None),
    "note": (NoteForm, None),
    "assign": (AssignForm, None),
    "compensation": (CompensationForm, None),
    "add-action": (RecoveryActionForm, None),
    "merge": (MergeForm, None),
    "publish": (CaseForm, None),
}

DONE_MESSAGES = {
    "acknowledge": gettext_lazy("Complaint acknowledged."),
    "investigate": gettext_lazy("Investigation started."),
    "resume": gettext_lazy("Clock resumed; the client was told."),
    "extend": gettext_lazy("Deadline extended; the client was told."),
    "pause": gettext_lazy("Clock paused; the client was told."),
    "reopen": gettext_lazy("Complaint reopened."),
    "resolve": gettext_lazy("Complaint resolved; follow-up visits scheduled."),
    "close": gettext_lazy("Complaint closed."),
    "note": gettext_lazy("Note added."),
    "assign": gettext_lazy("Handler changed."),
    "compensation": gettext_lazy("Compensation recorded."),
    "add-action": gettext_lazy("Recovery action added."),
    "merge": gettext_lazy("Complaint merged."),
    "publish": gettext_lazy("Published to the case library."),
}


@login_required
@require_POST
def complaint_action(request, pk, name):
    if name not in ACTION_FORMS:
        raise Http404
    complaint = selectors.get_complaint_for(request.user, pk)
    if not selectors.can_handle(request.user, complaint):
        raise PermissionDenied
    form, data = None, {}
    if ACTION_FORMS[name] is not None:
        form = _action_form(name, complaint, request.POST)
        if not form.is_valid():
            return _refused(request, complaint, name, form)
        data = form.cleaned_data
    handler_before = (complaint.owner_id, complaint.rm_handling_approved_by_id, complaint.rm_handling_reason)
    try:
        done = _call(name, complaint, request.user, data)
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return redirect("complaints:detail", pk=complaint.pk)
        _add_errors(form, error)
        return _refused(request, complaint, name, form)
    if name == "assign" and handler_before == (
        done.owner_id,
        done.rm_handling_approved_by_id,
        done.rm_handling_reason,
    ):
        messages.info(
            request, _("%(name)s already handles this complaint: nothing changed.") % {"name": done.owner}
        )
    else:
        messages.success(request, DONE_MESSAGES[name])
    return redirect("complaints:detail", pk=complaint.pk)


def _refused(request, complaint, name, form):
    complaint = selectors.get_complaint_for(request.user, complaint.pk)
    context = _detail_context(request, complaint, {name: form})
    context["refused"] = name
    if name != "note" and not context["can_handle"]:
        # The form is not on the page of one who may not handle the complaint: say why here.
        context["refused_reasons"] = [message for messages_ in form.errors.values() for message in messages_]
    return render(request, "complaints/detail.html", context, status=400)


@login_required
@require_POST
def recovery_action_done(request, pk, action_id):
    complaint = selectors.get_complaint_for(request.user, pk)
    recovery = get_object_or_404(RecoveryAction, pk=action_id, complaint=complaint)
    if recovery.owner_id != request.user.pk and not selectors.can_handle(request.user, complaint):
        raise PermissionDenied
    try:
        services.recovery_action_complete(action=recovery, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Recovery action done."))
    return redirect("complaints:detail", pk=complaint.pk)


@login_required
@require_POST
def followup_done(request, pk, followup_id):
    complaint = selectors.get_complaint_for(request.user, pk)
    if not selectors.can_handle(request.user, complaint):
        raise PermissionDenied
    visit = get_object_or_404(complaint.followups.all(), pk=followup_id)
    form = _followup_form(visit, request.POST)
    if not form.is_valid():
        return _refused(request, complaint, f"followup-{visit.pk}", form)
    try:
        services.followup_complete(followup=visit, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _add_errors(form, error)
        return _refused(request, complaint, f"followup-{visit.pk}", form)
    messages.success(request, _("Follow-up recorded and logged as a touchpoint."))
    return redirect("complaints:detail", pk=complaint.pk)


# --- reports -------------------------------------------------------------------------------


def _period(request):
    form = ReportFilterForm(request.GET or None)
    start = end = None
    if form.is_valid():
        zone = timezone.get_current_timezone()
        if form.cleaned_data["start"]:
            start = datetime.combine(form.cleaned_data["start"], time.min, tzinfo=zone)
        if form.cleaned_data["end"]:
            end = datetime.combine(form.cleaned_data["end"], time.max, tzinfo=zone)
    return form, start, end


def _reports_page(request, form, start, end):
    """The reports page for [start, end]; answers 400 when the period is not one (its error next
    to the field, the figures over the whole history)."""
    report = selectors.complaint_report(selectors.report_rows(request.user, start=start, end=end))
    return render(
        request,
        "complaints/reports.html",
        {
            "form": form,
            "report": report,
            "pareto_chart": selectors.pareto_chart(report.pareto),
            "effect": selectors.recovery_effect(request.user, since=start),
            "query": request.GET.urlencode(),
        },
        status=400 if form.errors else 200,
    )


@login_required
def reports(request):
    return _reports_page(request, *_period(request))


@login_required
def reports_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form, start, end = _period(request)
    if form.errors:
        # A period that is not one exports nothing (not the whole history): the page says why.
        return _reports_page(request, form, start, end)
    rows = selectors.report_rows(request.user, start=start, end=end)
    frame = selectors.report_export_frame(rows, timezone.get_current_timezone())
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 (Chinese text) correctly with a BOM
        frame.map(csv_cell).to_csv(response, index=False)
        return response
    response = HttpResponse(
        xlsx_bytes({"complaints": frame}),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.xlsx"'
    return response


# --- case library --------------------------------------------------------------------------


@login_required
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = selectors.cases_search(
        q=filters.get("q", ""), category=filters.get("category", ""), root_cause=filters.get("root_cause", "")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "complaints/case_list.html", {"form": form, "page": page})


@login_required
@require_GET
def case_detail(request, pk):
    return render(request, "complaints/case_detail.html", {"case": get_object_or_404(CaseStudy, pk=pk)})


# --- the client's page ---------------------------------------------------------------------


NEXT_STEPS = {
    Status.NEW: gettext_lazy("A named handler will take your complaint on and contact you."),
    Status.ACKNOWLEDGED: gettext_lazy("Your handler is looking into what happened."),
    Status.INVESTIGATING: gettext_lazy("Your handler is investigating and will send you a decision."),
    Status.REOPENED: gettext_lazy("We are looking at your complaint again."),
    Status.RESOLVED: gettext_lazy(
        "We have given you our decision and will call you to check you are satisfied."
    ),
    Status.CLOSED: gettext_lazy("This complaint is closed. Thank you for telling us."),
}

# A resolved complaint's next step says how and when the decision reached the client: only an
# e-mailed or posted decision was "sent".
DECISION_GIVEN = {
    ResponseChannel.EMAIL: gettext_lazy(
        "We e-mailed you our decision on %(day)s and will call you to check you are satisfied."
    ),
    ResponseChannel.LETTER: gettext_lazy(
        "We sent you our decision by letter on %(day)s and will call you to check you are satisfied."
    ),
    ResponseChannel.PHONE: gettext_lazy(
        "We gave you our decision by phone on %(day)s and will call you to check you are satisfied."
    ),
    ResponseChannel.MEETING: gettext_lazy(
        "We gave you our decision at a meeting on %(day)s and will call you to check you are satisfied."
    ),
}


def _next_step(complaint) -> str:
    """What happens next, as the client's page says it (in the active language)."""
    given = DECISION_GIVEN.get(complaint.response_channel)
    if complaint.status == Status.RESOLVED and given is not None and complaint.response_sent_at:
        day = deadlines.local_date(complaint.response_sent_at, complaint.sla_policy.timezone)
        return str(given) % {"day": day.isoformat()}
    return str(NEXT_STEPS[complaint.status])


@never_cache
def client_page(request, token):
    link = services.complaint_link_resolve(token)
    if link is None:
        return link_not_valid(request)
    complaint = link.complaint
    language = requested_language(request) or complaint.contact.language or settings.LANGUAGE_CODE
    with translation.override(language):
        response = render(
            request,
            "complaints/client.html",
            {
                "complaint": complaint,
                "next_deadline": complaint.next_deadline(),
                "next_step": _next_step(complaint),
                "policy_zone": complaint.sla_policy.timezone,
                "language": language,
                "languages": language_choices(),
            },
        )
    response["Content-Language"] = language
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
