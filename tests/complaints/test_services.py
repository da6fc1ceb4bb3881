"""Every allowed and refused step of a complaint's life; a refused step changes nothing."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from complaints import services
from complaints.models import Complaint, ComplaintEvent, FollowUpVisit, Status
from finance_projects.models import Touchpoint
from tests.factories import ComplaintFactory, ContactFactory, uk_policy

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db


def snapshot(complaint):
    complaint = Complaint.objects.get(pk=complaint.pk)
    fields = {f.attname: getattr(complaint, f.attname) for f in Complaint._meta.concrete_fields}
    fields.pop("updated_at")
    return fields, ComplaintEvent.objects.filter(complaint=complaint).count()


def refused(call, field, complaint):
    before = snapshot(complaint)
    with pytest.raises(ValidationError) as error:
        call()
    assert field in error.value.message_dict
    assert snapshot(complaint) == before
    return error.value.message_dict[field][0]


def test_a_new_complaint_gets_a_reference_deadlines_and_a_receipt_email(
    project, contact, time_machine, received_at, django_capture_on_commit_callbacks
):
    time_machine.move_to(received_at, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = ComplaintFactory(project=project, contact=contact, received_at=received_at)
    assert complaint.reference == f"CP-2026-{complaint.pk:06d}"
    assert complaint.status == Status.NEW
    assert complaint.sla_policy.code == "cn-nfra"
    assert complaint.ack_due_at == datetime(2026, 3, 3, 23, 59, 59, tzinfo=SHANGHAI)
    assert complaint.resolve_due_at == datetime(2026, 3, 17, 23, 59, 59, tzinfo=SHANGHAI)
    assert len(mail.outbox) == 1
    assert complaint.reference in mail.outbox[0].subject
    assert "/c/" in mail.outbox[0].body
    assert mail.outbox[0].to == [contact.email]
    assert list(complaint.events.values_list("kind", flat=True)) == ["received", "email"]


def test_the_receipt_email_is_in_the_contacts_language(
    project, client_org, django_capture_on_commit_callbacks
):
    english = ContactFactory(client=client_org, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        ComplaintFactory(project=project, contact=english)
    assert mail.outbox[0].subject.startswith("We have received your complaint")


def test_a_contact_of_another_client_is_refused(project):
    stranger = ContactFactory()
    with pytest.raises(ValidationError) as error:
        services.complaint_create(
            project=project,
            contact=stranger,
            channel="email",
            category="late_information",
            description="x",
            created_by=None,
        )
    assert "contact" in error.value.message_dict
    assert not Complaint.objects.exists()


def test_acknowledging_assigns_the_handler_and_records_the_step(complaint, teammate):
    complaint = services.complaint_acknowledge(complaint=complaint, by=teammate)
    assert complaint.status == Status.ACKNOWLEDGED
    assert complaint.owner == teammate
    assert complaint.acknowledged_at is not None
    assert complaint.events.filter(kind="status", data__to="acknowledged").exists()


def test_the_projects_rm_may_not_handle_the_complaint_without_a_managers_consent(complaint, owner):
    message = refused(
        lambda: services.complaint_acknowledge(complaint=complaint, by=owner), "owner", complaint
    )
    assert "manager" in message


def test_a_manager_may_let_the_rm_handle_it_with_a_recorded_reason(complaint, owner, manager):
    refused(
        lambda: services.complaint_assign(complaint=complaint, owner=owner, by=manager),
        "rm_handling_reason",
        complaint,
    )
    complaint = services.complaint_assign(
        complaint=complaint, owner=owner, by=manager, rm_handling_reason="Only she knows the borrower."
    )
    assert complaint.owner == owner
    assert complaint.rm_handling_approved_by == manager
    complaint = services.complaint_acknowledge(complaint=complaint, by=owner)
    assert complaint.status == Status.ACKNOWLEDGED


def test_an_rm_cannot_assign_themselves_their_own_projects_complaint(complaint, owner, teammate):
    refused(
        lambda: services.complaint_assign(complaint=complaint, owner=owner, by=teammate), "owner", complaint
    )


def test_acknowledging_twice_is_refused(acknowledged, teammate):
    refused(
        lambda: services.complaint_acknowledge(complaint=acknowledged, by=teammate), "status", acknowledged
    )


def test_closing_an_unacknowledged_complaint_is_refused(complaint, teammate):
    message = refused(
        lambda: services.complaint_close(complaint=complaint, by=teammate, client_confirmed=True),
        "status",
        complaint,
    )
    assert "resolved" in message


def test_resolving_an_unacknowledged_complaint_is_refused(complaint, teammate):
    refused(
        lambda: services.complaint_resolve(
            complaint=complaint,
            by=teammate,
            response_text="ok",
            response_channel="email",
            root_cause="external",
        ),
        "status",
        complaint,
    )


def test_resolving_without_a_response_to_the_client_is_refused(acknowledged, teammate):
    refused(
        lambda: services.complaint_resolve(
            complaint=acknowledged,
            by=teammate,
            response_text="  ",
            response_channel="email",
            root_cause="external",
        ),
        "response_text",
        acknowledged,
    )


def test_resolving_without_a_root_cause_is_refused(acknowledged, teammate):
    refused(
        lambda: services.complaint_resolve(
            complaint=acknowledged, by=teammate, response_text="Sorry.", response_channel="letter"
        ),
        "root_cause",
        acknowledged,
    )


def test_investigation_starts_only_after_acknowledgement(complaint, teammate):
    refused(
        lambda: services.complaint_start_investigation(complaint=complaint, by=teammate), "status", complaint
    )
    services.complaint_acknowledge(complaint=complaint, by=teammate)
    assert (
        services.complaint_start_investigation(complaint=complaint, by=teammate).status
        == Status.INVESTIGATING
    )


def test_resolution_schedules_follow_ups_emails_the_response_and_sends_the_recovery_survey(
    acknowledged, teammate, django_capture_on_commit_callbacks, monkeypatch
):
    surveys = []
    monkeypatch.setattr(
        services.feedback_services, "survey_send_recovery", lambda **kwargs: surveys.append(kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.complaint_resolve(
            complaint=acknowledged,
            by=teammate,
            response_text="The committee meets on 9 March; we will call you every Monday.",
            response_channel="email",
            root_cause="internal_communication",
        )
    assert complaint.status == Status.RESOLVED
    due = sorted(FollowUpVisit.objects.filter(complaint=complaint).values_list("offset_days", "due_at"))
    assert [(days, at - complaint.resolved_at) for days, at in due] == [
        (7, timedelta(days=7)),
        (30, timedelta(days=30)),
    ]
    assert (
        mail.outbox[-1].subject.startswith("Our decision") or complaint.reference in mail.outbox[-1].subject
    )
    assert "every Monday" in mail.outbox[-1].body
    assert surveys == [
        {
            "project": complaint.project,
            "contact": complaint.contact,
            "complaint_reference": complaint.reference,
        }
    ]


def test_closing_needs_the_clients_confirmation_or_a_reason(resolved, teammate):
    message = refused(lambda: services.complaint_close(complaint=resolved, by=teammate), "reason", resolved)
    assert "confirmation" in message
    closed = services.complaint_close(
        complaint=resolved, by=teammate, reason="Client unreachable for 3 weeks."
    )
    assert closed.status == Status.CLOSED
    assert not closed.client_confirmed


def test_a_closed_complaint_is_read_only_until_reopened(resolved, teammate):
    closed = services.complaint_close(complaint=resolved, by=teammate, client_confirmed=True)
    message = refused(
        lambda: services.complaint_update(complaint=closed, by=teammate, severity="high"), "status", closed
    )
    assert "read-only" in message
    refused(lambda: services.complaint_add_note(complaint=closed, by=teammate, text="x"), "status", closed)
    reopened = services.complaint_reopen(
        complaint=closed, by=teammate, reason="The client called back unhappy."
    )
    assert reopened.status == Status.REOPENED
    assert reopened.closed_at is None and reopened.response_text == ""
    assert not FollowUpVisit.objects.filter(complaint=reopened, done_at=None, cancelled_at=None).exists()
    assert services.complaint_update(complaint=reopened, by=teammate, severity="high").severity == "high"


def test_reopening_an_open_complaint_is_refused(acknowledged, teammate):
    refused(
        lambda: services.complaint_reopen(complaint=acknowledged, by=teammate, reason="x"),
        "status",
        acknowledged,
    )


def test_the_first_extension_reaches_thirty_days_and_tells_the_client(
    acknowledged, teammate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.complaint_extend(
            complaint=acknowledged, by=teammate, reason="Needs the credit file."
        )
    assert complaint.allowed_days == 30
    assert complaint.extension_count == 1
    assert complaint.resolve_due_at == datetime(2026, 4, 1, 23, 59, 59, tzinfo=SHANGHAI)
    assert "more time" in mail.outbox[-1].subject or complaint.reference in mail.outbox[-1].subject
    assert complaint.events.filter(kind="extension").count() == 1
    assert complaint.events.filter(kind="email", data__template="complaint-extended").count() == 1


def test_an_extension_needs_a_reason(acknowledged, teammate):
    refused(
        lambda: services.complaint_extend(complaint=acknowledged, by=teammate, reason=""),
        "reason",
        acknowledged,
    )


def test_the_first_extension_cannot_go_past_thirty_days(acknowledged, teammate):
    message = refused(
        lambda: services.complaint_extend(complaint=acknowledged, by=teammate, reason="r", days=20),
        "days",
        acknowledged,
    )
    assert "35" in message and "30" in message


def test_the_second_extension_needs_a_manager_and_never_passes_sixty_days(acknowledged, teammate, manager):
    complaint = services.complaint_extend(complaint=acknowledged, by=teammate, reason="Complex.")
    refused(
        lambda: services.complaint_extend(complaint=complaint, by=teammate, reason="Special."),
        "days",
        complaint,
    )
    refused(
        lambda: services.complaint_extend(complaint=complaint, by=manager, reason="Special.", days=31),
        "days",
        complaint,
    )
    complaint = services.complaint_extend(complaint=complaint, by=manager, reason="Special case.")
    assert complaint.allowed_days == 60
    assert complaint.resolve_due_at == datetime(2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_third_extension_is_refused(acknowledged, teammate, manager):
    complaint = services.complaint_extend(complaint=acknowledged, by=teammate, reason="Complex.", days=5)
    complaint = services.complaint_extend(complaint=complaint, by=manager, reason="Special.", days=5)
    message = refused(
        lambda: services.complaint_extend(complaint=complaint, by=manager, reason="Again.", days=1),
        "days",
        complaint,
    )
    assert "twice" in message


def test_the_uk_policy_allows_no_extension(project, contact, teammate):
    complaint = ComplaintFactory(project=project, contact=contact, sla_policy=uk_policy())
    assert complaint.resolve_due_at - complaint.received_at > timedelta(days=55)
    refused(
        lambda: services.complaint_extend(complaint=complaint, by=teammate, reason="r"), "days", complaint
    )


def test_pausing_stops_the_clock_and_resuming_moves_the_deadline(acknowledged, teammate, time_machine):
    due = acknowledged.resolve_due_at
    complaint = services.complaint_pause(
        complaint=acknowledged, by=teammate, reason="Outside valuation of the site."
    )
    assert complaint.is_paused
    refused(
        lambda: services.complaint_pause(complaint=complaint, by=teammate, reason="again"),
        "status",
        complaint,
    )
    time_machine.shift(timedelta(days=5))
    complaint = services.complaint_resume(complaint=complaint, by=teammate)
    assert not complaint.is_paused
    assert complaint.paused_seconds == 5 * 86400
    assert complaint.resolve_due_at == due + timedelta(days=5)
    kinds = list(complaint.events.values_list("kind", flat=True))
    assert "pause" in kinds and "resume" in kinds
    assert complaint.events.filter(kind="email", data__template="complaint-paused").exists()
    refused(lambda: services.complaint_resume(complaint=complaint, by=teammate), "status", complaint)


def test_a_paused_complaint_cannot_be_resolved(acknowledged, teammate):
    complaint = services.complaint_pause(complaint=acknowledged, by=teammate, reason="Appraisal.")
    refused(
        lambda: services.complaint_resolve(
            complaint=complaint,
            by=teammate,
            response_text="x",
            response_channel="email",
            root_cause="external",
        ),
        "status",
        complaint,
    )


def test_compensation_above_the_limit_needs_a_managers_approval(acknowledged, teammate, manager):
    refused(
        lambda: services.complaint_set_compensation(
            complaint=acknowledged, amount=Decimal("20000"), currency="CNY", by=teammate
        ),
        "compensation_amount",
        acknowledged,
    )
    small = services.complaint_set_compensation(
        complaint=acknowledged, amount=Decimal("800"), currency="CNY", by=teammate
    )
    assert small.compensation_approved_by is None
    big = services.complaint_set_compensation(
        complaint=acknowledged, amount=Decimal("20000"), currency="CNY", by=teammate, approved_by=manager
    )
    assert big.compensation_approved_by == manager
    assert big.compensation == "20,000.00 CNY"


def test_a_repeat_of_the_same_complaint_is_merged_into_the_original(complaint, teammate, time_machine):
    time_machine.shift(timedelta(days=2))
    repeat = ComplaintFactory(
        project=complaint.project, contact=complaint.contact, category=complaint.category
    )
    assert list(services.duplicate_candidates(repeat)) == [complaint]
    merged = services.complaint_merge(duplicate=repeat, into=complaint, by=teammate)
    assert merged.status == Status.CLOSED
    assert merged.merged_into == complaint
    assert complaint.events.filter(kind="merge", data__merged=repeat.reference).exists()


def test_a_complaint_about_another_category_is_not_merged(complaint, teammate):
    other = ComplaintFactory(
        project=complaint.project, contact=complaint.contact, category="service_attitude"
    )
    refused(
        lambda: services.complaint_merge(duplicate=other, into=complaint, by=teammate), "merged_into", other
    )


def test_a_repeat_after_the_original_deadline_is_not_merged(complaint, teammate, time_machine):
    time_machine.shift(timedelta(days=20))
    late = ComplaintFactory(project=complaint.project, contact=complaint.contact, category=complaint.category)
    refused(
        lambda: services.complaint_merge(duplicate=late, into=complaint, by=teammate), "merged_into", late
    )


def test_a_done_follow_up_is_logged_as_a_touchpoint(resolved, teammate, time_machine):
    visit = resolved.followups.order_by("due_at").first()
    time_machine.shift(timedelta(days=7))
    done = services.followup_complete(
        followup=visit, by=teammate, outcome="Client satisfied.", client_satisfied=True
    )
    touchpoint = Touchpoint.objects.get(pk=done.touchpoint_id)
    assert touchpoint.channel == "follow_up_visit"
    assert resolved.reference in touchpoint.summary
    with pytest.raises(ValidationError):
        services.followup_complete(followup=visit, by=teammate, outcome="again")


def test_a_recovery_action_is_added_and_completed_on_the_timeline(acknowledged, teammate, department_user):
    action = services.recovery_action_add(
        complaint=acknowledged,
        kind="expedite",
        description="Fast-track the legal review.",
        owner=department_user,
        due_at=acknowledged.received_at + timedelta(days=3),
        by=teammate,
    )
    services.recovery_action_complete(action=action, by=department_user)
    action.refresh_from_db()
    assert action.done_at is not None
    assert acknowledged.events.filter(kind="action").count() == 2
    with pytest.raises(ValidationError):
        services.recovery_action_add(
            complaint=acknowledged,
            kind="bribe",
            description="x",
            owner=teammate,
            due_at=acknowledged.received_at,
            by=teammate,
        )


def test_events_cannot_be_changed_or_deleted(complaint):
    event = complaint.events.first()
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        complaint.events.all().update(summary="x")
    with pytest.raises(PermissionError):
        complaint.events.all().delete()


def test_a_client_raised_complaint_is_categorised_from_its_words(project, contact):
    complaint = services.complaint_raise_from_client(
        project=project,
        contact=contact,
        description="说好的放款时间又推迟了，没有人告诉我们进度。",
        channel="status_page",
    )
    assert complaint.channel == "status_page"
    assert complaint.created_by is None
    assert complaint.category in {"broken_commitment", "late_information"}


def test_raising_twice_from_the_same_source_creates_one_complaint(project, contact):
    first = services.complaint_raise_from_client(
        project=project,
        contact=contact,
        description="Please call me.",
        channel="survey",
        source_key="survey_response:7",
    )
    second = services.complaint_raise_from_client(
        project=project,
        contact=contact,
        description="Please call me.",
        channel="survey",
        source_key="survey_response:7",
    )
    assert first.pk == second.pk


def test_client_links_resolve_without_being_consumed_and_expire(complaint, time_machine):
    from complaints.models import ComplaintLink
    from finance_projects.tokens import hash_token

    token = "a" * 43
    ComplaintLink.objects.create(
        complaint=complaint,
        token_hash=hash_token(token),
        expires_at=complaint.received_at + timedelta(days=1),
    )
    assert services.complaint_link_resolve(token).complaint == complaint
    assert services.complaint_link_resolve(token).complaint == complaint
    assert services.complaint_link_resolve("b" * 43) is None
    time_machine.shift(timedelta(days=2))
    assert services.complaint_link_resolve(token) is None
