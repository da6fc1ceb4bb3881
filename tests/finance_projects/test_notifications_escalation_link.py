"""The escalation e-mail leads the team manager to the escalated alerts on the team page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from finance_projects import notifications
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def test_the_escalation_email_links_to_the_team_pages_escalated_alerts_not_the_site_root(
    project, manager, settings
):
    settings.SITE_URL = "https://cem.bank.example"
    AlertFactory(project=project, severity="critical", critical_since=NOW - timedelta(hours=25))

    assert notifications.escalate_unacknowledged_alerts(at=NOW) == 1

    link = f"https://cem.bank.example{reverse('dashboard:team')}?alerts=escalated#alerts"
    assert link.startswith("https://cem.bank.example/team/?")
    message = mail.outbox[0]
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert "https://cem.bank.example/\n" not in message.body
    assert 'href="https://cem.bank.example/"' not in message.alternatives[0][0]


def test_the_escalation_link_is_in_chinese_for_a_chinese_manager(project, manager, settings):
    settings.SITE_URL = "https://cem.bank.example"
    manager.language = "zh-hans"
    manager.save(update_fields=["language"])
    AlertFactory(project=project, severity="critical", critical_since=NOW - timedelta(hours=25))

    notifications.escalate_unacknowledged_alerts(at=NOW)

    assert "在团队工作台查看已升级的预警: https://cem.bank.example/team/?alerts=escalated#alerts" in (
        mail.outbox[0].body
    )
