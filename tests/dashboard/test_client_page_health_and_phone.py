"""The client page: its health explained as what it is (the average of its projects' scores, each
project named with its own score and reasons), and its projects table folding into cards on a
phone as the portfolio's does (every cell labelled)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_projects.models import FinancingProject
from tests.factories import CommitmentFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def client_page(browser, user, client_id, language="en") -> str:
    url = reverse("dashboard:client", args=[client_id])
    return browser(user).get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.fixture
def two_projects(client_org):
    """One project with two missed commitments (health 60), one without a problem (100)."""
    late = ProjectFactory(client=client_org, code="PF-LATE", name="Wind park")
    ProjectFactory(client=client_org, code="PF-FINE", name="Grid link")
    for days in (5, 8):
        CommitmentFactory(
            project=late, title=f"Drawdown {days}", due_at=timezone.now() - timedelta(days=days)
        )
    return late


def test_client_health_says_it_is_the_average_of_its_projects_and_names_each(browser, owner, two_projects):
    body = client_page(browser, owner, two_projects.client_id)

    assert re.search(r'class="health-score">80<', body)
    section = re.search(r'<section class="client-health".*?</section>', body, re.S).group(0)
    assert "Average of the health of its 2 scored projects" in section
    late = re.search(r"<li>.*?PF-LATE Wind park.*?</ul>", section, re.S).group(0)
    assert ">60</span>" in late
    assert late.count("commitment missed") == 2
    assert re.search(r">100</span> <a [^>]*>PF-FINE Grid link</a>", section)


def test_client_health_reads_in_chinese(browser, owner, two_projects):
    body = client_page(browser, owner, two_projects.client_id, language="zh-hans")

    assert "根据其 2 个已评分项目的健康度" in body


def test_the_client_projects_table_folds_into_labelled_cards_on_a_phone(browser, owner, project):
    body = client_page(browser, owner, project.client_id)

    table = re.search(r"<h2>Projects</h2>.*?</table>", body, re.S).group(0)
    assert '<table class="portfolio">' in table  # the portfolio's phone layout (static/css/app.css)
    row = re.search(r"<tbody>.*?</tr>", table, re.S).group(0)
    cells = re.findall(r"<td([^>]*)>", row)
    assert len(cells) == 7
    assert all("data-label=" in cell for cell in cells)
    assert 'data-label="Health"' in row and 'data-label="NPS"' in row


def test_a_client_whose_projects_are_all_closed_shows_no_health(browser, owner, project):
    FinancingProject.objects.filter(pk=project.pk).update(status="closed", health=None)

    body = client_page(browser, owner, project.client_id)

    assert 'class="client-health"' not in body
