"""Bulk import of clients, projects and commitments: every bad row reported with its line,
all or nothing by default, the good rows only on request, and never outside the importer's scope."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.utils import timezone, translation

from finance_projects.imports import import_job_create, import_job_run, template_csv
from finance_projects.models import (
    Client,
    Commitment,
    FinancingProject,
    ImportJob,
    ImportStatus,
    StageTransition,
)
from tests.factories import ClientFactory, ProjectFactory


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def run(user, kind, text, *, filename="data.csv", import_valid_rows=False):
    job = import_job_create(
        kind=kind,
        filename=filename,
        content=text.encode() if isinstance(text, str) else text,
        created_by=user,
        import_valid_rows=import_valid_rows,
    )
    return import_job_run(job_id=job.pk)


def problems(job):
    return [(entry["line"], entry["column"]) for entry in job.errors]


FUTURE = (timezone.now() + timedelta(days=30)).date().isoformat()


# --- clients ------------------------------------------------------------------------------


def test_a_good_client_file_imports_every_row_for_the_importer(owner):
    job = run(owner, "clients", "name,industry,region\nSunrise Wind,Wind,East\nBlue River Hydro,Hydro,West\n")

    assert job.status == ImportStatus.DONE
    assert (job.total, job.processed, job.imported, job.errors) == (2, 2, 2, [])
    clients = Client.objects.filter(name__in=["Sunrise Wind", "Blue River Hydro"])
    assert {(c.relationship_manager, c.team) for c in clients} == {(owner, owner.team)}
    assert job.source == b""  # the upload is not kept once the job is over


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(owner, client_org):
    text = (
        "name,relationship_manager\n"  # line 1
        "Good One,\n"  # line 2
        f"{client_org.name},\n"  # 3: exists already in the team
        ",owner\n"  # 4: no name
        "Good Two,ghost\n"  # 5: unknown user
        "good one,\n"  # 6: repeats line 2
    )
    job = run(owner, "clients", text)

    assert job.status == ImportStatus.REJECTED
    assert problems(job) == [(3, "name"), (4, "name"), (5, "relationship_manager"), (6, "name")]
    assert job.imported == 0
    assert not Client.objects.filter(name__in=["Good One", "Good Two"]).exists()


def test_a_bad_client_row_does_not_take_its_name_from_a_good_row_after_it(owner):
    text = f"name,industry\nTwin Co,{'i' * 121}\nTwin Co,Energy\n"

    job = run(owner, "clients", text, import_valid_rows=True)

    assert (job.imported, [(e["line"], e["column"]) for e in job.errors]) == (1, [(2, "industry")])
    assert list(Client.objects.filter(name="Twin Co").values_list("industry", flat=True)) == ["Energy"]


def test_the_good_rows_alone_are_imported_when_the_user_asks_for_it(owner):
    job = run(
        owner, "clients", "name,relationship_manager\nGood One,\nBad One,ghost\n", import_valid_rows=True
    )

    assert job.status == ImportStatus.DONE
    assert job.imported == 1
    assert problems(job) == [(3, "relationship_manager")]
    assert list(Client.objects.filter(name__in=["Good One", "Bad One"]).values_list("name", flat=True)) == [
        "Good One"
    ]


def test_blank_lines_keep_the_line_numbers_the_user_sees(owner):
    job = run(owner, "clients", "name,relationship_manager\nA Co,\n\n\nB Co,ghost\n")

    assert problems(job) == [(5, "relationship_manager")]


def test_a_relationship_manager_cannot_import_clients_for_a_teammate_or_an_outsider(
    owner, teammate, outsider
):
    job = run(owner, "clients", "name,relationship_manager\nX Co,teammate\nY Co,outsider\n")

    assert job.status == ImportStatus.REJECTED
    assert problems(job) == [(2, "relationship_manager"), (3, "relationship_manager")]
    assert "outside your scope" in job.errors[1]["message"]


def test_a_manager_imports_for_the_relationship_managers_of_their_team_only(manager, teammate, outsider):
    job = run(
        manager,
        "clients",
        "name,relationship_manager\nX Co,teammate\nY Co,outsider\n",
        import_valid_rows=True,
    )

    assert problems(job) == [(3, "relationship_manager")]
    assert Client.objects.get(name="X Co").relationship_manager == teammate


def test_missing_required_columns_reject_the_file_on_line_one(owner):
    job = run(owner, "projects", "code,name\nP-1,Wind farm\n")

    assert job.status == ImportStatus.REJECTED
    assert job.errors[0]["line"] == 1
    assert "client" in job.errors[0]["message"] and "amount" in job.errors[0]["message"]


def test_department_staff_may_not_import(department_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_job_create(kind="clients", filename="a.csv", content=b"name\nA\n", created_by=department_user)


def test_only_csv_and_xlsx_files_are_accepted(owner):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        import_job_create(kind="clients", filename="a.exe", content=b"MZ", created_by=owner)
    assert "file" in error.value.message_dict


# --- projects -----------------------------------------------------------------------------


def test_projects_are_created_with_their_first_stage_and_next_update_deadline(owner, client_org):
    text = (
        "code,name,client,amount,currency,stage,update_cadence_days\n"
        f'PF-9001,Offshore wind,{client_org.name},"1,250,000.50",usd,term_sheet,7\n'
    )
    job = run(owner, "projects", text)

    assert job.status == ImportStatus.DONE, job.errors
    project = FinancingProject.objects.get(code="PF-9001")
    assert project.amount == Decimal("1250000.50")
    assert (project.currency, project.stage, project.status) == ("USD", "term_sheet", "active")
    assert (project.relationship_manager, project.team) == (owner, client_org.team)
    assert project.next_update_due_at == project.stage_entered_at + timedelta(days=7)
    assert StageTransition.objects.get(project=project, left_at__isnull=True).stage == "term_sheet"
    assert project.history.get().history_user == owner


def test_each_project_rule_is_reported_against_its_column(owner, client_org, project):
    text = (
        "code,name,client,amount,currency,stage,status,update_cadence_days\n"
        f"{project.code},Dup in DB,{client_org.name},100,CNY,,,\n"  # 2 code exists
        f"PF-A,Neg,{client_org.name},-5,CNY,,,\n"  # 3 amount <= 0
        f"PF-B,NaN,{client_org.name},lots,CNY,,,\n"  # 4 amount not a number
        f"PF-C,Cur,{client_org.name},100,XYZ,,,\n"  # 5 currency
        f"PF-D,Stage,{client_org.name},100,CNY,launch,,\n"  # 6 stage
        "PF-E,Client,Nobody Ltd,100,CNY,,,\n"  # 7 unknown client
        f"PF-F,Cadence,{client_org.name},100,CNY,,,0\n"  # 8 cadence
        f"PF-G,Ok,{client_org.name},100,CNY,,,\n"  # 9 good
        f"PF-G,Again,{client_org.name},100,CNY,,,\n"  # 10 repeats 9
        f"PF-H,Cents,{client_org.name},1.005,CNY,,,\n"  # 11 three decimals
        f"PF-I,Huge,{client_org.name},10000000000000,CNY,,,\n"  # 12 fourteen whole digits
    )
    job = run(owner, "projects", text)

    assert job.status == ImportStatus.REJECTED
    assert problems(job) == [
        (2, "code"),
        (3, "amount"),
        (4, "amount"),
        (5, "currency"),
        (6, "stage"),
        (7, "client"),
        (8, "update_cadence_days"),
        (10, "code"),
        (11, "amount"),
        (12, "amount"),
    ]
    assert not FinancingProject.objects.filter(code="PF-G").exists()


def test_another_teams_client_is_unknown_to_a_relationship_manager(owner, outsider):
    ClientFactory(name="Far Away Co", relationship_manager=outsider, team=outsider.team)

    job = run(owner, "projects", "code,name,client,amount\nPF-X,Wind,Far Away Co,100\n")

    assert problems(job) == [(2, "client")]


def test_a_project_cannot_go_to_a_relationship_manager_of_another_team(admin_user, client_org, outsider):
    job = run(
        admin_user,
        "projects",
        f"code,name,client,amount,relationship_manager\nPF-X,W,{client_org.name},1,outsider\n",
    )

    assert problems(job) == [(2, "relationship_manager")]


def test_an_excel_file_is_read_like_a_csv(owner, client_org):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "name", "client", "amount"])
    sheet.append(["PF-X1", "Solar", client_org.name, 150000000])
    sheet.append([None, None, None, None])
    sheet.append(["PF-X2", "Hydro", client_org.name, -1])
    buffer = io.BytesIO()
    book.save(buffer)

    job = run(owner, "projects", buffer.getvalue(), filename="projects.xlsx", import_valid_rows=True)

    assert job.imported == 1
    assert problems(job) == [(4, "amount")]
    assert FinancingProject.objects.get(code="PF-X1").amount == Decimal("150000000")


def test_a_chinese_excel_csv_in_gb18030_is_understood(owner):
    job = run(owner, "clients", "name,region\n华东风电有限公司,华东\n".encode("gb18030"))

    assert job.status == ImportStatus.DONE
    assert Client.objects.filter(name="华东风电有限公司", region="华东").exists()


# --- commitments --------------------------------------------------------------------------


def test_commitments_default_to_the_project_manager_and_due_at_end_of_day(owner, project):
    with time_machine.travel("2026-03-01 09:00 +08:00", tick=False):
        job = run(
            owner,
            "commitments",
            f"project,title,due_at,kind\n{project.code},Send the term sheet,2026-03-05,document\n",
        )

    assert job.status == ImportStatus.DONE, job.errors
    commitment = Commitment.objects.get(title="Send the term sheet")
    assert (commitment.owner, commitment.status, commitment.created_by) == (owner, "open", owner)
    assert commitment.due_at == datetime(2026, 3, 5, 15, 59, tzinfo=UTC)
    assert commitment.department == owner.department
    created = commitment.history.get()
    assert (created.history_type, created.history_user, created.title) == ("+", owner, "Send the term sheet")


def test_commitment_rules_are_checked_row_by_row(owner, project, outsider, department_user):
    foreign = ProjectFactory(client=ClientFactory(relationship_manager=outsider, team=outsider.team))
    text = (
        "project,title,due_at,owner,kind\n"
        f"{project.code},Past,2020-01-01,,\n"  # 2 due in the past
        f"{project.code},Bad date,next week,,\n"  # 3 unparseable
        f"{foreign.code},Not mine,{FUTURE},,\n"  # 4 project outside scope
        f"{project.code},Outsider owner,{FUTURE},outsider,\n"  # 5 owner outside scope
        f"{project.code},Kind,{FUTURE},,promise\n"  # 6 kind
        f"{project.code},Legal owns it,{FUTURE},legal,document\n"  # 7 good: a department colleague
    )
    job = run(owner, "commitments", text)

    assert problems(job) == [(2, "due_at"), (3, "due_at"), (4, "project"), (5, "owner"), (6, "kind")]
    assert not Commitment.objects.filter(title="Legal owns it").exists()


def test_a_closed_project_takes_no_new_commitments(owner, client_org):
    closed = ProjectFactory(client=client_org, status="closed", stage="closed")

    job = run(owner, "commitments", f"project,title,due_at\n{closed.code},Too late,{FUTURE}\n")

    assert problems(job) == [(2, "project")]


# --- jobs, templates, concurrency ---------------------------------------------------------


def test_a_job_runs_once_even_when_its_task_is_delivered_twice(owner):
    job = import_job_create(kind="clients", filename="a.csv", content=b"name\nOnce Co\n", created_by=owner)

    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)

    assert Client.objects.filter(name="Once Co").count() == 1


def test_the_sample_template_lists_required_columns_first():
    assert template_csv("projects").splitlines()[0].startswith("code,name,client,amount,")


def test_the_import_reads_and_writes_in_batches_not_row_by_row(
    owner, client_org, django_assert_max_num_queries
):
    rows = "".join(f"PF-Q{n},Wind {n},{client_org.name},{n + 1},CNY\n" for n in range(300))
    content = f"code,name,client,amount,currency\n{rows}".encode()
    job = import_job_create(kind="projects", filename="p.csv", content=content, created_by=owner)
    # A fixed dozen for the job and the look-ups, then one INSERT per batch and table (SQLite caps a
    # batch at 999 parameters, so about 60 projects; PostgreSQL takes 1,000 rows a statement).
    with django_assert_max_num_queries(30):
        job = import_job_run(job_id=job.pk)

    assert job.imported == 300


def test_an_outsider_cannot_import_into_another_teams_portfolio(owner, outsider):
    job = run(outsider, "clients", "name,relationship_manager\nSneaky Co,owner\n")

    assert problems(job) == [(2, "relationship_manager")]


def test_import_job_table_keeps_its_outcome(owner):
    job = run(owner, "clients", "name\nKept Co\n")

    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.imported, stored.created_by) == ("done", 1, owner)
    assert stored.finished_at is not None and stored.started_at is not None


def test_a_row_with_a_cell_more_than_the_header_is_refused_naming_its_line(owner, client_org):
    text = (
        "code,name,client,amount\n"
        f"PF-A,Wind,{client_org.name},100,surplus\n"  # line 2: five cells under four headings
        f"PF-B,Solar,{client_org.name},200\n"
    )

    job = run(owner, "projects", text)

    assert job.status == ImportStatus.REJECTED
    assert job.errors == [{"line": 1, "column": "", "message": "Line 2 has 5 cells; the header names 4."}]
    assert not FinancingProject.objects.exists()
