"""A row is reported on the line where it starts in the file, as the user sees it in an editor
(the header is line 1), even when a quoted cell before it, or in it, spans several lines."""

import pytest
from django.utils import translation

from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import Client, ImportStatus


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def run(user, text, *, kind="clients"):
    job = import_job_create(kind=kind, filename="data.csv", content=text.encode(), created_by=user)
    return import_job_run(job_id=job.pk)


def problems(job):
    return [(entry["line"], entry["column"]) for entry in job.errors]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_a_multi_line_cell_before_a_bad_row_and_in_it_keeps_the_lines_the_user_sees(owner, newline):
    lines = [
        "name,region,relationship_manager",  # 1
        'Good Co,"East',  # 2: a region on three lines
        "coast",  # 3
        'harbour",',  # 4
        "Ghost Co,West,ghost",  # 5: bad
        "",  # 6: blank
        'Spread Co,"North',  # 7: bad, and its own region spans two lines
        'shore",ghost',  # 8
        "Last Co,South,ghost",  # 9: bad
    ]
    job = run(owner, newline.join(lines) + newline)

    assert job.status == ImportStatus.REJECTED
    assert [line for line, _column in problems(job)] == [5, 7, 9]
    assert not Client.objects.filter(name="Good Co").exists()


def test_a_good_multi_line_cell_is_imported_whole(owner):
    job = run(owner, 'name,region\n"Twin Rivers\nHydro",East\n')

    assert job.status == ImportStatus.DONE, job.errors
    assert Client.objects.filter(name="Twin Rivers\nHydro").exists()


def test_a_too_wide_row_after_a_multi_line_cell_is_named_by_its_first_line(owner):
    job = run(owner, 'name,region\n"A\nCo",East\nB Co,West,surplus\n')

    assert job.errors[0]["message"] == "Line 4 has 3 cells; the header names 2."
