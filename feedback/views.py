"""The survey page a client reaches from the personal link in their email.

No login; every answer (unknown, expired and revoked links alike, and links to a survey whose
questions were removed) is one identical "link not valid" page, the one every client link shows
(`cem.client_pages.link_not_valid`); a GET never consumes the link; the page follows the
language the client last chose for this invitation (kept with their draft), else the contact's,
and can be switched with `?lang=`. On the form itself the switch is a button of the form, so
what the client has typed is saved as a draft and shown again in the other language. On the
thank-you page right after the answers (`done=1`) the switch keeps it the thank-you page.
"""

from functools import wraps

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cem.client_pages import LANGUAGE_CODES, language_choices, link_not_valid, requested_language
from cem.ratelimit import known_over_limit, over_limit

from . import selectors, services
from .conf import feedback_setting
from .models import QuestionType, SurveyInvitation, SurveyResponse, Trigger
from .outbox import bank_name


def public_page(view):
    """Headers for pages opened from a token link: no referrer leaks the token, no indexing."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _fallback_language(request) -> str:
    return requested_language(request) or translation.get_language_from_request(request) or "zh-hans"


def _render(request, template: str, context: dict, *, language: str, status: int = 200):
    with translation.override(language):
        response = render(
            request,
            template,
            {**context, "language": language, "languages": language_choices(), "bank": bank_name()},
            status=status,
        )
    response["Content-Language"] = language
    return response


BUDGET_SCOPE, BUDGET_WINDOW_SECONDS = "survey", 60


def _over_budget(request) -> bool:
    """This address has used up its requests of the minute on the public link pages."""
    limit = feedback_setting("PUBLIC_RATE_PER_MINUTE")
    return over_limit(request, scope=BUDGET_SCOPE, limit=limit, window_seconds=BUDGET_WINDOW_SECONDS)


def _too_many(request):
    return _render(
        request, "feedback/rate_limited.html", {}, language=_fallback_language(request), status=429
    )


def _questions(invitation: SurveyInvitation, language: str, values: dict, errors: dict) -> list[dict]:
    rows = []
    for question in services.survey_questions(invitation.survey):
        field = f"q_{question.pk}"
        value = values.get(field, "")
        row = {
            "field": field,
            "type": question.type,
            "text": question.text(language),
            "required": question.required,
            "value": str(value) if value is not None else "",
            "error": errors.get(field, ""),
        }
        if question.scale:
            low, high = question.scale
            row["scale"] = [str(number) for number in range(low, high + 1)]
            row["low_label"], row["high_label"] = {
                QuestionType.NPS: (_("Not at all likely"), _("Extremely likely")),
                QuestionType.CSAT: (_("Very dissatisfied"), _("Very satisfied")),
                QuestionType.CES: (_("Strongly disagree"), _("Strongly agree")),
            }[question.type]
        elif question.type == QuestionType.CHOICE:
            row["options"] = question.options(language)
        rows.append(row)
    return rows


def _form(request, invitation, language, *, values=None, errors=None, notice="", status=200):
    with translation.override(language):
        context = _form_context(invitation, language, values=values or {}, errors=errors or {}, notice=notice)
    return _render(request, "feedback/survey.html", context, language=language, status=status)


def _form_context(invitation, language, *, values, errors, notice) -> dict:
    project = invitation.project
    rm = project.relationship_manager
    return {
        "invitation": invitation,
        "survey_name": invitation.survey.name(language),
        "intro": invitation.intro_text(language),
        "project": project,
        "rm_name": rm.get_full_name() or rm.username,
        "reason": _reason(invitation, language),
        "questions": _questions(invitation, language, values, errors),
        "form_error": errors.get("__all__", ""),
        "notice": notice,
    }


def _reason(invitation: SurveyInvitation, language: str) -> str:
    reason = invitation.reason_text(language)
    if reason:
        return reason
    if invitation.trigger == Trigger.MANUAL:
        # Sent by hand with no reason given: nothing happened that the page may claim.
        return _("Your relationship manager would like your feedback on how it is going.")
    return str(invitation.get_trigger_display())


def _draft(invitation: SurveyInvitation) -> tuple[dict, str | None]:
    """The saved draft's answers (as form values) and the language it was saved in, if any."""
    row = SurveyResponse.objects.filter(invitation=invitation).values_list("answers", "language").first()
    answers, language = row or ({}, "")
    values = {f"q_{question_id}": value for question_id, value in (answers or {}).items()}
    return values, (language if language in LANGUAGE_CODES else None)


def _error_messages(error: ValidationError) -> dict:
    return {field: " ".join(messages) for field, messages in error.message_dict.items()}


def _switch_to(request) -> str | None:
    """The language a click on the form's language switch asks for (an unknown one keeps the
    page's), or None when the form was not sent by the switch."""
    if request.method != "POST" or "lang_switch" not in request.POST:
        return None
    code = request.POST["lang_switch"]
    return code if code in LANGUAGE_CODES else requested_language(request) or ""


def _submitting(request) -> bool:
    return (
        request.method == "POST"
        and request.POST.get("action") != "save"
        and "lang_switch" not in request.POST
    )


# No session, no messages and no cookie here; a complete submission is one statement on
# PostgreSQL. No CSRF token either: the secret link is the credential, so a page on another site
# cannot post to a survey without knowing it, and whoever knows it can post anyway. A cookie
# check added nothing but a dead end for phones that block cookies.
@csrf_exempt
@never_cache
@public_page
@require_http_methods(["GET", "POST"])
def survey_page(request, token: str):
    if _submitting(request):
        # The common case in one statement; anything else (a dead link, answers to correct)
        # falls through to the full path below, which explains it. A stored submission spends
        # no request budget: it used up its one-time link, so it cannot be repeated, and what
        # an address can try (page views, failed submissions) is still counted below. An address
        # this process already found over its budget is refused before the database is asked.
        if known_over_limit(request, scope=BUDGET_SCOPE, window_seconds=BUDGET_WINDOW_SECONDS):
            return _too_many(request)
        stored = services.response_submit_for_link(
            token=token, raw=_answers(request), language=requested_language(request)
        )
        if stored is not None:
            return _submitted(request, stored.language)
    if _over_budget(request):
        return _too_many(request)
    # A submission mostly ends in a redirect: the project and its RM are only read to render a page.
    invitation = services.invitation_for_token(token, for_page=not _submitting(request))
    if invitation is None:
        return link_not_valid(request)
    draft_values, draft_language = _draft(invitation) if request.method == "GET" else ({}, None)
    language = (
        _switch_to(request) or requested_language(request) or draft_language or invitation.contact.language
    )
    if invitation.responded_at is not None:
        just_submitted = request.GET.get("done") == "1"
        context = {
            "just_submitted": just_submitted,
            "asked_to_be_contacted": just_submitted
            and selectors.invitation_asks_to_be_contacted(invitation.pk),
            "rm_name": _rm_name(invitation),
        }
        return _render(request, "feedback/thanks.html", context, language=language)
    if not invitation.is_usable() or not services.survey_questions(invitation.survey):
        # A survey whose questions were removed after it was sent has nothing to answer: its
        # link is no longer in use, like a revoked one.
        return link_not_valid(request)
    if request.method == "GET":
        services.invitation_mark_opened(invitation=invitation)
        return _form(request, invitation, language, values=draft_values)
    raw = _answers(request)
    with translation.override(language):
        try:
            if _switch_to(request) is not None:
                # What the client typed is kept, in the new language: the valid answers in the
                # draft (with the language, for their next visit), all of them on the page as
                # typed; errors wait for the submission.
                services.response_save_draft(
                    invitation=invitation, raw=raw, language=language, drop_invalid=True
                )
                return _form(request, invitation, language, values=raw)
            if request.POST.get("action") == "save":
                services.response_save_draft(invitation=invitation, raw=raw, language=language)
                notice = _("Your answers are saved. You can come back to this link to finish.")
                return _form(request, invitation, language, values=raw, notice=notice)
            services.response_submit(invitation=invitation, raw=raw, language=language)
        except services.InvitationClosed:
            return _render(
                request, "feedback/thanks.html", {"rm_name": _rm_name(invitation)}, language=language
            )
        except ValidationError as error:
            return _form(request, invitation, language, values=raw, errors=_error_messages(error), status=400)
    return _submitted(request, language)


def _answers(request) -> dict[str, str]:
    return {name: value for name, value in request.POST.items() if name.startswith("q_")}


def _submitted(request, language: str):
    # The page's own address (what reverse() would build for this link, without the lookup).
    return HttpResponseRedirect(f"{request.path}?lang={language}&done=1")


def _rm_name(invitation: SurveyInvitation) -> str:
    rm = invitation.project.relationship_manager
    return rm.get_full_name() or rm.username


@csrf_exempt  # one-click unsubscribe (RFC 8058): mail clients POST without a form
@never_cache
@public_page
@require_http_methods(["GET", "POST"])
def opt_out_page(request, token: str):
    if _over_budget(request):
        return _too_many(request)
    # Any link the contact was sent still unsubscribes, expired or revoked: the e-mail that
    # carried it promised as much (and its List-Unsubscribe header is clicked long after).
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return link_not_valid(request)
    language = requested_language(request) or invitation.contact.language
    if request.method == "POST":
        services.contact_opt_out(invitation=invitation)
        return _render(request, "feedback/opted_out.html", {}, language=language)
    if invitation.contact.opted_out:
        return _render(request, "feedback/opted_out.html", {"already": True}, language=language)
    return _render(request, "feedback/opt_out.html", {"invitation": invitation}, language=language)
