"""The client's project status page, `/p/<token>/`: no login, the link is the key.

Unknown, expired and revoked tokens all answer the same 404. The page follows the contact's
language unless the reader picks another with the page's language switch (`?lang=`, see
`cem.client_pages`), sends no referrer, and shows only what is meant for the client: shareable
touchpoints and open commitments."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from cem.client_pages import language_choices, link_not_valid, requested_language
from cem.ratelimit import over_limit
from complaints.services import complaint_raise_from_client, was_sent_twice
from finance_projects.models import MAX_EXPECTED_DAYS, CommitmentStatus, Stage
from finance_projects.services import status_link_resolve

from .forms import ConcernForm, add_service_errors
from .project_page import stage_path

# Concerns one address may send per hour through status pages.
CONCERNS_PER_HOUR = 5
RECENT_UPDATES = 15


def _client_path(path: list[dict]) -> list[dict]:
    """The stage path as the client sees it: no expected duration for the last stage (a closed
    deal has nothing left to wait for; its stored days are only the scan's ten-year ceiling), nor
    for any stage whose expected days are that ceiling."""
    last = Stage.values[-1]
    return [
        {**stage, "expected_days": None}
        if stage["stage"] == last or (stage["expected_days"] or 0) >= MAX_EXPECTED_DAYS
        else stage
        for stage in path
    ]


# No CSRF check: the page has no login or session to ride on, the secret token in the URL is the
# only credential, and browsers send `Origin: null` under `Referrer-Policy: no-referrer`.
@never_cache
@csrf_exempt
def status_page(request, token: str):
    link = status_link_resolve(token)
    if link is None:
        return link_not_valid(request)
    language = requested_language(request) or link.contact.language or settings.LANGUAGE_CODE
    with translation.override(language):
        form = ConcernForm(request.POST or None)
        sent = request.GET.get("sent") == "1"
        status = 200
        if request.method == "POST":
            if over_limit(request, scope="status-page-concern", limit=CONCERNS_PER_HOUR, window_seconds=3600):
                form.add_error(None, _("Too many messages from this address; please try again in an hour."))
                status = 429
            elif form.is_valid():
                try:
                    complaint_raise_from_client(
                        project=link.project,
                        contact=link.contact,
                        description=form.cleaned_data["description"],
                    )
                except ValidationError as exc:
                    if not was_sent_twice(exc):  # a double click: the first one was recorded
                        add_service_errors(form, exc)
                        status = 400
                if status == 200:
                    return redirect(f"{request.path}?sent=1&lang={language}")
            else:
                status = 400
        project = link.project
        now = timezone.now()
        response = render(
            request,
            "dashboard/status_page.html",
            {
                "link": link,
                "project": project,
                "contact": link.contact,
                "path": _client_path(stage_path(project, at=now)),
                "days_in_stage": (now - project.stage_entered_at).days,
                "updates": project.touchpoints.filter(shareable=True).order_by("-occurred_at")[
                    :RECENT_UPDATES
                ],
                "commitments": project.commitments.filter(status=CommitmentStatus.OPEN).order_by("due_at"),
                "form": form,
                "sent": sent,
                "language": language,
                "languages": language_choices(),
            },
            status=status,
        )
    response["Content-Language"] = language
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
