"""Exports never hand a spreadsheet program a formula: a client, project or complaint text that
starts like one (=, +, -, @) is written as text, in CSV and in XLSX."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from tests.factories import ClientFactory, ComplaintFactory, ProjectFactory, ensure_sla_policies

pytestmark = pytest.mark.django_db

TRAP = '=HYPERLINK("http://evil.example","click")'


def cells(workbook: bytes) -> list:
    return [cell for row in openpyxl.load_workbook(io.BytesIO(workbook)).active.iter_rows() for cell in row]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def trapped(owner):
    owner.first_name, owner.last_name = "伟", "王"
    owner.save()
    client_org = ClientFactory(relationship_manager=owner, team=owner.team, name=TRAP)
    return ProjectFactory(client=client_org, name="=1+2", amount="2554000000.00")


def test_the_portfolio_csv_writes_formula_like_names_as_text(client, owner, trapped):
    client.force_login(owner)

    rows = csv_rows(client.get(reverse("dashboard:export-portfolio", args=["csv"])))

    row = next(row for row in rows if trapped.code in row)
    assert "'" + TRAP in row and "'=1+2" in row
    assert "王伟" in row  # the RM as the pages name them, family name first


def test_the_portfolio_xlsx_has_no_formula_and_keeps_the_amount_a_number(client, owner, trapped):
    client.force_login(owner)

    written = cells(client.get(reverse("dashboard:export-portfolio", args=["xlsx"])).content)

    assert [cell.coordinate for cell in written if cell.data_type == "f"] == []
    assert {TRAP, "=1+2"} <= {cell.value for cell in written}
    amount = next(cell for cell in written if cell.value == 2554000000)
    assert amount.data_type == "n"


def test_the_complaint_export_writes_a_formula_like_project_code_as_text(
    client, manager, client_org, contact
):
    ensure_sla_policies()
    project = ProjectFactory(client=client_org, code="-2+3")
    ComplaintFactory(project=project, contact=contact)
    client.force_login(manager)

    text = client.get(reverse("complaints:export", args=["csv"])).content.decode("utf-8-sig")
    workbook = client.get(reverse("complaints:export", args=["xlsx"])).content

    assert ",'-2+3," in text
    assert [cell.coordinate for cell in cells(workbook) if cell.data_type == "f"] == []
    assert "-2+3" in {cell.value for cell in cells(workbook)}
