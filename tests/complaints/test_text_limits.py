"""What is typed on a complaint (the client's words, the remedy asked for, every reason, the
response, an action, a follow-up's outcome, a note) holds at most NOTE_MAX_CHARS characters, like
the notes elsewhere in the product: longer is refused on its own field, in the services, the API
and on the pages, and nothing is saved. 100,000 characters used to be accepted."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.models import Complaint
from finance_projects.models import NOTE_MAX_CHARS, Touchpoint
from tests.complaints.world import world
from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

AT_THE_LIMIT = "话" * NOTE_MAX_CHARS
OVER_THE_LIMIT = AT_THE_LIMIT + "。"


def new_complaint(project, contact, **fields):
    return {
        "project": project.pk,
        "contact": contact.pk,
        "channel": "phone",
        "category": "late_information",
        "description": "Nobody told us the committee date.",
        **fields,
    }


# --- the services --------------------------------------------------------------------------


def _create(c, by, text, field):
    return services.complaint_create(
        project=c.project,
        contact=c.contact,
        channel="phone",
        category="late_information",
        description=text if field == "description" else "Nobody told us.",
        remedy_requested=text if field == "remedy_requested" else "",
        created_by=by,
    )


SERVICE_STEPS = {
    "create-description": ("complaint", "description", _create),
    "create-remedy": ("complaint", "remedy_requested", _create),
    "extend": (
        "acknowledged",
        "reason",
        lambda c, by, text, _f: services.complaint_extend(complaint=c, by=by, reason=text),
    ),
    "pause": (
        "acknowledged",
        "reason",
        lambda c, by, text, _f: services.complaint_pause(complaint=c, by=by, reason=text),
    ),
    "assign-rm": (
        "acknowledged",
        "rm_handling_reason",
        lambda c, by, text, _f: services.complaint_assign(
            complaint=c, owner=c.project.relationship_manager, by=by, rm_handling_reason=text
        ),
    ),
    "resolve": (
        "acknowledged",
        "response_text",
        lambda c, by, text, _f: services.complaint_resolve(
            complaint=c, by=by, response_text=text, response_channel="email", root_cause="external"
        ),
    ),
    "close": (
        "resolved",
        "reason",
        lambda c, by, text, _f: services.complaint_close(complaint=c, by=by, reason=text),
    ),
    "reopen": (
        "resolved",
        "reason",
        lambda c, by, text, _f: services.complaint_reopen(complaint=c, by=by, reason=text),
    ),
    "note": (
        "acknowledged",
        "text",
        lambda c, by, text, _f: services.complaint_add_note(complaint=c, by=by, text=text),
    ),
    "action": (
        "acknowledged",
        "description",
        lambda c, by, text, _f: services.recovery_action_add(
            complaint=c,
            kind="apology",
            description=text,
            owner=by,
            due_at=c.received_at + timedelta(days=2),
            by=by,
        ),
    ),
    "follow-up": (
        "resolved",
        "outcome",
        lambda c, by, text, _f: services.followup_complete(
            followup=c.followups.order_by("due_at").first(), by=by, outcome=text
        ),
    ),
}


@pytest.mark.parametrize("step", SERVICE_STEPS)
def test_every_typed_text_over_the_limit_is_refused_on_its_field_and_nothing_changes(
    request, manager, django_capture_on_commit_callbacks, step
):
    state, field, act = SERVICE_STEPS[step]
    complaint = request.getfixturevalue(state)
    before = world()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as error:
        act(complaint, manager, OVER_THE_LIMIT, field)

    assert list(error.value.message_dict) == [field]
    assert world() == before


@pytest.mark.parametrize("step", SERVICE_STEPS)
def test_every_typed_text_at_the_limit_is_taken(request, manager, django_capture_on_commit_callbacks, step):
    state, field, act = SERVICE_STEPS[step]
    complaint = request.getfixturevalue(state)

    with django_capture_on_commit_callbacks(execute=True):
        act(complaint, manager, AT_THE_LIMIT, field)


# --- the API -------------------------------------------------------------------------------


def test_a_complaint_over_the_limit_is_refused_on_its_field_and_at_the_limit_recorded(
    api_as, owner, project, contact
):
    api = api_as(owner)

    for field in ("description", "remedy_requested"):
        refused = api.post(
            "/api/v1/complaints/", new_complaint(project, contact, **{field: OVER_THE_LIMIT}), format="json"
        )
        assert refused.status_code == 400
        assert list(refused.json()) == [field]
    assert not Complaint.objects.exists()

    data = new_complaint(project, contact, description=AT_THE_LIMIT, remedy_requested=AT_THE_LIMIT)
    assert api.post("/api/v1/complaints/", data, format="json").status_code == 201


@pytest.mark.parametrize("field", ["description", "remedy_requested"])
def test_editing_a_complaint_over_the_limit_is_refused(api_as, complaint, manager, field):
    before = world()

    response = api_as(manager).patch(
        f"/api/v1/complaints/{complaint.pk}/", {field: OVER_THE_LIMIT}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert world() == before


API_STEPS = {
    "extend": ("acknowledged", "extend/", {"reason": OVER_THE_LIMIT}, "reason"),
    "pause": ("acknowledged", "pause/", {"reason": OVER_THE_LIMIT}, "reason"),
    "assign": ("acknowledged", "assign/", {"rm_handling_reason": OVER_THE_LIMIT}, "rm_handling_reason"),
    "resolve": (
        "acknowledged",
        "resolve/",
        {"response_text": OVER_THE_LIMIT, "response_channel": "email", "root_cause": "external"},
        "response_text",
    ),
    "close": ("resolved", "close/", {"reason": OVER_THE_LIMIT}, "reason"),
    "reopen": ("resolved", "reopen/", {"reason": OVER_THE_LIMIT}, "reason"),
}


@pytest.mark.parametrize("step", API_STEPS)
def test_a_step_with_a_reason_over_the_limit_answers_400_on_that_field(
    request, api_as, manager, owner, django_capture_on_commit_callbacks, step
):
    state, path, data, field = API_STEPS[step]
    complaint = request.getfixturevalue(state)
    if step == "assign":
        data = {**data, "owner": owner.pk}  # the project's RM: the manager records why
    before = world()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(manager).post(f"/api/v1/complaints/{complaint.pk}/{path}", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert world() == before


def test_a_recovery_action_described_over_the_limit_is_refused(api_as, acknowledged, manager):
    before = world()

    response = api_as(manager).post(
        "/api/v1/complaint-actions/",
        {
            "complaint": acknowledged.pk,
            "kind": "apology",
            "description": OVER_THE_LIMIT,
            "owner": manager.pk,
            "due_at": (acknowledged.received_at + timedelta(days=2)).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["description"]
    assert world() == before


# --- a follow-up's outcome -----------------------------------------------------------------


def test_a_follow_up_outcome_over_the_limit_is_refused_on_the_outcome(api_as, resolved, manager):
    visit = resolved.followups.order_by("due_at").first()
    before = world()

    response = api_as(manager).post(
        f"/api/v1/complaint-followups/{visit.pk}/complete/", {"outcome": "x" * 100_000}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["outcome"]
    assert world() == before


def test_a_follow_up_outcome_at_the_limit_is_kept_whole_and_its_touchpoint_shortened_to_fit(
    api_as, resolved, manager
):
    visit = resolved.followups.order_by("due_at").first()

    response = api_as(manager).post(
        f"/api/v1/complaint-followups/{visit.pk}/complete/", {"outcome": AT_THE_LIMIT}, format="json"
    )

    assert response.status_code == 200, response.json()
    visit.refresh_from_db()
    assert visit.outcome == AT_THE_LIMIT
    touchpoint = Touchpoint.objects.get(pk=visit.touchpoint_id)
    assert touchpoint.summary.startswith(f"{resolved.reference}: 话")
    assert len(touchpoint.summary) == NOTE_MAX_CHARS


# --- the pages -----------------------------------------------------------------------------


def test_a_complaint_over_the_limit_is_refused_next_to_the_field_on_the_new_complaint_page(
    client, owner, project, contact
):
    client.force_login(owner)

    response = client.post(
        reverse("complaints:create"),
        {**new_complaint(project, contact, description=OVER_THE_LIMIT), "severity": "medium"},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["description"]
    assert f'maxlength="{NOTE_MAX_CHARS}"' in response.content.decode()
    assert not Complaint.objects.exists()


PAGE_STEPS = {
    "extend": ("acknowledged", "extend", "extend", {"reason": OVER_THE_LIMIT}, "reason"),
    "pause": ("acknowledged", "pause", "pause", {"pause-reason": OVER_THE_LIMIT}, "reason"),
    "resolve": (
        "acknowledged",
        "resolve",
        "resolve",
        {"response_text": OVER_THE_LIMIT, "response_channel": "email", "root_cause": "external"},
        "response_text",
    ),
    "close": ("resolved", "close", "close", {"reason": OVER_THE_LIMIT}, "reason"),
    "reopen": ("resolved", "reopen", "reopen", {"reopen-reason": OVER_THE_LIMIT}, "reason"),
    "note": ("acknowledged", "note", "note", {"text": OVER_THE_LIMIT}, "text"),
    "action": (
        "acknowledged",
        "add-action",
        "add_action",
        {"kind": "apology", "description": OVER_THE_LIMIT, "due_at": "2026-03-05T10:00"},
        "description",
    ),
}


@pytest.mark.parametrize("step", PAGE_STEPS)
def test_a_text_over_the_limit_is_refused_next_to_its_field_on_the_complaint_page(
    request, client, manager, step
):
    state, name, form, data, field = PAGE_STEPS[step]
    complaint = request.getfixturevalue(state)
    if step == "action":
        data = {**data, "owner": manager.pk}
    client.force_login(manager)
    before = world()

    response = client.post(reverse("complaints:action", args=[complaint.pk, name]), data)

    assert response.status_code == 400
    assert list(response.context["forms"][form].errors) == [field]
    assert world() == before


def test_a_follow_up_outcome_over_the_limit_is_refused_next_to_the_field_on_the_page(
    client, resolved, manager
):
    visit = resolved.followups.order_by("due_at").first()
    client.force_login(manager)
    before = world()

    response = client.post(
        reverse("complaints:followup-done", args=[resolved.pk, visit.pk]), {"outcome": OVER_THE_LIMIT}
    )

    assert response.status_code == 400
    assert list(response.context["forms"][f"followup_{visit.pk}"].errors) == ["outcome"]
    assert world() == before


# --- the client's own words ----------------------------------------------------------------


def test_survey_comments_longer_than_a_complaint_holds_still_open_one_shortened_to_fit(
    project, contact, owner
):
    # Two text answers of the survey's most each, put together as the response's comment.
    comment = f"{AT_THE_LIMIT}\n\n{AT_THE_LIMIT}"
    response = SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact), nps=2, comment=comment
    )

    complaint, created = services.complaint_open_from_survey_response(response=response, by=owner)

    assert created
    assert len(complaint.description) == NOTE_MAX_CHARS
    assert complaint.description.startswith("话")
