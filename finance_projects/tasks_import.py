"""Background imports: large files are imported by a worker while the page shows progress."""

from celery import shared_task

from .imports import import_job_run, runs_inline
from .models import ImportJob


@shared_task(name="finance_projects.run_import")
def run_import(job_id: int) -> None:
    import_job_run(job_id=job_id)


def import_job_start(job: ImportJob) -> ImportJob:
    """Run a small file now; queue a large one for a worker once the job row is committed."""
    if runs_inline(job):
        return import_job_run(job_id=job.pk)
    run_import.delay_on_commit(job.pk)
    return job
