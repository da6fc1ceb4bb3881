"""The import pages and API: upload, progress, results, samples; scoped to the uploader."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from finance_projects import imports
from finance_projects.imports import import_job_create
from finance_projects.models import Client, ImportJob, ImportStatus
from finance_projects.tasks_import import run_import


def csv_file(text, name="clients.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- browser pages ------------------------------------------------------------------------


def test_the_import_page_needs_a_login(client, db):
    response = client.get("/imports/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_department_staff_cannot_open_the_import_page(client, department_user):
    client.force_login(department_user)

    assert client.get("/imports/").status_code == 403


def test_the_import_page_offers_the_form_and_sample_templates(client, owner):
    client.force_login(owner)

    response = client.get("/imports/?kind=projects")

    assert response.status_code == 200
    assert response.context["form"].initial["kind"] == "projects"
    for kind in ("clients", "projects", "commitments"):
        assert f"/imports/templates/{kind}.csv" in response.content.decode()


def test_a_sample_template_downloads_as_csv_headers(client, owner):
    client.force_login(owner)

    response = client.get("/imports/templates/commitments.csv")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().strip() == "project,title,due_at,kind,owner,department,description"


def test_uploading_a_bad_file_shows_every_problem_with_its_line(client, owner):
    client.force_login(owner)

    response = client.post(
        "/imports/",
        {"kind": "clients", "file": csv_file("name,relationship_manager\nA Co,\nB Co,ghost\n")},
        follow=True,
    )

    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == f"/imports/{job.pk}/"
    assert job.status == ImportStatus.REJECTED
    page = response.content.decode()
    assert "<td>3</td><td>relationship_manager</td>" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert not Client.objects.filter(name="A Co").exists()


def test_the_good_rows_option_imports_them_from_the_page(client, owner):
    client.force_login(owner)

    client.post(
        "/imports/",
        {
            "kind": "clients",
            "import_valid_rows": "on",
            "file": csv_file("name,relationship_manager\nA Co,\nB Co,ghost\n"),
        },
    )

    assert Client.objects.filter(name="A Co").exists()


def test_a_wrong_file_type_is_refused_on_the_form(client, owner):
    client.force_login(owner)

    response = client.post("/imports/", {"kind": "clients", "file": csv_file("x", name="clients.pdf")})

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_running_job_is_polled_with_htmx_and_draws_a_progress_bar(client, owner):
    job = import_job_create(kind="clients", filename="a.csv", content=b"name\nA\n", created_by=owner)
    ImportJob.objects.filter(pk=job.pk).update(status="running", total=200, processed=50)
    client.force_login(owner)

    page = client.get(f"/imports/{job.pk}/").content.decode()
    fragment = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 1s"' in page
    assert '<progress value="50" max="200">' in fragment
    assert "<html" not in fragment


def test_another_users_job_is_not_found(client, owner, outsider):
    job = import_job_create(kind="clients", filename="a.csv", content=b"name\nA\n", created_by=owner)
    client.force_login(outsider)

    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/errors.csv").status_code == 404


def test_the_problems_download_as_csv(client, owner):
    client.force_login(owner)
    client.post("/imports/", {"kind": "clients", "file": csv_file("name,relationship_manager\nB Co,ghost\n")})
    job = ImportJob.objects.get()

    rows = client.get(f"/imports/{job.pk}/errors.csv").content.decode("utf-8-sig").splitlines()

    assert rows[1].startswith("2,relationship_manager,")


def test_admin_changelists_link_to_the_import_page(client, admin_user):
    client.force_login(admin_user)

    page = client.get("/admin/finance_projects/financingproject/").content.decode()

    assert "/imports/?kind=projects" in page


# --- API ----------------------------------------------------------------------------------


def test_the_api_imports_a_small_file_at_once(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/imports/", {"kind": "clients", "file": csv_file("name\nApi Co\n")}, format="multipart"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["imported"], body["errors"]) == ("done", 1, [])
    assert Client.objects.filter(name="Api Co", relationship_manager=owner).exists()


def test_the_api_reports_row_errors_and_imports_nothing(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/imports/",
        {"kind": "clients", "file": csv_file("name,relationship_manager\nA,\nB,ghost\n")},
        format="multipart",
    )

    body = response.json()
    assert (body["status"], body["imported"]) == ("rejected", 0)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "relationship_manager")]


def test_a_large_file_is_queued_for_a_worker_and_progress_is_readable(
    api_as, owner, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(imports, "INLINE_MAX_BYTES", 10)
    queued = []
    monkeypatch.setattr(run_import, "delay", lambda job_id: queued.append(job_id))
    api = api_as(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/imports/", {"kind": "clients", "file": csv_file("name\nBig Co\n")}, format="multipart"
        )

    assert response.status_code == 202
    job_id = response.json()["id"]
    assert queued == [job_id]
    assert api.get(f"/api/v1/imports/{job_id}/").json()["status"] == "queued"

    run_import(job_id)  # what the worker does

    body = api.get(f"/api/v1/imports/{job_id}/").json()
    assert (body["status"], body["total"], body["processed"], body["percent"]) == ("done", 1, 1, 100)


def test_the_api_hides_other_users_jobs(api_as, owner, outsider):
    job = import_job_create(kind="clients", filename="a.csv", content=b"name\nA\n", created_by=owner)
    api = api_as(outsider)

    assert api.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert api.get("/api/v1/imports/").json()["count"] == 0


def test_the_api_refuses_department_staff_and_anonymous_callers(api, api_as, department_user):
    assert api.post("/api/v1/imports/", {"kind": "clients"}, format="multipart").status_code in (401, 403)
    response = api_as(department_user).post(
        "/api/v1/imports/", {"kind": "clients", "file": csv_file("name\nA\n")}, format="multipart"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "field"),
    [({"kind": "budgets"}, "kind"), ({"kind": "clients"}, "file")],
)
def test_the_api_names_the_bad_field(api_as, owner, data, field):
    if field != "file":
        data = {**data, "file": csv_file("name\nA\n")}

    response = api_as(owner).post("/api/v1/imports/", data, format="multipart")

    assert response.status_code == 400
    assert field in response.json()
