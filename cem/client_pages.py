"""The language of the pages a client opens from a personal link, without login: the survey
`/s/<token>/`, the project status page `/p/<token>/` and the complaint page `/c/<token>/`.

These pages send no referrer, so a browser posts to them (and to any other URL) with
`Origin: null`, which Django's CSRF check refuses on its own `set_language` view. Their language
switch is therefore plain links to the same page with `?lang=<code>`; a form on the page carries
the chosen language in a hidden `lang` field. A GET never stores the choice anywhere."""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def requested_language(request) -> str | None:
    """The language the reader picked (`lang` in the POST, else in the query), if it is one of ours."""
    code = request.POST.get("lang") or request.GET.get("lang")
    return code if code in LANGUAGE_CODES else None


def language_choices() -> list[tuple[str, str]]:
    """The switch's entries, (code, name), each name in its own language."""
    return [(code, "中文" if code == "zh-hans" else "English") for code in LANGUAGE_CODES]


def link_not_valid(request) -> HttpResponse:
    """The 404 of every client link that does not work (survey, status and complaint links),
    whatever the reason (unknown, expired, revoked, a token of another kind of link, a survey
    with nothing left to answer): the same bytes and headers for each, so a page tells nothing
    about the token. Rendered without the request, so no per-request value (a CSRF token)
    varies it; in the language picked, else the browser's. Like the pages the links open, it
    sends no referrer and asks not to be indexed."""
    language = requested_language(request) or translation.get_language()
    with translation.override(language):
        body = render_to_string(
            "client_link_invalid.html", {"language": language, "languages": language_choices()}
        )
    response = HttpResponse(body, status=404)
    response["Content-Language"] = language
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response
