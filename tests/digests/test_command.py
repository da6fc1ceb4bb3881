from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from digests.models import DigestRun
from tests.factories import DigestPreferenceFactory, UserFactory

from .conftest import digests_in_outbox

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("send_digests", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_the_dry_run_lists_every_manager_and_sends_and_claims_nothing(week10, manager, other_manager, owner):
    out, err = run("--dry-run")
    lines = [line for line in out.splitlines() if "<" in line]
    assert [line.split()[0] for line in lines] == ["manager", "other_manager"]
    assert "manager <manager@bank.example> [en] 2025-W10" in out
    assert "Promises kept: 33.3%" in out and "Missed commitments: 2" in out
    assert "2 recipients; nothing sent (dry run)." in out
    assert "previewed 2/2" in err
    assert digests_in_outbox() == []
    assert not DigestRun.objects.exists()


def test_the_dry_run_shows_each_recipients_language_and_opted_in_relationship_managers(
    week10, manager, owner
):
    DigestPreferenceFactory(user=owner, enabled=True, language="zh-hans")
    out, _err = run("--dry-run", "--week", "2025-W09")
    assert "owner <owner@bank.example> [zh-hans] 2025-W09" in out
    assert "manager <manager@bank.example> [en] 2025-W09" in out


def test_a_real_run_reports_progress_and_the_outcome(week10, manager, other_manager):
    out, err = run()
    assert "2 sent, 0 failed, 0 skipped, 0 held by another worker (2025-W10;" in out
    assert "sent 2/2 (" in err and "/s)" in err
    assert len(digests_in_outbox()) == 2


def test_inactive_users_and_users_without_email_are_not_listed(week10, manager):
    UserFactory(username="gone", role=Role.MANAGER, is_active=False)
    UserFactory(username="nomail", role=Role.MANAGER, email="")
    out, _err = run("--dry-run")
    assert "gone" not in out and "nomail" not in out


def test_a_malformed_week_is_refused_with_the_expected_format(db):
    with pytest.raises(CommandError, match="2025-W09"):
        run("--week", "2025-13")
