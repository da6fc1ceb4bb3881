"""The relationship-survey scan: every client every N months, set-based, idempotent."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feedback import services
from feedback.models import SkipReason, SurveyInvitation, SurveySkip, Trigger
from feedback.scans import scan_relationship_surveys
from tests.factories import ClientFactory, ContactFactory, InvitationFactory, ProjectFactory, shipped_survey

pytestmark = pytest.mark.django_db


def test_a_client_never_surveyed_is_invited(project, contact, relationship_survey):
    assert scan_relationship_surveys() == 1
    invitation = SurveyInvitation.objects.get()
    assert (invitation.contact, invitation.project, invitation.trigger) == (
        contact,
        project,
        Trigger.RELATIONSHIP,
    )
    assert invitation.sent_at is None  # the delivery task emails it


def test_a_second_run_changes_nothing(project, contact, relationship_survey):
    scan_relationship_surveys()
    assert scan_relationship_surveys() == 0
    assert SurveyInvitation.objects.count() == 1


def test_a_client_surveyed_within_the_period_is_left_alone_until_it_ends(
    project, contact, relationship_survey
):
    start = timezone.now()
    scan_relationship_surveys(at=start)
    with time_machine.travel(start + timedelta(days=170)):
        assert scan_relationship_surveys() == 0
    with time_machine.travel(start + timedelta(days=185)):
        assert scan_relationship_surveys() == 1
    assert SurveyInvitation.objects.count() == 2


def test_a_relationship_survey_sent_by_hand_counts_as_the_clients_survey_for_the_period(
    project, contact, relationship_survey
):
    InvitationFactory(
        project=project,
        contact=contact,
        survey=relationship_survey,
        created_at=timezone.now() - timedelta(days=60),
    )

    assert scan_relationship_surveys() == 0
    assert not SurveySkip.objects.exists()  # not due, so nothing was held back either


def test_a_contact_inside_the_frequency_cap_is_skipped_once_and_recorded(
    project, contact, relationship_survey
):
    InvitationFactory(
        project=project, contact=contact, survey=shipped_survey("milestone"), trigger="milestone"
    )
    scan_relationship_surveys()
    scan_relationship_surveys()
    skip = SurveySkip.objects.get()
    assert (skip.contact, skip.reason) == (contact, SkipReason.FREQUENCY_CAP)
    assert SurveyInvitation.objects.filter(trigger=Trigger.RELATIONSHIP).count() == 0


def test_a_survey_revoked_before_it_was_emailed_does_not_cap_the_relationship_survey(
    project, contact, relationship_survey
):
    InvitationFactory(
        project=project,
        contact=contact,
        survey=shipped_survey("milestone"),
        trigger="milestone",
        sent_at=None,
        revoked_at=timezone.now(),
    )

    assert scan_relationship_surveys() == 1

    assert not SurveySkip.objects.exists()


def test_a_revoked_relationship_survey_holds_back_its_period_and_the_next_period_invites_again(
    project, contact, relationship_survey
):
    assert scan_relationship_surveys() == 1
    invitation = SurveyInvitation.objects.get(trigger=Trigger.RELATIONSHIP)
    services.invitation_revoke(invitation=invitation)

    assert scan_relationship_surveys(at=timezone.now() + timedelta(hours=1)) == 0
    assert scan_relationship_surveys(at=timezone.now() + timedelta(days=200)) == 1


def test_without_an_active_relationship_survey_each_due_contact_is_skipped_once_and_recorded(
    project, contact, relationship_survey
):
    relationship_survey.is_active = False
    relationship_survey.save(update_fields=["is_active"])

    assert scan_relationship_surveys() == 0
    assert scan_relationship_surveys() == 0

    skip = SurveySkip.objects.get()
    assert (skip.contact, skip.reason, skip.survey) == (contact, SkipReason.SURVEY_MISSING, None)


def test_opted_out_contacts_and_clients_without_an_active_project_are_not_invited(
    project, relationship_survey
):
    ContactFactory(client=project.client, opted_out=True)
    idle = ClientFactory(relationship_manager=project.relationship_manager)
    ContactFactory(client=idle)
    ProjectFactory(client=idle, status="closed")
    assert scan_relationship_surveys() == 0
    assert SurveySkip.objects.get().reason == SkipReason.OPTED_OUT


def test_the_scan_uses_the_same_number_of_queries_for_many_clients(
    django_assert_max_num_queries, relationship_survey
):
    for _ in range(6):
        project = ProjectFactory()
        ContactFactory(client=project.client)
        ContactFactory(client=project.client, opted_out=True)
    # survey, due contacts locked, candidates, skips insert, existing keys, invitations insert
    # (+ savepoint/release)
    with django_assert_max_num_queries(8):
        assert scan_relationship_surveys() == 6


def test_the_scan_runs_with_every_other_scan_and_on_a_beat(project, contact, relationship_survey):
    from django_celery_beat.models import PeriodicTask

    from feedback.apps import _ensure_beat_entries
    from finance_projects import scans

    assert scans.run_scan("relationship_surveys").opened == 1
    _ensure_beat_entries(sender=None)
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "feedback.scan_relationship_surveys",
        "feedback.send_reminders",
        "feedback.deliver_invitations",
    } <= tasks
