"""A follow-up recorded on a survey response is a conversation with the client: it is logged on
the project as a touchpoint (channel survey_follow_up) that keeps the client informed, so the
next-update deadline moves and the update-overdue scan stands down. The same follow-up sent
twice logs one touchpoint; a complaint resolution recorded as the response's follow-up logs one
too, and the follow-up visits after it log their own."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from complaints import services as complaint_services
from feedback import services
from feedback.models import SurveyFollowUp
from finance_projects import scans
from finance_projects.models import NOTE_MAX_CHARS, Alert, Touchpoint
from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

OUTCOME = "Called the CFO: the revised term sheet goes out on Friday."


@pytest.fixture
def detractor(project, contact):
    return SurveyResponseFactory(
        invitation=InvitationFactory(project=project, contact=contact),
        nps=2,
        is_detractor=True,
        comment="Nobody told us about the delay.",
        submitted_at=timezone.now() - timedelta(days=2),
    )


@pytest.fixture
def overdue(project):
    """The project's client update is two cadences late: the scan's critical alert."""
    project.update_cadence_days = 14
    project.next_update_due_at = timezone.now() - timedelta(days=30)
    project.save()
    return project


def record(response, by, *, contacted_at=None, outcome=OUTCOME):
    return services.response_record_follow_up(
        response=response,
        by=by,
        contacted_at=contacted_at or timezone.now() - timedelta(hours=1),
        outcome=outcome,
    )


def test_a_recorded_follow_up_is_logged_as_a_client_update_with_the_contact(
    detractor, owner, project, contact
):
    contacted_at = timezone.now() - timedelta(hours=1)

    record(detractor, owner, contacted_at=contacted_at)

    touchpoint = Touchpoint.objects.get(project=project)
    assert (touchpoint.channel, touchpoint.contact, touchpoint.occurred_at) == (
        "survey_follow_up",
        contact,
        contacted_at,
    )
    assert (touchpoint.summary, touchpoint.logged_by, touchpoint.is_client_update) == (OUTCOME, owner, True)
    assert (touchpoint.shareable, touchpoint.needs_attention) == (False, False)
    assert SurveyFollowUp.objects.get(response=detractor).touchpoint == touchpoint
    project.refresh_from_db()
    assert project.last_client_update_at == contacted_at
    assert project.next_update_due_at == contacted_at + timedelta(days=project.update_cadence_days)


def test_after_the_follow_up_the_update_overdue_scan_raises_nothing(detractor, owner, overdue):
    record(detractor, owner)

    assert scans.update_overdue(timezone.now()).opened == 0
    assert not Alert.objects.filter(kind="update_overdue").exists()


def test_the_follow_up_resolves_an_open_update_overdue_alert(detractor, owner, overdue):
    scans.update_overdue(timezone.now())
    assert Alert.objects.get(kind="update_overdue", resolved_at__isnull=True).severity == "critical"

    record(detractor, owner)

    assert scans.update_overdue(timezone.now()).resolved == 1
    assert not Alert.objects.filter(kind="update_overdue", resolved_at__isnull=True).exists()


def test_a_long_outcome_is_clipped_on_the_touchpoint_and_kept_whole_on_the_follow_up(detractor, owner):
    outcome = "The client went through every open point. " * 200

    record(detractor, owner, outcome=outcome)

    follow_up = SurveyFollowUp.objects.get(response=detractor)
    assert follow_up.outcome == outcome.strip()
    summary = follow_up.touchpoint.summary
    assert summary == Truncator(outcome.strip()).chars(NOTE_MAX_CHARS)
    assert NOTE_MAX_CHARS - 3 <= len(summary) <= NOTE_MAX_CHARS


def test_the_same_follow_up_sent_twice_logs_one_touchpoint(detractor, owner, project):
    contacted_at = timezone.now() - timedelta(hours=1)
    for _ in range(2):  # a double click, a retried request
        record(detractor, owner, contacted_at=contacted_at)

    assert Touchpoint.objects.filter(project=project).count() == 1


def test_another_follow_up_logs_another_touchpoint(detractor, owner, manager, project):
    record(detractor, owner, contacted_at=timezone.now() - timedelta(hours=5), outcome="First call.")
    record(detractor, manager, contacted_at=timezone.now() - timedelta(hours=1), outcome="Second call.")

    assert list(Touchpoint.objects.filter(project=project).values_list("summary", "logged_by")) == [
        ("Second call.", manager.pk),
        ("First call.", owner.pk),
    ]


def test_a_follow_up_that_is_refused_logs_no_touchpoint(detractor, owner, project):
    with pytest.raises(ValidationError) as refused:
        record(detractor, owner, contacted_at=timezone.now() + timedelta(days=1))

    assert list(refused.value.message_dict) == ["contacted_at"]

    assert not Touchpoint.objects.exists()
    project.refresh_from_db()
    assert project.last_client_update_at is None


def test_a_complaint_resolution_from_the_response_logs_one_touchpoint_and_its_visits_their_own(
    detractor, owner, teammate, project, contact, time_machine
):
    complaint, _created = complaint_services.complaint_open_from_survey_response(response=detractor, by=owner)
    complaint = complaint_services.complaint_acknowledge(complaint=complaint, by=teammate)
    resolved = complaint_services.complaint_resolve(
        complaint=complaint,
        by=teammate,
        response_text="The agreed rate is restored.",
        response_channel="phone",
        root_cause="internal_communication",
    )

    touchpoint = Touchpoint.objects.get(project=project)
    assert (touchpoint.channel, touchpoint.contact, touchpoint.logged_by) == (
        "survey_follow_up",
        contact,
        teammate,
    )
    assert touchpoint.occurred_at == resolved.resolved_at
    assert touchpoint.is_client_update
    assert touchpoint.summary == SurveyFollowUp.objects.get(response=detractor).outcome

    time_machine.move_to(timezone.now() + timedelta(days=7))
    visit = resolved.followups.order_by("due_at").first()
    complaint_services.followup_complete(followup=visit, by=teammate, outcome="Client satisfied.")

    assert sorted(Touchpoint.objects.filter(project=project).values_list("channel", flat=True)) == [
        "follow_up_visit",
        "survey_follow_up",
    ]


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "Survey follow-up with Li Wei"), ("zh-hans", "调查回访（联系人：Li Wei）")],
)
def test_the_project_timeline_shows_the_survey_follow_up(client, detractor, owner, project, language, title):
    record(detractor, owner)
    client.force_login(owner)

    body = client.get(reverse("dashboard:project", args=[project.pk]), HTTP_ACCEPT_LANGUAGE=language)

    assert body.status_code == 200
    assert title in re.findall(r'<span class="tl-kind">([^<]*)</span>', body.content.decode())


def test_the_api_lists_and_filters_survey_follow_up_touchpoints(api_as, detractor, owner, project):
    record(detractor, owner)

    answer = api_as(owner).get("/api/v1/touchpoints/", {"channel": "survey_follow_up"})

    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert [(row["channel"], row["summary"]) for row in rows] == [("survey_follow_up", OUTCOME)]
