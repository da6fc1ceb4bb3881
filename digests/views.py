"""Browser pages: preview any week's digest, choose whether to receive it, unsubscribe."""

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .emails import render_digest, user_from_unsubscribe_token
from .forms import DigestPreferenceForm
from .selectors import (
    build_digest,
    digest_language,
    digest_zone,
    is_digest_recipient,
    may_receive_digest,
    preference_of,
)
from .services import digest_preference_set, digest_unsubscribe
from .weeks import IsoWeek, current_week, last_complete_week, parse_week


def _requested_week(request) -> IsoWeek:
    """The `?week=` asked for, or the last complete week; a week that has not begun in the
    user's zone is refused: it has no figures, and its lists would be today's."""
    zone = digest_zone(request.user)
    value = request.GET.get("week", "").strip()
    if not value:
        return last_complete_week(timezone.now(), zone)
    week = parse_week(value)
    if week > current_week(timezone.now(), zone):
        raise ValidationError({"week": _("Week %(week)s has not begun yet.") % {"week": week}}, code="future")
    return week


@login_required
def preview(request):
    """The digest the signed-in user would get for `?week=YYYY-Www` (last week by default)."""
    try:
        week = _requested_week(request)
    except ValidationError as error:
        context = {"errors": error.message_dict.get("week", []), "week_value": request.GET.get("week", "")}
        return render(request, "digests/preview.html", context, status=400)
    rendered = render_digest(build_digest(recipient=request.user, week=week))
    this_week = current_week(timezone.now(), digest_zone(request.user))
    context = {
        "week": week,
        "week_value": str(week),
        "previous_week": week.shift(-1),
        "next_week": week.shift(1) if week < this_week else None,  # none to a week not begun
        "rendered": rendered,
        "language": digest_language(request.user),
        "receives": is_digest_recipient(request.user),
        "eligible": may_receive_digest(request.user),
    }
    return render(request, "digests/preview.html", context)


@login_required
@xframe_options_sameorigin
@csp_replace({"style-src": ["'unsafe-inline'"], "frame-ancestors": ["'self'"], "script-src": ["'none'"]})
def preview_email(request):
    """The HTML part exactly as mailed, for the preview page's frame (inline styles allowed)."""
    try:
        week = _requested_week(request)
    except ValidationError as error:
        return HttpResponse(" ".join(error.message_dict["week"]), status=400, content_type="text/plain")
    rendered = render_digest(build_digest(recipient=request.user, week=week))
    return HttpResponse(rendered.html)


@login_required
def preference(request):
    current = preference_of(request.user)
    initial = {
        "enabled": current.enabled if current else is_digest_recipient(request.user),
        "language": current.language if current else "",
    }
    form = DigestPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            digest_preference_set(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("Your digest settings are saved."))
            return redirect("digests:settings")
    return render(
        request,
        "digests/settings.html",
        {
            "form": form,
            "receives": is_digest_recipient(request.user),
            "eligible": may_receive_digest(request.user),
        },
        status=400 if form.errors else 200,
    )


@csrf_exempt  # RFC 8058 one-click unsubscribe: the mail provider POSTs without a CSRF token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks for confirmation (link scanners must not unsubscribe anyone); POST switches off."""
    user = user_from_unsubscribe_token(token)
    if user is None:
        raise Http404
    if request.method == "POST":
        digest_unsubscribe(user=user)
        return render(request, "digests/unsubscribe.html", {"done": True, "subscriber": user})
    return render(request, "digests/unsubscribe.html", {"done": False, "subscriber": user})
