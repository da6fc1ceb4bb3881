"""Row errors are written in the uploader's language, whether the upload is imported during the
request (a small file) or by a background worker (a large one), whatever the worker speaks."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from finance_projects import imports
from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import ImportJob, ImportStatus
from finance_projects.tasks_import import run_import

BAD_CLIENTS = "name,relationship_manager\nA Co,\nB Co,ghost\n"
GHOST_IN_CHINESE = "没有名为“ghost”的在职用户。"


def csv_file(text, name="clients.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def queue_everything(monkeypatch):
    """Every file goes to the worker; the queued job ids are returned instead of sent."""
    monkeypatch.setattr(imports, "INLINE_MAX_BYTES", 0)
    queued = []
    monkeypatch.setattr(run_import, "delay", lambda job_id: queued.append(job_id))
    return queued


def test_a_chinese_uploaders_job_run_by_an_english_worker_reports_in_chinese(
    api_as, owner, monkeypatch, django_capture_on_commit_callbacks
):
    queued = queue_everything(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(owner).post(
            "/api/v1/imports/",
            {"kind": "clients", "file": csv_file(BAD_CLIENTS)},
            format="multipart",
            headers={"accept-language": "zh-hans"},
        )
    assert response.status_code == 202

    with translation.override("en"):  # the worker's own language
        run_import(queued[0])

    job = ImportJob.objects.get(pk=queued[0])
    assert job.status == ImportStatus.REJECTED
    assert [entry["message"] for entry in job.errors] == [GHOST_IN_CHINESE]


def test_an_english_uploaders_job_run_by_a_chinese_worker_reports_in_english(
    client, owner, monkeypatch, django_capture_on_commit_callbacks
):
    queued = queue_everything(monkeypatch)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/imports/",
            {"kind": "clients", "file": csv_file(BAD_CLIENTS)},
            headers={"accept-language": "en"},
        )

    with translation.override("zh-hans"):
        run_import(queued[0])

    job = ImportJob.objects.get(pk=queued[0])
    assert job.language == "en"
    assert [entry["message"] for entry in job.errors] == ["No active user named “ghost”."]


def test_a_file_level_problem_is_also_reported_in_the_uploaders_language(owner):
    job = import_job_create(
        kind="clients", filename="a.csv", content=b" \n", created_by=owner, language="zh-hans"
    )

    with translation.override("en"):
        job = import_job_run(job_id=job.pk)

    assert job.errors[0]["message"] == "文件为空。"


def test_a_small_file_imported_during_the_request_reports_in_the_uploaders_language(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/imports/",
        {"kind": "clients", "file": csv_file(BAD_CLIENTS)},
        format="multipart",
        headers={"accept-language": "zh-hans"},
    )

    assert response.status_code == 201
    assert [entry["message"] for entry in response.json()["errors"]] == [GHOST_IN_CHINESE]


def test_an_upload_outside_a_request_takes_the_uploaders_own_language(owner):
    owner.language = "en"
    owner.save(update_fields=["language"])

    with translation.override("zh-hans"):  # whatever a shell or task has active
        job = import_job_create(kind="clients", filename="a.csv", content=b"name\nA\n", created_by=owner)

    assert job.language == "en"
