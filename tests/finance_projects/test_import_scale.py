"""A 50,000-row file goes in one go. Time it with:

.venv/bin/pytest tests/finance_projects/test_import_scale.py -p no:xdist -m slow --durations=0 -q
"""

import pytest

from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import FinancingProject, ImportStatus, StageTransition

ROWS = 50_000


@pytest.mark.slow
def test_fifty_thousand_projects_import_in_one_transaction(owner, client_org):
    lines = "".join(
        f"BULK-{n:06d},Solar farm {n},{client_org.name},{1000 + n}.50,CNY,due_diligence\n"
        for n in range(ROWS)
    )
    content = f"code,name,client,amount,currency,stage\n{lines}".encode()
    job = import_job_create(kind="projects", filename="bulk.csv", content=content, created_by=owner)

    job = import_job_run(job_id=job.pk)

    assert (job.status, job.total, job.processed, job.imported) == (ImportStatus.DONE, ROWS, ROWS, ROWS)
    assert FinancingProject.objects.filter(code__startswith="BULK-").count() == ROWS
    assert (
        StageTransition.objects.filter(project__code__startswith="BULK-", stage="due_diligence").count()
        == ROWS
    )
