"""The project's relationship manager does not handle a complaint about that project unless a
manager approved it: every handling step refuses them and changes nothing, no e-mail goes to the
client; with the approval they may act, and managers always may. A complaint is handed only to
someone who can see its project, and the RM's page offers no step they cannot take."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, Status
from tests.complaints.world import world
from tests.factories import ComplaintFactory, UserFactory

pytestmark = pytest.mark.django_db

RM_MAY_NOT_HANDLE = (
    "The project's relationship manager may not handle a complaint about it unless a manager allows it."
)
APPROVAL_REASON = "Only she knows the borrower."


def says(page: str, text: str) -> bool:
    return text in page or text.replace("'", "&#x27;") in page


# --- the handling steps, each from the state it applies to ---------------------------------


def _acknowledge(cast):
    complaint = services.complaint_assign(complaint=cast.complaint, owner=cast.manager, by=cast.manager)
    return [complaint], lambda by: services.complaint_acknowledge(complaint=complaint, by=by)


def _acknowledged(cast):
    return services.complaint_acknowledge(complaint=cast.complaint, by=cast.manager)


# The answer every resolving step in these tests gives the client.
RESOLUTION = {
    "response_text": "We apologise; the committee meets on 9 March.",
    "response_channel": "email",
    "root_cause": "internal_communication",
}


def _resolved(cast):
    return services.complaint_resolve(complaint=_acknowledged(cast), by=cast.manager, **RESOLUTION)


def _investigate(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_start_investigation(complaint=complaint, by=by)


def _extend(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_extend(
        complaint=complaint, by=by, reason="Needs the credit file."
    )


def _pause(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_pause(
        complaint=complaint, by=by, reason="Outside appraisal of the site."
    )


def _resume(cast):
    complaint = services.complaint_pause(
        complaint=_acknowledged(cast), by=cast.manager, reason="Outside appraisal of the site."
    )
    return [complaint], lambda by: services.complaint_resume(complaint=complaint, by=by)


def _compensation(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_set_compensation(
        complaint=complaint, amount=Decimal("800"), currency="CNY", by=by
    )


def _apology(complaint, *, owner, by):
    return services.recovery_action_add(
        complaint=complaint,
        kind="apology",
        description="Call the CFO to apologise.",
        owner=owner,
        due_at=complaint.received_at + timedelta(days=2),
        by=by,
    )


def _add_recovery_action(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: _apology(complaint, owner=cast.manager, by=by)


def _complete_recovery_action(cast):
    complaint = _acknowledged(cast)
    action = _apology(complaint, owner=cast.manager, by=cast.manager)
    return [complaint], lambda by: services.recovery_action_complete(action=action, by=by)


def _edit_details(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_update(
        complaint=complaint, by=by, severity="low", root_cause="external", legal_risk=False
    )


def _assign(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_assign(complaint=complaint, owner=cast.manager, by=by)


def _resolve(cast):
    complaint = _acknowledged(cast)
    return [complaint], lambda by: services.complaint_resolve(complaint=complaint, by=by, **RESOLUTION)


def _close(cast):
    complaint = _resolved(cast)
    return [complaint], lambda by: services.complaint_close(complaint=complaint, by=by, client_confirmed=True)


def _reopen(cast):
    complaint = _resolved(cast)
    return [complaint], lambda by: services.complaint_reopen(
        complaint=complaint, by=by, reason="The client is not satisfied."
    )


def _record_follow_up(cast):
    complaint = _resolved(cast)
    visit = complaint.followups.order_by("due_at").first()
    return [complaint], lambda by: services.followup_complete(
        followup=visit, by=by, outcome="Client satisfied.", client_satisfied=True
    )


def _publish(cast):
    complaint = _resolved(cast)
    return [complaint], lambda by: services.case_publish(
        complaint=complaint,
        by=by,
        title_zh="放款延迟未告知",
        title_en="Drawdown delay not told",
        lessons_zh="应提前告知客户。",
        lessons_en="Warn the client before a committee slips.",
    )


def _merge(cast):
    cast.time_machine.shift(timedelta(days=2))
    original = cast.complaint
    repeat = ComplaintFactory(project=original.project, contact=original.contact, category=original.category)
    return [repeat, original], lambda by: services.complaint_merge(duplicate=repeat, into=original, by=by)


HANDLING_STEPS = {
    "acknowledge": _acknowledge,
    "start investigation": _investigate,
    "extend the deadline": _extend,
    "pause the clock": _pause,
    "resume the clock": _resume,
    "record compensation": _compensation,
    "add a recovery action": _add_recovery_action,
    "complete someone else's recovery action": _complete_recovery_action,
    "edit the details": _edit_details,
    "reassign": _assign,
    "resolve": _resolve,
    "close": _close,
    "reopen": _reopen,
    "record a follow-up visit": _record_follow_up,
    "publish as a case": _publish,
    "merge": _merge,
}


class Cast:
    def __init__(self, complaint, owner, manager, time_machine):
        self.complaint, self.owner, self.manager, self.time_machine = complaint, owner, manager, time_machine


@pytest.fixture
def cast(complaint, owner, manager, time_machine):
    assert complaint.project.relationship_manager == owner
    return Cast(complaint, owner, manager, time_machine)


def approve_rm(complaints, cast):
    """The manager hands each complaint to the project's RM, with the reason on record."""
    for complaint in complaints:
        services.complaint_assign(
            complaint=complaint, owner=cast.owner, by=cast.manager, rm_handling_reason=APPROVAL_REASON
        )


@pytest.mark.parametrize("step", HANDLING_STEPS)
def test_the_projects_rm_is_refused_every_handling_step_and_nothing_changes(
    step, cast, django_capture_on_commit_callbacks
):
    _complaints, act = HANDLING_STEPS[step](cast)
    before, sent = world(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as error:
        act(cast.owner)
    assert error.value.message_dict["owner"] == [RM_MAY_NOT_HANDLE]
    assert world() == before
    assert len(mail.outbox) == sent


@pytest.mark.parametrize("step", HANDLING_STEPS)
def test_with_a_managers_approval_the_projects_rm_may_take_every_handling_step(step, cast):
    complaints, act = HANDLING_STEPS[step](cast)
    approve_rm(complaints, cast)
    act(cast.owner)


@pytest.mark.parametrize("step", HANDLING_STEPS)
def test_a_manager_may_take_every_handling_step(step, cast):
    _complaints, act = HANDLING_STEPS[step](cast)
    act(cast.manager)


def test_refusing_the_rm_keeps_the_deadline_and_tells_the_client_nothing(
    cast, django_capture_on_commit_callbacks
):
    complaint = _acknowledged(cast)
    due, allowed = complaint.resolve_due_at, complaint.allowed_days
    with django_capture_on_commit_callbacks(execute=True):
        for step in (
            lambda: services.complaint_extend(complaint=complaint, by=cast.owner, reason="More time."),
            lambda: services.complaint_pause(complaint=complaint, by=cast.owner, reason="Appraisal."),
        ):
            with pytest.raises(ValidationError):
                step()
    complaint.refresh_from_db()
    assert (complaint.resolve_due_at, complaint.allowed_days, complaint.extension_count) == (due, allowed, 0)
    assert complaint.paused_at is None
    assert mail.outbox == []


def test_the_projects_rm_may_still_add_a_note_and_open_a_complaint(cast, project, contact):
    note = services.complaint_add_note(complaint=cast.complaint, by=cast.owner, text="Client called again.")
    assert note.actor == cast.owner
    opened = services.complaint_create(
        project=project,
        contact=contact,
        channel="phone",
        category="service_attitude",
        description="The analyst was rude on the phone.",
        created_by=cast.owner,
    )
    assert opened.status == Status.NEW


def test_the_projects_rm_may_carry_out_a_recovery_action_handed_to_them(cast):
    complaint = _acknowledged(cast)
    action = _apology(complaint, owner=cast.owner, by=cast.manager)
    done = services.recovery_action_complete(action=action, by=cast.owner)
    assert done.done_at is not None


# --- who a complaint can be handed to ------------------------------------------------------


def test_reassigning_to_another_teams_rm_is_refused(cast, outsider):
    complaint = _acknowledged(cast)
    before = world()
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(complaint=complaint, owner=outsider, by=cast.manager)
    assert error.value.message_dict["owner"] == ["This person cannot see the complaint's project."]
    assert world() == before


def test_reassigning_to_an_inactive_user_is_refused(cast, team):
    gone = UserFactory(username="gone", team=team, is_active=False)
    complaint = _acknowledged(cast)
    before = world()
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(complaint=complaint, owner=gone, by=cast.manager)
    assert error.value.message_dict["owner"] == ["Choose an active user."]
    assert world() == before


def test_reassigning_to_the_projects_rm_still_needs_the_managers_approval(cast, admin_user):
    complaint = _acknowledged(cast)
    before = world()
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(complaint=complaint, owner=cast.owner, by=admin_user)
    assert "rm_handling_reason" in error.value.message_dict
    assert world() == before
    complaint = services.complaint_assign(
        complaint=complaint, owner=cast.owner, by=admin_user, rm_handling_reason=APPROVAL_REASON
    )
    assert complaint.rm_handling_approved_by == admin_user


def test_a_complaint_cannot_be_recorded_for_another_teams_rm_to_handle(project, contact, outsider):
    with pytest.raises(ValidationError) as error:
        services.complaint_create(
            project=project,
            contact=contact,
            channel="phone",
            category="service_attitude",
            description="The analyst was rude on the phone.",
            created_by=None,
            owner=outsider,
        )
    assert "owner" in error.value.message_dict
    assert not Complaint.objects.exists()


def test_another_teams_rm_cannot_be_made_handler_through_the_page_and_stays_out(client, cast, outsider):
    complaint = _acknowledged(cast)
    client.force_login(cast.manager)
    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "assign"]), {"owner": outsider.pk}
    )
    assert response.status_code == 400
    assert says(response.content.decode(), "This person cannot see the complaint's project.")
    complaint.refresh_from_db()
    assert complaint.owner == cast.manager
    client.force_login(outsider)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404


def test_the_handler_menu_offers_only_active_people_who_see_the_project(
    client, cast, teammate, outsider, department_user
):
    UserFactory(username="gone", team=cast.owner.team, role="manager", is_active=False)
    client.force_login(cast.manager)

    page = client.get(reverse("complaints:detail", args=[cast.complaint.pk])).content.decode()

    start = page.index('name="owner"', page.index("Change the handler"))
    menu = page[start : page.index("</select>", start)]
    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', menu)}
    assert offered == {cast.owner.pk, cast.manager.pk}
    assert {teammate.pk, outsider.pk, department_user.pk}.isdisjoint(offered)


# --- the page and the API ------------------------------------------------------------------


HANDLING_URLS = (
    "acknowledge",
    "investigate",
    "resume",
    "extend",
    "pause",
    "resolve",
    "close",
    "reopen",
    "assign",
    "compensation",
    "add-action",
    "merge",
    "publish",
)


def handling_forms(page: str, complaint) -> list[str]:
    return [name for name in HANDLING_URLS if reverse("complaints:action", args=[complaint.pk, name]) in page]


@pytest.mark.parametrize("state", ["new", "acknowledged", "paused", "resolved"])
def test_the_projects_rm_sees_no_handling_buttons_on_the_complaint_page(client, cast, state, time_machine):
    complaint = cast.complaint
    if state != "new":
        complaint = _resolved(cast) if state == "resolved" else _acknowledged(cast)
    if state == "paused":
        complaint = services.complaint_pause(complaint=complaint, by=cast.manager, reason="Appraisal.")
    if state == "acknowledged":
        time_machine.shift(timedelta(days=1))
        ComplaintFactory(project=complaint.project, contact=complaint.contact, category=complaint.category)
    client.force_login(cast.owner)
    response = client.get(reverse("complaints:detail", args=[complaint.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert handling_forms(page, complaint) == []
    assert "Mark done" not in page and "Record follow-up" not in page
    assert says(page, RM_MAY_NOT_HANDLE)
    assert reverse("complaints:action", args=[complaint.pk, "note"]) in page


def test_the_rm_page_offers_the_acknowledge_button_once_a_manager_approved(client, cast):
    client.force_login(cast.owner)
    approve_rm([cast.complaint], cast)
    page = client.get(reverse("complaints:detail", args=[cast.complaint.pk])).content.decode()
    assert "acknowledge" in handling_forms(page, cast.complaint)
    assert not says(page, RM_MAY_NOT_HANDLE)


def test_a_manager_sees_the_handling_buttons(client, cast):
    complaint = _acknowledged(cast)
    client.force_login(cast.manager)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert {"extend", "pause", "resolve", "assign", "compensation", "add-action"} <= set(
        handling_forms(page, complaint)
    )


def test_extending_through_the_page_as_the_rm_is_refused_and_no_email_goes_out(
    client, cast, django_capture_on_commit_callbacks
):
    complaint = _acknowledged(cast)
    before = world()
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("complaints:action", args=[complaint.pk, "extend"]), {"reason": "More time."}
        )
    assert response.status_code == 400
    assert 'id="refused-reasons"' in response.content.decode()
    assert says(response.content.decode(), RM_MAY_NOT_HANDLE)
    assert world() == before
    assert mail.outbox == []


def test_the_rm_acknowledging_through_the_api_is_refused(api_as, cast):
    response = api_as(cast.owner).post(f"/api/v1/complaints/{cast.complaint.pk}/acknowledge/")
    assert response.status_code == 400
    assert response.json()["owner"] == [RM_MAY_NOT_HANDLE]
    cast.complaint.refresh_from_db()
    assert cast.complaint.status == Status.NEW
