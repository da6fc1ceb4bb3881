"""NPS, CSAT, CES and response rate on data small enough to compute by hand."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedback.selectors import survey_metrics
from finance_projects.models import FinancingProject
from tests.factories import (
    ClientFactory,
    InvitationFactory,
    ProjectFactory,
    SurveyResponseFactory,
    UserFactory,
    shipped_survey,
)

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour=10):
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def answered(project, *, sent, nps=None, csat=None, ces=None, submitted=None):
    invitation = InvitationFactory(
        project=project, created_at=sent, sent_at=sent, responded_at=submitted or sent
    )
    return SurveyResponseFactory(
        invitation=invitation, submitted_at=submitted or sent, nps=nps, csat=csat, ces=ces
    )


@pytest.fixture
def scored(project):
    # NPS: 10, 9 promoters; 7 passive; 5, 0 detractors -> (2 - 2) / 5 = 0
    for score in (10, 9, 7, 5, 0):
        answered(project, sent=at(2), nps=score)
    # One invitation nobody answered.
    InvitationFactory(project=project, created_at=at(3), sent_at=at(3))
    return project


def test_nps_is_promoters_minus_detractors_in_percent(scored):
    [row] = survey_metrics(projects=FinancingProject.objects.all())
    assert row["nps"] == {"n": 5, "score": 0.0, "promoters": 2, "detractors": 2}


def test_response_rate_is_responded_over_invited(scored):
    [row] = survey_metrics(projects=FinancingProject.objects.all())
    assert (row["invited"], row["responded"], row["response_rate"]) == (6, 5, 83.3)


def test_csat_and_ces_means_and_top_box_shares(project):
    survey = shipped_survey("milestone")
    for csat, ces in ((5, 7), (4, 5), (2, 3), (1, 6)):
        invitation = InvitationFactory(project=project, survey=survey, created_at=at(5), responded_at=at(5))
        SurveyResponseFactory(invitation=invitation, submitted_at=at(5), csat=csat, ces=ces)
    [row] = survey_metrics(projects=FinancingProject.objects.all())
    # CSAT (5+4+2+1)/4 = 3.0, 4–5: 2 of 4; CES (7+5+3+6)/4 = 5.25, 5–7: 3 of 4
    assert row["csat"] == {"n": 4, "mean": 3.0, "satisfied_pct": 50.0}
    assert row["ces"] == {"n": 4, "mean": 5.25, "easy_pct": 75.0}
    assert row["nps"]["n"] == 0 and row["nps"]["score"] is None


def test_groups_by_rm_each_with_its_own_counts(project, owner):
    other_rm = UserFactory(first_name="Zhao", last_name="Min", team=owner.team)
    other = ProjectFactory(client=ClientFactory(relationship_manager=other_rm))
    answered(project, sent=at(2), nps=10)
    answered(project, sent=at(2), nps=3)
    answered(other, sent=at(2), nps=9)
    rows = {
        row["group"]: row for row in survey_metrics(projects=FinancingProject.objects.all(), group_by="rm")
    }
    assert rows[owner.pk]["nps"] == {"n": 2, "score": 0.0, "promoters": 1, "detractors": 1}
    assert rows[other_rm.pk]["nps"]["score"] == 100.0
    assert rows[other_rm.pk]["label"] == "Zhao Min"


def test_groups_by_month_in_the_site_time_zone(project):
    # 2026-03-31 23:30 in Shanghai is still March there (but already 15:30 UTC, same day).
    answered(project, sent=datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI), nps=9)
    answered(project, sent=datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI), nps=2)
    rows = survey_metrics(projects=FinancingProject.objects.all(), group_by="month")
    assert [(row["group"], row["nps"]["n"]) for row in rows] == [("2026-03-01", 1), ("2026-04-01", 1)]


def test_groups_by_stage_and_client(project):
    answered(project, sent=at(2), nps=9)
    other = ProjectFactory(client=project.client, stage="credit_approval")
    answered(other, sent=at(2), nps=9)
    by_stage = {
        row["group"]: row["nps"]["n"]
        for row in survey_metrics(projects=FinancingProject.objects.all(), group_by="stage")
    }
    assert by_stage == {"inquiry": 1, "credit_approval": 1}
    [by_client] = survey_metrics(projects=FinancingProject.objects.all(), group_by="client")
    assert (by_client["label"], by_client["nps"]["n"]) == (project.client.name, 2)


def test_the_period_filter_counts_sends_and_answers_inside_it(project):
    answered(project, sent=at(2), nps=9)
    answered(project, sent=at(20), nps=1)
    [row] = survey_metrics(projects=FinancingProject.objects.all(), start=at(10), end=at(25))
    assert (row["invited"], row["nps"]["n"], row["nps"]["score"]) == (1, 1, -100.0)


def test_metrics_take_two_queries_whatever_the_grouping(scored, django_assert_num_queries):
    for group_by in ("none", "rm", "team", "client", "stage", "week", "month"):
        with django_assert_num_queries(2):
            survey_metrics(projects=FinancingProject.objects.all(), group_by=group_by)


def test_no_data_gives_no_rows(db):
    assert survey_metrics(projects=FinancingProject.objects.all()) == []


def test_an_rm_with_a_chinese_name_is_labelled_as_everywhere_else(project, owner):
    chinese = UserFactory(first_name="伟", last_name="王", team=owner.team)
    answered(ProjectFactory(client=ClientFactory(relationship_manager=chinese)), sent=at(2), nps=9)
    answered(project, sent=at(2), nps=9)
    labels = {
        row["group"]: row["label"]
        for row in survey_metrics(projects=FinancingProject.objects.all(), group_by="rm")
    }
    assert labels[chinese.pk] == "王伟" == chinese.get_full_name()
    assert labels[owner.pk] == owner.get_full_name()


def test_rm_labels_take_no_query_per_rm(project, owner, django_assert_num_queries):
    for first, last in (("伟", "王"), ("Min", "Zhao"), ("芳", "李")):
        rm = UserFactory(first_name=first, last_name=last, team=owner.team)
        answered(ProjectFactory(client=ClientFactory(relationship_manager=rm)), sent=at(2), nps=7)
    with django_assert_num_queries(2):
        rows = survey_metrics(projects=FinancingProject.objects.all(), group_by="rm")
    assert sorted(row["label"] for row in rows) == ["Min Zhao", "李芳", "王伟"]


def test_a_link_answered_before_the_email_went_out_counts_as_invited(project):
    answered(project, sent=at(2), nps=9)  # emailed, answered
    InvitationFactory(project=project, created_at=at(2), sent_at=at(2))  # emailed, not answered
    manual = InvitationFactory(project=project, created_at=at(3), sent_at=None, responded_at=at(3))
    SurveyResponseFactory(invitation=manual, submitted_at=at(3), nps=10)  # answered through its link
    InvitationFactory(project=project, created_at=at(4), sent_at=None)  # not out yet: not invited

    [row] = survey_metrics(projects=FinancingProject.objects.all())

    # 3 invited (2 emailed + 1 answered first), 2 answered: 66.7 %
    assert (row["invited"], row["responded"], row["response_rate"]) == (3, 2, 66.7)
    assert row["nps"]["n"] == 2


def test_the_response_rate_never_exceeds_100_percent(project):
    for day in (2, 3):
        manual = InvitationFactory(project=project, created_at=at(day), sent_at=None, responded_at=at(day))
        SurveyResponseFactory(invitation=manual, submitted_at=at(day), nps=9)

    for group_by in ("none", "rm", "week", "month"):
        rows = survey_metrics(projects=FinancingProject.objects.all(), group_by=group_by)
        assert [(row["invited"], row["responded"], row["response_rate"]) for row in rows] in (
            [(2, 2, 100.0)],
            [(1, 1, 100.0), (1, 1, 100.0)],
        ), group_by


def test_an_invitation_answered_before_its_email_counts_in_the_period_it_was_answered(project):
    manual = InvitationFactory(project=project, created_at=at(3), sent_at=None, responded_at=at(12))
    SurveyResponseFactory(invitation=manual, submitted_at=at(12), nps=9)

    [row] = survey_metrics(projects=FinancingProject.objects.all(), start=at(10), end=at(20))

    assert (row["invited"], row["responded"], row["response_rate"]) == (1, 1, 100.0)
    assert survey_metrics(projects=FinancingProject.objects.all(), start=at(1), end=at(10)) == []


def test_the_metrics_api_groups_by_month_in_the_callers_time_zone(api_as, owner, project):
    # 18:00 UTC on 31 October is still October in London, but already November in Shanghai.
    answered(project, sent=datetime(2026, 10, 31, 18, tzinfo=ZoneInfo("UTC")), nps=9)
    owner.time_zone = "Europe/London"
    owner.save()

    rows = (
        api_as(owner)
        .get("/api/v1/metrics/", {"group_by": "month", "start": "2026-10-01", "end": "2026-10-31"})
        .data["results"]
    )

    assert [(row["group"], row["nps"]["n"]) for row in rows] == [("2026-10-01", 1)]
