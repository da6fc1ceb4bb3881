"""The client-feedback tables of the team view: the figures of `survey_metrics` (and so of
`/api/v1/metrics/`) by relationship manager and by stage, for the page's period."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.selectors import survey_metrics
from finance_projects.models import Stage
from finance_projects.selectors import portfolio_for
from tests.factories import InvitationFactory, ProjectFactory, SurveyResponseFactory, UserFactory

pytestmark = pytest.mark.django_db


def answered(project, *, days_ago=1, nps=None, csat=None, ces=None, stage=None):
    """An invitation sent and answered `days_ago` days ago."""
    at = timezone.now() - timedelta(days=days_ago)
    invitation = InvitationFactory(
        project=project, created_at=at, sent_at=at, responded_at=at, stage=stage or project.stage
    )
    return SurveyResponseFactory(invitation=invitation, submitted_at=at, nps=nps, csat=csat, ces=ces)


def unanswered(project, *, days_ago=1, stage=None):
    at = timezone.now() - timedelta(days=days_ago)
    return InvitationFactory(project=project, created_at=at, sent_at=at, stage=stage or project.stage)


def table(body: str, group_by: str) -> str:
    found = re.search(rf'<table class="feedback" data-group-by="{group_by}".*?</table>', body, re.S)
    assert found, f"no {group_by} table"
    return found.group(0)


def rows(body: str, group_by: str) -> dict[str, dict[str, str]]:
    """{group: {"label": ..., metric: cell text}} of one feedback table."""
    found = {}
    for group, html in re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', table(body, group_by), re.S):
        cells = dict(re.findall(r'data-metric="([\w-]+)"[^>]*>([^<]*)</td>', html))
        cells["label"] = re.search(r"<td>([^<]*)</td>", html).group(1)
        found[group] = cells
    return found


def small_sample_cells(body: str, group_by: str, group) -> set[str]:
    html = re.search(rf'<tr data-group="{group}">(.*?)</tr>', table(body, group_by), re.S).group(1)
    return set(re.findall(r'data-metric="([\w-]+)" data-small-sample', html))


@pytest.fixture
def two_rms(owner, teammate, project):
    """The owner's answers: NPS 10, 9, 3 and 6 → (2 − 2) / 4 = 0; CSAT 5, 4, 2, 1 → 3.0, 50%;
    CES 7, 5, 3, 6 → 5.25, 75%; one more invitation unanswered → 4 / 5 = 80%.
    The teammate's: NPS 10 ×5 → 100; CSAT 5 ×5; CES 7 ×5; all answered."""
    owner.first_name, owner.last_name = "Grace", "Ho"
    owner.save()
    teammate.first_name, teammate.last_name = "伟", "王"
    teammate.save()
    for nps, csat, ces in ((10, 5, 7), (9, 4, 5), (3, 2, 3), (6, 1, 6)):
        answered(project, nps=nps, csat=csat, ces=ces)
    unanswered(project)
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)
    for _ in range(5):
        answered(theirs, nps=10, csat=5, ces=7)
    return project, theirs


def test_the_rm_table_shows_the_figures_survey_metrics_computes(browser, manager, owner, teammate, two_rms):
    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    shown = rows(body, "rm")
    assert shown[str(owner.pk)] == {
        "label": "Grace Ho",
        "nps": "0.0",
        "nps-n": "4",
        "csat-mean": "3.0",
        "csat-pct": "50.0%",
        "csat-n": "4",
        "ces-mean": "5.25",
        "ces-pct": "75.0%",
        "ces-n": "4",
        "response-rate": "80.0%",
        "responded": "4/5",
    }
    assert shown[str(teammate.pk)] == {
        "label": "王伟",
        "nps": "100.0",
        "nps-n": "5",
        "csat-mean": "5.0",
        "csat-pct": "100.0%",
        "csat-n": "5",
        "ces-mean": "7.0",
        "ces-pct": "100.0%",
        "ces-n": "5",
        "response-rate": "100.0%",
        "responded": "5/5",
    }


def test_the_page_and_survey_metrics_agree_row_for_row(browser, manager, two_rms):
    now = timezone.now()
    body = browser(manager).get("/team/", {"days": 30}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    for group_by in ("rm", "stage"):
        expected = survey_metrics(
            projects=portfolio_for(manager),
            group_by=group_by,
            start=now - timedelta(days=30),
            end=now,
            tz=manager.zone,
        )
        shown = rows(body, group_by)
        assert set(shown) == {str(row["group"]) for row in expected}
        for row in expected:
            cells = shown[str(row["group"])]
            assert cells["label"] == row["label"]
            assert cells["nps"] == str(row["nps"]["score"]) and cells["nps-n"] == str(row["nps"]["n"])
            assert cells["csat-mean"] == str(row["csat"]["mean"])
            assert cells["ces-mean"] == str(row["ces"]["mean"])
            assert cells["responded"] == f"{row['responded']}/{row['invited']}"


def test_an_rm_without_answers_shows_a_dash(browser, manager, teammate):
    theirs = ProjectFactory(client__relationship_manager=teammate, client__team=teammate.team)
    unanswered(theirs)
    unanswered(theirs)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    row = rows(body, "rm")[str(teammate.pk)]
    assert [row[m] for m in ("nps", "csat-mean", "csat-pct", "ces-mean", "ces-pct")] == ["—"] * 5
    assert [row[m] for m in ("nps-n", "csat-n", "ces-n")] == ["0"] * 3
    assert (row["response-rate"], row["responded"]) == ("0.0%", "0/2")


def test_the_stage_table_labels_the_stages_in_their_order(browser, manager, project):
    answered(project, nps=9, stage=Stage.DUE_DILIGENCE)
    answered(project, nps=2, stage=Stage.TERM_SHEET)
    answered(project, nps=8, stage=Stage.DISBURSEMENT)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    shown = rows(body, "stage")
    assert list(shown) == ["term_sheet", "due_diligence", "disbursement"]
    assert [row["label"] for row in shown.values()] == ["Term sheet", "Due diligence", "Disbursement"]
    assert [row["nps"] for row in shown.values()] == ["-100.0", "100.0", "0.0"]


def test_a_response_outside_the_period_is_not_counted(browser, manager, owner, project):
    answered(project, days_ago=2, nps=10, csat=5)
    answered(project, days_ago=20, nps=0, csat=1)
    page = browser(manager)

    week = rows(page.get("/team/", {"days": 7}, HTTP_ACCEPT_LANGUAGE="en").content.decode(), "rm")
    month = rows(page.get("/team/", {"days": 30}, HTTP_ACCEPT_LANGUAGE="en").content.decode(), "rm")

    def figures(shown):
        row = shown[str(owner.pk)]
        return row["nps"], row["nps-n"], row["csat-mean"], row["responded"]

    assert figures(week) == ("100.0", "1", "5.0", "1/1")
    assert figures(month) == ("0.0", "2", "3.0", "2/2")


def test_a_period_without_surveys_says_so(browser, manager, project):
    answered(project, days_ago=20, nps=10)

    body = browser(manager).get("/team/", {"days": 7}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert rows(body, "rm") == {} and rows(body, "stage") == {}
    assert table(body, "rm").count("No surveys sent or answered in this period.") == 1


def test_scores_on_fewer_than_five_answers_are_greyed_and_the_legend_says_why(
    browser, manager, owner, teammate, two_rms
):
    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert small_sample_cells(body, "rm", owner.pk) == {"nps", "csat-mean", "ces-mean"}
    assert small_sample_cells(body, "rm", teammate.pk) == set()
    assert "grey scores rest on fewer than 5 answers" in body


def test_another_teams_answers_stay_out_of_the_tables(browser, manager, outsider, project):
    answered(project, nps=10)
    foreign = ProjectFactory(client__relationship_manager=outsider, client__team=outsider.team)
    answered(foreign, nps=0)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert str(outsider.pk) not in rows(body, "rm")
    assert sum(int(row["nps-n"]) for row in rows(body, "stage").values()) == 1


def test_the_feedback_section_reads_in_chinese(browser, manager, owner, project):
    owner.first_name, owner.last_name = "浩", "黄"
    owner.save()
    answered(project, nps=9, csat=4, ces=6, stage=Stage.DUE_DILIGENCE)

    body = browser(manager).get("/team/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "客户反馈" in body
    assert rows(body, "rm")[str(owner.pk)]["label"] == "黄浩"
    assert rows(body, "stage")["due_diligence"]["label"] == "尽职调查"
    for english in ("Client feedback", "Response rate", "Responded / invited", "Fewer than 5 answers"):
        assert english not in body


@pytest.mark.parametrize("size", [2, 20])
def test_the_feedback_tables_read_a_fixed_number_of_queries(
    browser, manager, owner, teammate, project, size, django_assert_max_num_queries
):
    stages = list(Stage.values)
    for i in range(size):
        rm = UserFactory(team=manager.team) if i % 3 == 0 else (owner, teammate)[i % 2]
        other = ProjectFactory(client__relationship_manager=rm, client__team=manager.team)
        answered(other, nps=i % 11, csat=1 + i % 5, ces=1 + i % 7, stage=stages[i % len(stages)])
        unanswered(other)
    page = browser(manager)

    # As pinned in test_pages (28), plus survey_metrics' two queries for each of the two tables.
    with django_assert_max_num_queries(32):
        assert page.get("/team/").status_code == 200
