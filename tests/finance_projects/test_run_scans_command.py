"""`manage.py run_scans` behaves like the scan task: a scan that fails on its own data is
reported, the others still run and the e-mails still go out, and the command fails at the end."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, InterfaceError, OperationalError
from django.utils import timezone, translation

from finance_projects import scans
from finance_projects.models import Alert, ScanRun
from tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db


def broken_scan(error):
    def scan(*, at):
        raise error

    return scan


@pytest.fixture
def missed_pricing_promise(project, owner):
    """What `commitment_missed`, a scan registered after the broken one, turns into a critical
    alert e-mailed to the owner."""
    return CommitmentFactory(project=project, kind="pricing", due_at=timezone.now() - timedelta(hours=3))


def register_first(monkeypatch, name, scan):
    monkeypatch.setattr(scans, "SCAN_REGISTRY", {name: scan, **scans.SCAN_REGISTRY})


def test_a_scan_failing_on_bad_data_is_reported_and_the_scans_after_it_still_run_and_email(
    missed_pricing_promise, owner, monkeypatch, capsys
):
    register_first(monkeypatch, "broken", broken_scan(DataError("value too long for type varchar(8)")))

    with translation.override("en"), pytest.raises(CommandError, match="broken") as failure:
        call_command("run_scans")

    assert failure.value.returncode == 1  # `manage.py` exits non-zero
    captured = capsys.readouterr()
    rows = {line.split()[0]: line.split()[1:] for line in captured.out.splitlines() if line.strip()}
    assert rows["broken"] == ["failed:", "DataError"]
    assert rows["commitment_missed"][:3] == ["1", "0", "0"]
    assert {"update_overdue", "stage_overrun"} <= set(rows)
    assert "broken" in captured.err and "DataError" in captured.err
    assert Alert.objects.filter(kind="commitment_missed", severity="critical").count() == 1
    assert ScanRun.objects.filter(name="commitment_missed").exists()
    assert not ScanRun.objects.filter(name="broken").exists()  # it catches up on the next run
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_the_command_names_every_failed_scan_once_it_has_run_them_all(missed_pricing_promise, monkeypatch):
    register_first(monkeypatch, "broken", broken_scan(DataError("invalid input syntax")))
    monkeypatch.setitem(scans.SCAN_REGISTRY, "also_broken", broken_scan(ValueError("bad row")))

    with pytest.raises(CommandError) as failure:
        call_command("run_scans", no_email=True)

    assert "broken, also_broken" in str(failure.value)
    assert Alert.objects.filter(kind="commitment_missed").count() == 1
    assert mail.outbox == []


def test_the_failure_report_is_in_the_operators_language(missed_pricing_promise, monkeypatch, capsys):
    register_first(monkeypatch, "broken", broken_scan(DataError("value too long")))

    with translation.override("zh-hans"), pytest.raises(CommandError, match=r"以下扫描失败.*broken"):
        call_command("run_scans", no_email=True)

    captured = capsys.readouterr()
    assert "失败：DataError" in captured.out
    assert "扫描 broken 失败：DataError" in captured.err


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_lost_database_connection_still_aborts_the_run(missed_pricing_promise, monkeypatch, error):
    register_first(monkeypatch, "broken", broken_scan(error))

    with pytest.raises(type(error)):
        call_command("run_scans")

    assert not Alert.objects.exists()
    assert mail.outbox == []
