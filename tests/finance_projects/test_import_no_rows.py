"""A file with a header and no data rows is refused, saying so, rather than "0 rows imported"."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import ImportJob, ImportStatus

NO_ROWS = "The file has no rows to import."


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def header_only_xlsx():
    book = openpyxl.Workbook()
    book.active.append(["name", "region"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("clients.csv", b"name,region\n"),
        ("clients.csv", b"name,region"),
        ("clients.csv", b"name,region\r\n\r\n,\r\n  ,  \r\n"),  # blank and empty lines are no rows
        ("clients.xlsx", header_only_xlsx()),
    ],
    ids=["header", "header-without-newline", "header-and-blank-lines", "xlsx-header"],
)
def test_a_file_with_only_a_header_is_rejected_saying_it_has_no_rows(owner, filename, content):
    job = import_job_create(kind="clients", filename=filename, content=content, created_by=owner)

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportStatus.REJECTED
    assert (job.imported, job.total) == (0, 0)
    assert job.errors == [{"line": 1, "column": "", "message": NO_ROWS}]


def test_a_header_only_file_missing_a_required_column_names_the_column(owner):
    job = import_job_create(kind="projects", filename="p.csv", content=b"code,name\n", created_by=owner)

    job = import_job_run(job_id=job.pk)

    assert "Missing required columns" in job.errors[0]["message"]


def test_the_page_shows_a_header_only_upload_as_rejected_with_the_reason(client, owner):
    client.force_login(owner)

    response = client.post(
        "/imports/",
        {"kind": "clients", "file": SimpleUploadedFile("c.csv", b"name,region\n", content_type="text/csv")},
        follow=True,
        headers={"accept-language": "en"},
    )

    page = response.content.decode()
    assert ImportJob.objects.get().status == ImportStatus.REJECTED
    assert NO_ROWS in page
    assert "Nothing was imported." in page
    assert "rows imported" not in page


def test_the_api_answers_a_header_only_upload_with_the_rejected_job_and_the_reason(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/imports/",
        {"kind": "contacts", "file": SimpleUploadedFile("c.csv", b"client,name,email\n")},
        format="multipart",
        headers={"accept-language": "en"},
    )

    body = response.json()
    assert (body["status"], body["imported"], body["error_count"]) == ("rejected", 0, 1)
    assert body["errors"][0]["message"] == NO_ROWS
