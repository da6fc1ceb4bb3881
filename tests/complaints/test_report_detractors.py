"""The reports' recovery effect counts a complaint's client as a detractor by the product's one
rule (`SurveyResponse.is_detractor`: a low NPS, CSAT or CES), not by NPS alone."""

from datetime import timedelta

import pytest
from django.urls import reverse

from complaints import selectors, services
from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db


def answer(project, contact, at, **scores):
    invitation = InvitationFactory(project=project, contact=contact, created_at=at)
    return SurveyResponseFactory(invitation=invitation, submitted_at=at, **scores)


@pytest.fixture
def from_low_csat(project, contact, teammate, time_machine, received_at):
    """A complaint opened from a CSAT 2 / CES 2 answer (no NPS), then resolved."""
    time_machine.move_to(received_at, tick=False)
    response = answer(
        project,
        contact,
        received_at - timedelta(hours=1),
        csat=2,
        ces=2,
        is_detractor=True,
        comment="流程太复杂，没人告诉我们进度。",
    )
    complaint, _created = services.complaint_open_from_survey_response(response=response, by=teammate)
    services.complaint_acknowledge(complaint=complaint, by=teammate)
    return services.complaint_resolve(
        complaint=complaint,
        by=teammate,
        response_text="We simplified the drawdown checklist and will call you weekly.",
        response_channel="email",
        root_cause="process_design",
    )


def test_a_csat_and_ces_detractor_counts_as_a_detractor_before_the_complaint(from_low_csat, manager):
    effect = selectors.recovery_effect(manager)

    assert (effect.detractors_before, effect.surveyed_after, effect.became_promoters) == (1, 0, 0)


def test_the_reports_page_counts_the_csat_detractor(client, from_low_csat, manager):
    client.force_login(manager)

    html = client.get(reverse("complaints:reports"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "of 1 detractors before the complaint, 0 surveyed since" in html


def test_a_csat_detractor_in_the_top_box_after_the_resolution_is_won_back(from_low_csat, manager):
    answer(
        from_low_csat.project,
        from_low_csat.contact,
        from_low_csat.resolved_at + timedelta(days=20),
        csat=5,
        ces=6,
        is_detractor=False,
    )

    effect = selectors.recovery_effect(manager)

    assert (effect.detractors_before, effect.surveyed_after, effect.became_promoters) == (1, 1, 1)


def test_a_client_still_unhappy_after_the_resolution_is_not_won_back(from_low_csat, manager):
    answer(
        from_low_csat.project,
        from_low_csat.contact,
        from_low_csat.resolved_at + timedelta(days=20),
        csat=3,
        nps=9,
        is_detractor=False,
    )

    effect = selectors.recovery_effect(manager)

    assert (effect.detractors_before, effect.surveyed_after, effect.became_promoters) == (1, 1, 0)


def test_a_satisfied_client_before_the_complaint_is_no_detractor(manager, resolved):
    answer(
        resolved.project,
        resolved.contact,
        resolved.resolved_at - timedelta(days=2),
        csat=5,
        ces=6,
        is_detractor=False,
    )

    assert selectors.recovery_effect(manager).detractors_before == 0
