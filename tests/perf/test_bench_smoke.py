"""The scan benchmark at a tiny scale, so it cannot rot (the real runs are `python -m bench.scans`)."""

import pytest

from bench import scans as bench_scans
from bench.dataset import DatasetSize
from finance_projects.models import FinancingProject, Stage, StageDefinition

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
