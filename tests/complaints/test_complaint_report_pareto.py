"""The reports page draws the root causes' Pareto chart as SVG on the server: one bar per cause,
most frequent first, heights in proportion to the counts, and the cumulative share as a line."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from complaints import selectors
from complaints.models import Complaint
from tests.factories import ComplaintFactory
from tests.html_ids import assert_ids_sound

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def with_causes(project, contact, causes):
    for cause in causes:
        complaint = ComplaintFactory(project=project, contact=contact)
        Complaint.objects.filter(pk=complaint.pk).update(root_cause=cause)


def chart_of(html):
    found = re.search(r'<svg class="pareto-chart".*?</svg>', html, re.S)
    assert found, "no Pareto chart on the page"
    return ET.fromstring(found.group(0))


def reports_page(client, user, language="en", **query):
    client.force_login(user)
    return client.get(reverse("complaints:reports"), query, HTTP_ACCEPT_LANGUAGE=language)


def test_the_pareto_chart_has_one_bar_per_cause_in_proportion_and_the_cumulative_line(
    client, project, contact, manager
):
    # 3 + 2 + 1 = 6 complaints with a cause, one without: cumulative 50%, 83.3%, 100%.
    with_causes(
        project,
        contact,
        [
            "process_design",
            "internal_communication",
            "external",
            "internal_communication",
            "process_design",
            "internal_communication",
            "",
        ],
    )

    response = reports_page(client, manager)

    assert response.status_code == 200
    html = response.content.decode()
    assert_ids_sound(html)
    svg = chart_of(html)
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert svg.get("aria-labelledby") == title.get("id")
    assert "6 complaints" in title.text
    assert "Internal communication: 3, cumulative 50.0%" in title.text
    bars = svg.findall(f".//{SVG}rect[@class='bar']")
    assert [int(bar.get("data-count")) for bar in bars] == [3, 2, 1]
    heights = [float(bar.get("height")) for bar in bars]
    bottom, top = selectors.PARETO_PLOT["bottom"], selectors.PARETO_PLOT["top"]
    assert heights == pytest.approx([bottom - top, (bottom - top) * 2 / 3, (bottom - top) / 3], abs=0.1)
    for bar in bars:  # every bar stands on the axis
        assert float(bar.get("y")) + float(bar.get("height")) == pytest.approx(bottom, abs=0.1)
    xs = [float(bar.get("x")) for bar in bars]
    assert xs == sorted(xs)

    points = svg.findall(f".//{SVG}circle[@class='point']")
    assert [float(p.get("data-cumulative")) for p in points] == [50.0, 83.3, 100.0]
    for point, bar, share in zip(points, bars, (50.0, 83.3, 100.0), strict=True):
        assert float(point.get("cx")) == pytest.approx(
            float(bar.get("x")) + float(bar.get("width")) / 2, abs=0.1
        )
        assert float(point.get("cy")) == pytest.approx(bottom - (bottom - top) * share / 100, abs=0.1)
    line = svg.find(f".//{SVG}polyline").get("points").split()
    assert [tuple(map(float, pair.split(","))) for pair in line] == [
        (float(p.get("cx")), float(p.get("cy"))) for p in points
    ]
    labels = [" ".join(text.itertext()) for text in svg.find(f".//{SVG}g[@class='labels']")]
    assert labels == ["Internal communication", "Process design", "External (policy or market)"]
    # The table stays, under the chart, as the data to read.
    assert html.index('class="pareto-chart"') < html.index('class="pareto-table"')


def test_the_pareto_chart_speaks_the_readers_language(client, project, contact, manager):
    with_causes(project, contact, ["training_gap", "training_gap", "no_early_warning"])

    svg = chart_of(reports_page(client, manager, language="zh-hans").content.decode())

    labels = ["".join(text.itertext()) for text in svg.find(f".//{SVG}g[@class='labels']")]
    assert labels == ["培训不足", "缺乏预警机制"]
    assert "3 项投诉" in svg.find(f"{SVG}title").text
    assert "培训不足：2 项，累计 66.7%" in svg.find(f"{SVG}title").text
    assert "Complaints" not in ET.tostring(svg, encoding="unicode")


def test_the_pareto_chart_scales_with_the_screen(client, project, contact, manager):
    with_causes(project, contact, ["training_gap"])

    svg = chart_of(reports_page(client, manager).content.decode())

    assert svg.get("viewBox").startswith(f"0 0 {selectors.PARETO_WIDTH} ")
    assert svg.get("width") is None and svg.get("height") is None


def test_a_count_axis_keeps_round_steps_and_the_tallest_bar_under_its_top():
    chart = selectors.pareto_chart([("A", 13, 65.0), ("B", 7, 100.0)])

    assert [value for value, _y in chart.count_ticks] == [0, 5, 10, 15]
    plot = selectors.PARETO_PLOT["bottom"] - selectors.PARETO_PLOT["top"]
    assert [bar.height for bar in chart.bars] == pytest.approx([plot * 13 / 15, plot * 7 / 15], abs=0.1)


def test_equal_counts_keep_the_causes_own_order(project, contact, manager):
    with_causes(project, contact, ["external", "training_gap", "internal_communication", "training_gap"])

    pareto = selectors.complaint_report(selectors.report_rows(manager)).pareto

    assert [label for label, _n, _cum in pareto] == [
        "Training gap",
        "Internal communication",
        "External (policy or market)",
    ]


def test_without_complaints_the_reports_page_draws_no_chart_and_says_so(client, manager):
    html = reports_page(client, manager).content.decode()

    assert "<svg" not in html
    assert "No complaints to chart." in html


def test_without_a_root_cause_yet_the_reports_page_draws_no_chart_and_says_why(
    client, project, contact, manager
):
    with_causes(project, contact, [""])

    html = reports_page(client, manager).content.decode()

    assert "<svg" not in html
    assert "None of these complaints has a root cause yet" in html
