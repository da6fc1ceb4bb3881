"""Day counts people type are bounded: a stage is expected to take at most ten years (3650 days)
and a client hears from the bank at least once a year (a cadence of at most 365 days). Past that,
deadlines leave the range of a date (Python's, or PostgreSQL's in the scans' SQL): every way in
refuses the value on its field with a translated message, and the database keeps the bound too."""

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation

from finance_projects import scans, services
from finance_projects.imports import import_job_create, import_job_run
from finance_projects.models import Alert, FinancingProject, ImportStatus, StageDefinition
from tests.factories import ProjectFactory

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
MAX_EXPECTED_DAYS = 3650
MAX_CADENCE_DAYS = 365
HUGE_CADENCE = 3_000_000  # past Python's last date from today: an OverflowError
HUGE_EXPECTED_DAYS = 9_999_999  # past PostgreSQL's first timestamp when subtracted: a DataError


def _payload(client_org, **overrides):
    return {
        "client": client_org.pk,
        "name": "华电风电二期 Huadian Wind Phase II",
        "code": "PF-WIND-2",
        "amount": "850000000.00",
        "currency": "CNY",
        **overrides,
    }


# --- update cadence: API ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("days", [MAX_CADENCE_DAYS + 1, HUGE_CADENCE])
def test_a_project_opened_with_a_cadence_over_a_year_is_a_400_naming_it(api_as, owner, client_org, days):
    response = api_as(owner).post(
        "/api/v1/projects/", _payload(client_org, update_cadence_days=days), format="json"
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["update_cadence_days"]
    assert not FinancingProject.objects.filter(code="PF-WIND-2").exists()


@pytest.mark.django_db
def test_a_cadence_of_exactly_a_year_is_accepted(api_as, owner, client_org):
    response = api_as(owner).post(
        "/api/v1/projects/", _payload(client_org, update_cadence_days=MAX_CADENCE_DAYS), format="json"
    )

    assert response.status_code == 201, response.content
    project = FinancingProject.objects.get(pk=response.json()["id"])
    assert project.next_update_due_at == project.stage_entered_at + timedelta(days=MAX_CADENCE_DAYS)


@pytest.mark.django_db
@pytest.mark.parametrize("days", [MAX_CADENCE_DAYS + 1, HUGE_CADENCE])
def test_patching_a_cadence_over_a_year_is_a_400_and_keeps_the_deadline(api_as, owner, project, days):
    before = (project.update_cadence_days, project.next_update_due_at)

    response = api_as(owner).patch(
        f"/api/v1/projects/{project.pk}/", {"update_cadence_days": days}, format="json"
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["update_cadence_days"]
    project.refresh_from_db()
    assert (project.update_cadence_days, project.next_update_due_at) == before


# --- update cadence: services (what commands, tasks and the admin call) ----------------------


@pytest.mark.django_db
@pytest.mark.parametrize("days", [MAX_CADENCE_DAYS + 1, HUGE_CADENCE])
def test_the_project_services_refuse_a_cadence_over_a_year_on_the_field(owner, client_org, project, days):
    with pytest.raises(ValidationError) as created:
        services.project_create(
            client=client_org,
            name="Wind",
            code="PF-SVC-1",
            amount=1,
            currency="CNY",
            relationship_manager=owner,
            update_cadence_days=days,
        )
    with pytest.raises(ValidationError) as updated:
        services.project_update(project=project, update_cadence_days=days)

    assert list(created.value.message_dict) == list(updated.value.message_dict) == ["update_cadence_days"]
    assert not FinancingProject.objects.filter(code="PF-SVC-1").exists()
    assert FinancingProject.objects.get(pk=project.pk).update_cadence_days == 14


@pytest.mark.django_db
def test_the_cadence_limit_is_explained_in_chinese(owner, project):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as error:
            services.project_update(project=project, update_cadence_days=HUGE_CADENCE)
        (message,) = error.value.message_dict["update_cadence_days"]  # lazy: read in Chinese

    assert "365" in message
    assert "天" in message


# --- update cadence: admin and bulk import ---------------------------------------------------


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def _inline_management_forms():
    return {
        f"{prefix}-{key}": value
        for prefix in ("transitions", "touchpoints", "commitments")
        for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
    }


@pytest.mark.django_db
def test_the_admin_refuses_a_project_cadence_over_a_year_on_the_form(staff, client_org, owner):
    response = staff.post(
        reverse("admin:finance_projects_financingproject_add"),
        {
            "client": client_org.pk,
            "name": "Wind",
            "code": "PF-ADMIN-9",
            "amount": "1",
            "currency": "CNY",
            "status": "active",
            "relationship_manager": owner.pk,
            "update_cadence_days": HUGE_CADENCE,
            **_inline_management_forms(),
        },
    )

    assert response.status_code == 200
    assert "update_cadence_days" in response.context["adminform"].form.errors
    assert not FinancingProject.objects.filter(code="PF-ADMIN-9").exists()


def _import_projects(user, content, filename):
    job = import_job_create(kind="projects", filename=filename, content=content, created_by=user)
    return import_job_run(job_id=job.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("cadence", [str(MAX_CADENCE_DAYS + 1), str(HUGE_CADENCE), "9" * 5000, "²"])
def test_a_csv_row_with_an_impossible_cadence_is_reported_and_nothing_is_imported(owner, client_org, cadence):
    text = (
        "code,name,client,amount,update_cadence_days\n"
        f"PF-I1,Solar,{client_org.name},100,{MAX_CADENCE_DAYS}\n"
        f"PF-I2,Wind,{client_org.name},100,{cadence}\n"
    )

    with translation.override("en"):
        job = _import_projects(owner, text.encode(), "projects.csv")

    assert job.status == ImportStatus.REJECTED
    assert [(entry["line"], entry["column"]) for entry in job.errors] == [(3, "update_cadence_days")]
    assert str(MAX_CADENCE_DAYS) in job.errors[0]["message"]
    assert not FinancingProject.objects.filter(code__in=["PF-I1", "PF-I2"]).exists()


@pytest.mark.django_db
def test_an_excel_row_with_a_huge_cadence_is_reported_and_the_good_rows_imported(owner, client_org):
    book = openpyxl.Workbook()
    book.active.append(["code", "name", "client", "amount", "update_cadence_days"])
    book.active.append(["PF-X1", "Solar", client_org.name, 100, HUGE_CADENCE])
    book.active.append(["PF-X2", "Hydro", client_org.name, 100, MAX_CADENCE_DAYS])
    buffer = io.BytesIO()
    book.save(buffer)

    job = import_job_create(
        kind="projects",
        filename="projects.xlsx",
        content=buffer.getvalue(),
        created_by=owner,
        import_valid_rows=True,
    )
    job = import_job_run(job_id=job.pk)

    assert [(entry["line"], entry["column"]) for entry in job.errors] == [(2, "update_cadence_days")]
    assert list(FinancingProject.objects.filter(code__startswith="PF-X").values_list("code", flat=True)) == [
        "PF-X2"
    ]


# --- stage expected days: model and admin -----------------------------------------------------


@pytest.mark.django_db
def test_a_stage_expected_to_take_over_ten_years_is_refused_on_the_field_in_chinese():
    definition = StageDefinition.objects.get(stage="inquiry")
    definition.expected_days = MAX_EXPECTED_DAYS + 1

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as error:
            definition.full_clean()
        (message,) = error.value.message_dict["expected_days"]  # lazy: read in Chinese

    assert "3650" in message
    assert "Ensure" not in message


@pytest.mark.django_db
def test_the_admin_change_form_refuses_a_huge_expected_duration(staff):
    definition = StageDefinition.objects.get(stage="inquiry")

    response = staff.post(
        reverse("admin:finance_projects_stagedefinition_change", args=[definition.pk]),
        {
            "stage": definition.stage,
            "purpose_zh": definition.purpose_zh,
            "purpose_en": definition.purpose_en,
            "expected_days": HUGE_EXPECTED_DAYS,
        },
    )

    assert response.status_code == 200
    assert "expected_days" in response.context["adminform"].form.errors
    assert StageDefinition.objects.get(pk=definition.pk).expected_days == 14


@pytest.mark.django_db
def test_the_admin_list_edit_refuses_a_huge_expected_duration(staff):
    definitions = list(StageDefinition.objects.order_by("id"))
    data = {
        "form-TOTAL_FORMS": len(definitions),
        "form-INITIAL_FORMS": len(definitions),
        "_save": "Save",
    }
    for index, definition in enumerate(definitions):
        data[f"form-{index}-id"] = definition.pk
        data[f"form-{index}-expected_days"] = definition.expected_days
    data["form-0-expected_days"] = HUGE_EXPECTED_DAYS

    response = staff.post(reverse("admin:finance_projects_stagedefinition_changelist"), data)

    assert response.status_code == 200
    assert "expected_days" in response.context["cl"].formset.forms[0].errors
    assert StageDefinition.objects.get(pk=definitions[0].pk).expected_days == definitions[0].expected_days


# --- the database keeps both bounds --------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_stage_over_ten_years_and_a_cadence_over_a_year(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        StageDefinition.objects.filter(stage="inquiry").update(expected_days=MAX_EXPECTED_DAYS + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        FinancingProject.objects.filter(pk=project.pk).update(update_cadence_days=MAX_CADENCE_DAYS + 1)

    StageDefinition.objects.filter(stage="inquiry").update(expected_days=MAX_EXPECTED_DAYS)
    FinancingProject.objects.filter(pk=project.pk).update(update_cadence_days=MAX_CADENCE_DAYS)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_stage_overrun_scan_runs_with_the_longest_stage_the_database_accepts():
    with pytest.raises(IntegrityError), transaction.atomic():
        StageDefinition.objects.filter(stage="monitoring").update(expected_days=HUGE_EXPECTED_DAYS)
    StageDefinition.objects.filter(stage="monitoring").update(expected_days=MAX_EXPECTED_DAYS)
    late, very_late, on_time = (
        ProjectFactory(stage="monitoring", stage_entered_at=NOW - timedelta(days=days))
        for days in (MAX_EXPECTED_DAYS + 1, 2 * MAX_EXPECTED_DAYS + 1, MAX_EXPECTED_DAYS)
    )
    elsewhere = ProjectFactory(stage="inquiry", stage_entered_at=NOW - timedelta(days=15))

    assert scans.stage_overrun(NOW).opened == 3

    alerts = Alert.objects.filter(kind="stage_overrun", resolved_at__isnull=True)
    severities = dict(alerts.values_list("project_id", "severity"))
    assert severities == {late.pk: "warning", very_late.pk: "critical", elsewhere.pk: "warning"}
    assert on_time.pk not in severities
    assert scans.stage_overrun(NOW).opened == 0


# --- the migration clamps what is already stored -----------------------------------------------

BEFORE = [("finance_projects", "0011_alert_kind_contact_request")]
AFTER = [("finance_projects", "0012_bound_stage_days_and_update_cadence")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_clamps_stored_days_so_the_scans_run_again():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("finance_projects", "StageDefinition").objects.filter(stage="inquiry").update(
        expected_days=HUGE_EXPECTED_DAYS
    )
    team = old.get_model("accounts", "Team").objects.create(name="Energy")
    rm = old.get_model("accounts", "User").objects.create(username="rm-before", team=team)
    client = old.get_model("finance_projects", "Client").objects.create(
        name="Harbour Wind", team=team, relationship_manager=rm
    )
    projects = old.get_model("finance_projects", "FinancingProject").objects
    fine, huge = (
        projects.create(
            client=client,
            name=name,
            code=name,
            amount=1,
            team=team,
            relationship_manager=rm,
            update_cadence_days=days,
            stage="inquiry",
            stage_entered_at=NOW - timedelta(days=20),
            last_client_update_at=NOW,
            next_update_due_at=NOW + timedelta(days=days),
        )
        for name, days in [("HW-1", 30), ("HW-2", 1_000_000)]
    )
    for project in (fine, huge):
        old.get_model("finance_projects", "StageTransition").objects.create(
            project=project, stage="inquiry", entered_at=project.stage_entered_at
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    assert StageDefinition.objects.get(stage="inquiry").expected_days == MAX_EXPECTED_DAYS
    assert StageDefinition.objects.get(stage="term_sheet").expected_days == 21  # untouched
    assert dict(FinancingProject.objects.values_list("code", "update_cadence_days")) == {
        "HW-1": 30,
        "HW-2": MAX_CADENCE_DAYS,
    }
    # The clamped cadence moves the next update due with it, as `project_update` would.
    due = dict(FinancingProject.objects.values_list("code", "next_update_due_at"))
    assert due == {"HW-1": NOW + timedelta(days=30), "HW-2": NOW + timedelta(days=MAX_CADENCE_DAYS)}
    assert scans.stage_overrun(NOW).opened == 0  # 20 days into a ten-year stage

    # Reversing it keeps the clamped values (nothing to restore), and it applies again.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert StageDefinition.objects.get(stage="inquiry").expected_days == MAX_EXPECTED_DAYS
    call_command("migrate", verbosity=0)
