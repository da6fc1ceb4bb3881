"""Project-level views that belong to no app: the health check, the site's icon, and the error
pages, which answer an API address in JSON as the API's own errors do."""

from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache

from .celery import app as celery_app


def _database_answers() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # any driver error means "down"; the message says which
        return False, f"{type(exc).__name__}: {exc}"[:300]


def _broker_answers() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:300]


@never_cache
def healthz(request):
    db_ok, db_detail = _database_answers()
    broker_ok, broker_detail = _broker_answers()
    healthy = db_ok and broker_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {"database": db_detail, "broker": broker_detail},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's, a JSON answer)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


API_PREFIX = "/api/"


def page_not_found(request, exception):
    """An address nothing answers: under /api/ DRF's body (`{"detail": "Not found."}`, in the
    reader's language), elsewhere the site's page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """A failure the code did not expect: under /api/ a JSON body, elsewhere the site's page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    return defaults.server_error(request)
