"""A recovery survey the frequency cap would skip is held back and sent once the contact may be
surveyed again, within RECOVERY_HOLD_DAYS of the resolution."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from feedback import services
from feedback.models import SkipReason, SurveyInvitation, SurveySkip, Trigger
from feedback.selectors import RecoverySurvey, recovery_survey_of
from tests.factories import shipped_survey
from tests.threads import at_once

pytestmark = pytest.mark.django_db

SURVEYED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RESOLVED_AT = SURVEYED_AT + timedelta(days=10)
AGAIN_AT = SURVEYED_AT + timedelta(days=30)


@pytest.fixture
def surveyed(project, contact, relationship_survey):
    """The relationship survey whose answer led to the complaint."""
    return services.survey_send(
        project=project, contact=contact, survey=relationship_survey, trigger=Trigger.MANUAL, at=SURVEYED_AT
    ).invitation


def resolve(project, contact, reference="CP-2026-000012"):
    shipped_survey("recovery")
    return services.survey_send_recovery(
        project=project, contact=contact, complaint_reference=reference, at=RESOLVED_AT
    )


def recovery_invitations():
    return SurveyInvitation.objects.filter(trigger=Trigger.RECOVERY)


def test_a_recovery_survey_the_cap_holds_is_sent_when_the_contact_may_be_surveyed_again(
    surveyed, project, contact, eager_celery, django_capture_on_commit_callbacks, time_machine
):
    skip = resolve(project, contact).skip
    assert (skip.reason, skip.send_at, skip.reason_params) == (
        SkipReason.FREQUENCY_CAP,
        AGAIN_AT,
        {"complaint": "CP-2026-000012"},
    )
    assert not recovery_invitations().exists()

    assert services.recovery_surveys_send_held(at=AGAIN_AT - timedelta(minutes=1)) == 0
    time_machine.move_to(AGAIN_AT, tick=False)  # the delivery task e-mails it at once
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recovery_surveys_send_held(at=AGAIN_AT) == 1
    invitation = recovery_invitations().get()
    assert (invitation.contact, invitation.created_at) == (contact, AGAIN_AT)
    assert invitation.reason_text("en") == "Your complaint CP-2026-000012 has been resolved."
    assert mail.outbox[-1].to == [contact.email]
    skip.refresh_from_db()
    assert skip.send_at is None

    assert services.recovery_surveys_send_held(at=AGAIN_AT + timedelta(hours=1)) == 0
    assert recovery_invitations().count() == 1


def test_a_recovery_survey_the_cap_would_hold_past_the_hold_days_is_skipped(
    surveyed, project, contact, settings
):
    settings.FEEDBACK = {"RECOVERY_HOLD_DAYS": 19}  # the cap lets go 20 days after the resolution

    skip = resolve(project, contact).skip

    assert (skip.reason, skip.send_at) == (SkipReason.FREQUENCY_CAP, None)
    assert services.recovery_surveys_send_held(at=AGAIN_AT + timedelta(days=1)) == 0
    assert not recovery_invitations().exists()


def test_a_held_recovery_survey_to_a_contact_who_opted_out_meanwhile_is_skipped_and_not_held_again(
    surveyed, project, contact
):
    resolve(project, contact)
    contact.opted_out = True
    contact.save(update_fields=["opted_out"])

    assert services.recovery_surveys_send_held(at=AGAIN_AT) == 0

    assert not recovery_invitations().exists()
    latest = SurveySkip.objects.filter(trigger=Trigger.RECOVERY).order_by("-at", "-id").first()
    assert (latest.reason, latest.send_at, latest.reason_params) == (
        SkipReason.OPTED_OUT,
        None,
        {"complaint": "CP-2026-000012"},
    )
    assert not SurveySkip.objects.filter(send_at__isnull=False).exists()


def test_a_held_recovery_survey_is_dropped_when_its_complaint_is_no_longer_resolved(
    surveyed, project, contact
):
    resolve(project, contact)

    assert services.recovery_survey_withdraw(project=project, complaint_reference="CP-2026-000012") == 1

    assert services.recovery_surveys_send_held(at=AGAIN_AT) == 0
    assert not recovery_invitations().exists()


def test_only_the_named_complaints_held_survey_is_dropped(surveyed, project, contact):
    resolve(project, contact, reference="CP-2026-000012")
    resolve(project, contact, reference="CP-2026-000013")

    services.recovery_survey_withdraw(project=project, complaint_reference="CP-2026-000012")

    assert services.recovery_surveys_send_held(at=AGAIN_AT) == 1
    assert recovery_invitations().get().reason_params == {"complaint": "CP-2026-000013"}


def test_a_recovery_surveys_state_follows_it_from_held_to_answered(surveyed, project, contact):
    def state():
        return recovery_survey_of(project_id=project.pk, complaint_reference="CP-2026-000012")

    assert state() is None
    resolve(project, contact)
    assert state() == RecoverySurvey("held", AGAIN_AT)

    services.recovery_surveys_send_held(at=AGAIN_AT)
    assert state() == RecoverySurvey("waiting", AGAIN_AT)

    invitation = recovery_invitations().get()
    invitation.sent_at = AGAIN_AT + timedelta(minutes=5)
    invitation.save(update_fields=["sent_at"])
    assert state() == RecoverySurvey("sent", invitation.sent_at)

    invitation.responded_at = AGAIN_AT + timedelta(days=1)
    invitation.save(update_fields=["responded_at"])
    assert state() == RecoverySurvey("answered", invitation.responded_at)


def test_a_recovery_survey_that_cannot_go_out_reads_as_not_sent_with_its_reason(project, contact):
    contact.opted_out = True
    contact.save(update_fields=["opted_out"])

    resolve(project, contact)

    assert recovery_survey_of(project_id=project.pk, complaint_reference="CP-2026-000012") == RecoverySurvey(
        "skipped", RESOLVED_AT, str(SkipReason.OPTED_OUT.label)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_held_surveys_at_once_send_each_once(project, contact, monkeypatch):
    services.survey_send(
        project=project,
        contact=contact,
        survey=shipped_survey("relationship"),
        trigger=Trigger.MANUAL,
        at=SURVEYED_AT,
    )
    resolve(project, contact)
    monkeypatch.setattr(services, "_deliver_after_commit", lambda: None)

    sent, errors = at_once(lambda: services.recovery_surveys_send_held(at=AGAIN_AT))

    assert errors == []
    assert sorted(sent) == [0, 1]
    assert recovery_invitations().count() == 1


def test_one_held_survey_failing_does_not_hold_up_the_others(surveyed, project, contact, monkeypatch):
    from django.db import DatabaseError

    resolve(project, contact, reference="CP-2026-000012")
    resolve(project, contact, reference="CP-2026-000013")
    send = services.survey_send_recovery

    def fail_for_the_first(**kwargs):
        if kwargs["complaint_reference"] == "CP-2026-000012":
            raise DatabaseError("the row could not be written")
        return send(**kwargs)

    monkeypatch.setattr(services, "survey_send_recovery", fail_for_the_first)

    assert services.recovery_surveys_send_held(at=AGAIN_AT) == 1

    assert recovery_invitations().get().reason_params == {"complaint": "CP-2026-000013"}
    still_held = SurveySkip.objects.get(send_at__isnull=False)
    assert still_held.reason_params == {"complaint": "CP-2026-000012"}
