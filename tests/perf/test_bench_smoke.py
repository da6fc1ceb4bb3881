"""The scan benchmark at a tiny scale, so it cannot rot (the real runs are `python -m bench.scans`)."""

import json

import pytest

from bench import scans as bench_scans
from bench.dataset import DatasetSize
from finance_projects.models import FinancingProject, Stage, StageDefinition

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_the_scan_benchmark_builds_its_dataset_and_times_every_core_scan():
    # A transactional test starts from flushed tables: put the stage definitions back.
    for stage in Stage.values:
        StageDefinition.objects.get_or_create(
            stage=stage, defaults={"expected_days": 10, "purpose_zh": stage, "purpose_en": stage}
        )
    lines = []

    results = bench_scans.run(scale=0.001, repeat=1, out=lines.append)

    assert FinancingProject.objects.filter(code__contains="bench").count() == DatasetSize.at(0.001).projects
    assert [row["scan"] for row in results] == bench_scans.CORE_SCANS
    assert all(row["rows"] > 0 and row["floor"] > 0 and row["first"] > 0 for row in results)
    assert any(line.startswith("commitment_missed") for line in lines)


@pytest.mark.django_db
@pytest.mark.urls("bench.urls")
def test_the_survey_benchmark_write_floor_stores_the_posted_answers_in_one_insert(
    client, django_assert_num_queries
):
    from django.db import connection

    from bench.views import FLOOR_TABLE, FLOOR_TABLE_SQL

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)

    with django_assert_num_queries(1):
        response = client.post("/bench/write/tok123/", {"q_1": "9", "q_2": "很好", "action": "submit"})

    assert response.status_code == 302
    assert response["Location"] == "/bench/write/tok123/?done=1"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, answers FROM {FLOOR_TABLE}")
        [(token, answers)] = cursor.fetchall()
    assert (token, json.loads(answers)) == ("tok123", {"q_1": "9", "q_2": "很好"})


def test_the_survey_benchmark_report_prints_the_floor_beside_the_target_ratio(capsys):
    from types import SimpleNamespace

    from bench import survey_load

    def phase(rps, **extra):
        return {"rps": rps, "p50": 4.0, "p99": 9.0, "requests": int(rps * 3), **extra}

    rounds = [
        {"bare": phase(1000), "floor": phase(500), "survey": phase(400, accepted=1200)},
        {"bare": phase(1200), "floor": phase(540), "survey": phase(420, accepted=1260)},
    ]
    args = SimpleNamespace(
        workers=5, worker_class="sync", worker_threads=1, connections=8, pairs=2, duration=3
    )
    drained = {"seconds": 1.0, "unprocessed": 0, "tagged": 0, "detractors": 0, "alerts_ok": True}

    survey_load.report(args, True, rounds, stored=2470, duplicates=0, drained=drained, warm=0)

    out = capsys.readouterr().out
    assert "ratio survey/bare: 38% median of 2 rounds (min 35%, max 40%" in out
    assert "floor/bare: 48% (one INSERT and its commit, nothing else); survey/floor: 79%" in out
