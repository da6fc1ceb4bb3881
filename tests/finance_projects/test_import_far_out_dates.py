"""A far-out due date in an imported file is a bad cell, reported on its line and column, never a
failed import. Python's datetime ends at 9999: `9999-12-31 23:00-10:00`, or a bare 9999-12-31 (the
end of that day) for an importer in New York, is after 9999 in UTC, and SQLite's adapter raised
OverflowError writing it, failing the whole file with no line named; `9999-12-31 23:59` for an
importer in Shanghai was stored, then broke every page showing it to a reader further east."""

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.utils import timezone, translation

from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import Commitment, ImportStatus

pytestmark = pytest.mark.django_db

FUTURE = (timezone.now() + timedelta(days=30)).date().isoformat()
INVALID_MOMENT = "Choose a date between 2000-01-01 and 2099-12-31."


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def run(user, content, *, filename="commitments.csv", import_valid_rows=False):
    job = import_job_create(
        kind="commitments",
        filename=filename,
        content=content.encode() if isinstance(content, str) else content,
        created_by=user,
        import_valid_rows=import_valid_rows,
    )
    return import_job_run(job_id=job.pk)


def importer_in(user, zone):
    user.time_zone = zone
    user.save()
    return user


@pytest.mark.parametrize(
    ("zone", "due_at"),
    [
        pytest.param("Asia/Shanghai", "9999-12-31 23:00-10:00", id="year-9999-with-offset"),
        pytest.param("America/New_York", "9999-12-31", id="last-day-in-new-york"),
        pytest.param("America/New_York", "9999/12/31 23:59", id="last-minute-in-new-york"),
        pytest.param("Asia/Shanghai", "9999-12-31 23:59", id="unshowable-further-east"),
    ],
)
def test_a_far_out_due_date_is_reported_on_its_row_and_column_and_nothing_is_imported(
    owner, project, zone, due_at
):
    text = f"project,title,due_at\n{project.code},Term sheet,{FUTURE}\n{project.code},Far out,{due_at}\n"

    job = run(importer_in(owner, zone), text)

    assert job.status == ImportStatus.REJECTED
    assert job.errors == [{"line": 3, "column": "due_at", "message": INVALID_MOMENT}]
    assert not Commitment.objects.exists()


def test_the_good_rows_beside_a_far_out_due_date_are_imported_when_asked(owner, project):
    text = f"project,title,due_at\n{project.code},Term sheet,{FUTURE}\n{project.code},Far out,9999-12-31\n"

    job = run(importer_in(owner, "America/New_York"), text, import_valid_rows=True)

    assert (job.status, job.imported) == (ImportStatus.DONE, 1)
    assert job.errors == [{"line": 3, "column": "due_at", "message": INVALID_MOMENT}]
    assert list(Commitment.objects.values_list("title", flat=True)) == ["Term sheet"]


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(datetime(9999, 12, 31), id="date-cell"),
        pytest.param(datetime(9999, 12, 31, 23, 59), id="date-time-cell"),
        pytest.param(2958465, id="serial-number-of-9999-12-31"),
    ],
)
def test_a_far_out_excel_date_is_reported_on_its_row_and_column(owner, project, cell):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["project", "title", "due_at"])
    sheet.append([project.code, "Term sheet", FUTURE])
    sheet.append([project.code, "Far out", cell])
    sheet.cell(row=3, column=3).number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)

    job = run(importer_in(owner, "America/New_York"), buffer.getvalue(), filename="commitments.xlsx")

    assert job.status == ImportStatus.REJECTED
    assert job.errors == [{"line": 3, "column": "due_at", "message": INVALID_MOMENT}]
    assert not Commitment.objects.exists()
