"""Two workers handed the same import job (a redelivered task) import it exactly once."""

import threading

import pytest
from django.db import connection

from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import Client, ImportJob


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_import_it_once(owner):
    rows = "".join(f"Race Co {n}\n" for n in range(500))
    job = import_job_create(
        kind="clients", filename="race.csv", content=f"name\n{rows}".encode(), created_by=owner
    )
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(import_job_run(job_id=job.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Client.objects.filter(name__startswith="Race Co ").count() == 500
    assert ImportJob.objects.get(pk=job.pk).imported == 500
    assert len(outcomes) == 2
