"""The digest's "Survey responses" counts every response submitted in the week, whichever
questions it answered (it counted NPS answers only: a week of two CSAT-only responses read
"CSAT 100.0% … Survey responses: 0"), and the digest names its figures as the team page does."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from dashboard.labels import KPI_LABELS
from digests.emails import render_digest
from digests.selectors import build_digest
from feedback.models import Survey, SurveyInvitation, SurveyResponse
from tests.factories import ContactFactory

from .conftest import W10, at

pytestmark = pytest.mark.django_db


def response(project, *, submitted_at, **scores):
    survey, _created = Survey.objects.get_or_create(
        kind="relationship", defaults={"name_zh": "关系调查", "name_en": "Relationship survey"}
    )
    invitation = SurveyInvitation.objects.create(
        project=project,
        contact=ContactFactory(client=project.client),
        survey=survey,
        trigger="manual",
        stage=project.stage,
        expires_at=timezone.now() + timedelta(days=30),
        sent_at=submitted_at - timedelta(days=1),
    )
    return SurveyResponse.objects.create(invitation=invitation, submitted_at=submitted_at, **scores)


def test_csat_only_responses_count_as_survey_responses(week10, manager):
    response(week10.jiangsu, submitted_at=at(2025, 3, 4), csat=5)
    response(week10.wind, submitted_at=at(2025, 3, 6), csat=4)

    digest = build_digest(recipient=manager, week=W10)

    row = digest.by_key["survey_responses"]
    assert (row.current, row.previous) == (2, 0)
    assert digest.by_key["csat"].current == 100.0
    with translation.override("en"):
        assert "Survey responses: 2 (previous week 0" in render_digest(digest).text


def test_the_response_count_takes_every_kind_of_answer_in_the_week_and_in_scope_only(week10, manager):
    response(week10.jiangsu, submitted_at=at(2025, 3, 4), nps=9)
    response(week10.jiangsu, submitted_at=at(2025, 3, 5), csat=2)
    response(week10.wind, submitted_at=at(2025, 3, 6), ces=6)
    response(week10.wind, submitted_at=at(2025, 2, 27), nps=3, csat=1)  # the week before
    response(week10.wind, submitted_at=at(2025, 3, 10, 1), csat=5)  # the week after
    response(week10.hidden, submitted_at=at(2025, 3, 5), csat=5)  # another team's

    row = build_digest(recipient=manager, week=W10).by_key["survey_responses"]

    assert (row.current, row.previous, row.delta_display) == (3, 1, "+2")


def test_the_digest_names_its_figures_as_the_team_page_does(week10, manager):
    digest = build_digest(recipient=manager, week=W10)
    shared = [key for key in digest.by_key if key in KPI_LABELS]
    assert {"on_time_update_rate", "complaint_resolution_rate", "csat"} <= set(shared)

    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert {key: str(digest.by_key[key].label) for key in shared} == {
                key: str(KPI_LABELS[key]) for key in shared
            }
    with translation.override("en"):
        text = render_digest(digest).text
    assert "On-time client updates: 50.0%" in text
    assert "Complaints resolved in time:" in text
    assert "decided on time" not in text
    assert "Client updates on time" not in text
