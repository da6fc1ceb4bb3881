"""The permission matrix, declared: for every route, what kind of route it is and how to point
it at the owner's objects. A route that is in neither `TABLE` nor `EXEMPT` fails the matrix.

Kinds:
- `page`: a signed-in page with no object in its URL; anonymous callers go to the login page.
- `object`: a signed-in page about one object; outsiders get 404 (or 403), the owner gets 200.
- `api`: an API endpoint with no object in its URL; anonymous callers get 401/403.
- `api-object`: an API endpoint about one object; outsiders get 404 (or 403).
- `token`: a client's personal link; an unknown token answers 404, the real one 200.

`post_only` routes only change things: the owner's GET answers 405 and the owner's POST must
reach the view (neither 401/403/404 nor a server error).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .matrix_world import World


@dataclass(frozen=True)
class Spec:
    kind: str
    kwargs: Callable[[World], dict] = field(default=lambda w: {})
    viewer: str = "owner"
    post_only: bool = False
    shared: str = ""  # why every signed-in colleague may read this object


def api_object(attr: str, **options) -> Spec:
    return Spec("api-object", lambda w: {"pk": getattr(w, attr).pk}, **options)


def api_action(attr: str) -> Spec:
    return api_object(attr, post_only=True)


def token(attr: str) -> Spec:
    return Spec("token", lambda w: {"token": getattr(w, attr)})


TABLE: dict[str, Spec] = {
    # --- browser pages ---------------------------------------------------------------------
    "dashboard:home": Spec("page"),
    "dashboard:team": Spec("page", viewer="manager"),
    "dashboard:project": Spec("object", lambda w: {"pk": w.project.pk}),
    "dashboard:project-action": Spec(
        "object", lambda w: {"pk": w.project.pk, "action": "touchpoint"}, post_only=True
    ),
    "dashboard:project-survey": Spec("object", lambda w: {"pk": w.project.pk}, post_only=True),
    "dashboard:client": Spec("object", lambda w: {"pk": w.client.pk}),
    "dashboard:responses": Spec("page"),
    "dashboard:alert-action": Spec(
        "object", lambda w: {"pk": w.alert.pk, "action": "acknowledge"}, post_only=True
    ),
    "dashboard:commitment-action": Spec(
        "object", lambda w: {"pk": w.commitment.pk, "action": "fulfil"}, post_only=True
    ),
    "dashboard:status-link-revoke": Spec("object", lambda w: {"pk": w.status_link.pk}, post_only=True),
    "dashboard:export-portfolio": Spec("page", lambda w: {"fmt": "csv"}),
    "dashboard:export-kpis": Spec("page", lambda w: {"fmt": "csv"}, viewer="manager"),
    "complaints:list": Spec("page"),
    "complaints:create": Spec("page"),
    "complaints:reports": Spec("page"),
    "complaints:export": Spec("page", lambda w: {"fmt": "csv"}),
    "complaints:detail": Spec("object", lambda w: {"pk": w.complaint.pk}),
    "complaints:action": Spec(
        "object", lambda w: {"pk": w.complaint.pk, "name": "acknowledge"}, post_only=True
    ),
    "complaints:action-done": Spec(
        "object", lambda w: {"pk": w.complaint.pk, "action_id": w.recovery_action.pk}, post_only=True
    ),
    "complaints:followup-done": Spec(
        "object", lambda w: {"pk": w.complaint.pk, "followup_id": w.followup.pk}, post_only=True
    ),
    "complaints:from-survey-response": Spec(
        "object", lambda w: {"response_id": w.response.pk}, post_only=True
    ),
    "complaints:cases": Spec("page"),
    "complaints:case": Spec(
        "object",
        lambda w: {"pk": w.case.pk},
        shared="the case library is anonymised training material for every colleague",
    ),
    "import-start": Spec("page"),
    "import-detail": Spec("object", lambda w: {"pk": w.import_job.pk}),
    "import-errors-csv": Spec("object", lambda w: {"pk": w.import_job.pk}),
    "import-template": Spec("page", lambda w: {"kind": "clients"}),
    "digests:preview": Spec("page", viewer="manager"),
    "digests:preview-email": Spec("page", viewer="manager"),
    "digests:settings": Spec("page"),
    # --- client links ----------------------------------------------------------------------
    "feedback:survey": token("survey_token"),
    "feedback:opt-out": token("survey_token"),
    "complaints:client": token("complaint_token"),
    "dashboard:status-page": token("status_token"),
    "digests:unsubscribe": token("unsubscribe_token"),
    # --- REST API --------------------------------------------------------------------------
    "api-root@api": Spec("api"),
    "metrics@api": Spec("api"),
    "client-list@api": Spec("api"),
    "contact-list@api": Spec("api"),
    "project-list@api": Spec("api"),
    "touchpoint-list@api": Spec("api"),
    "commitment-list@api": Spec("api"),
    "alert-list@api": Spec("api"),
    "import-list@api": Spec("api"),
    "survey-list@api": Spec("api"),
    "survey-invitation-list@api": Spec("api"),
    "survey-response-list@api": Spec("api"),
    "complaint-list@api": Spec("api"),
    "complaint-action-list@api": Spec("api"),
    "complaint-followup-list@api": Spec("api"),
    "client-detail@api": api_object("client"),
    "contact-detail@api": api_object("contact"),
    "project-detail@api": api_object("project"),
    "project-move-stage@api": api_action("project"),
    "touchpoint-detail@api": api_object("touchpoint"),
    "commitment-detail@api": api_object("commitment"),
    "commitment-cancel@api": api_action("commitment"),
    "commitment-fulfil@api": api_action("commitment"),
    "commitment-renegotiate@api": api_action("commitment"),
    "alert-detail@api": api_object("alert"),
    "alert-acknowledge@api": api_action("alert"),
    "alert-assign@api": api_action("alert"),
    "alert-snooze@api": api_action("alert"),
    "alert-unsnooze@api": api_action("alert"),
    "import-detail@api": api_object("import_job"),
    "survey-detail@api": api_object(
        "survey", shared="a survey is the bank's questionnaire, the same for every client; no client data"
    ),
    "survey-invitation-detail@api": api_object("invitation"),
    "survey-invitation-revoke@api": api_action("invitation"),
    "survey-response-detail@api": api_object("response"),
    "survey-response-follow-up@api": api_action("response"),
    "survey-response-complaint@api": api_action("response"),
    "complaint-detail@api": api_object("complaint"),
    "complaint-acknowledge@api": api_action("complaint"),
    "complaint-assign@api": api_action("complaint"),
    "complaint-close@api": api_action("complaint"),
    "complaint-compensation@api": api_action("complaint"),
    "complaint-extend@api": api_action("complaint"),
    "complaint-investigate@api": api_action("complaint"),
    "complaint-pause@api": api_action("complaint"),
    "complaint-reopen@api": api_action("complaint"),
    "complaint-resolve@api": api_action("complaint"),
    "complaint-resume@api": api_action("complaint"),
    "complaint-action-detail@api": api_object("recovery_action"),
    "complaint-action-complete@api": api_action("recovery_action"),
    "complaint-followup-detail@api": api_object("followup"),
    "complaint-followup-complete@api": api_action("followup"),
}

# Routes the matrix does not probe, each with the reason and where it is tested instead.
EXEMPT: dict[str, str] = {
    "healthz": "public by contract: the load balancer polls it (tests/test_healthz.py)",
    "login": "the login page itself",
    "logout": "signing out needs no session; POST only",
    "set_language": "the staff pages' and login page's language switch (client links use ?lang=)",
    "api-token@api": "exchanges a username and password for a token (tests/accounts/test_token_auth.py)",
    "api-schema": "the OpenAPI document; it describes endpoints, never data (test_schemathesis.py)",
    "api-docs": "the Swagger page rendering the schema (tests/finance_projects/test_api_schema.py)",
    "favicon": "a redirect to the site's icon, the same for everyone (tests/test_error_pages.py)",
    "bench-bare": "exists only with BENCH_ENDPOINTS=true, for the load floor (scripts/load.py)",
}

# Known gaps, each with the exact fix; the matrix expects them to fail until fixed (strict xfail).
KNOWN_GAPS: dict[str, str] = {}
