"""Raising, resolving and handling one alert."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from finance_projects import alerts
from finance_projects.models import Alert
from tests.factories import AlertFactory
from tests.finance_projects.alert_engine import sync_project_alert

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def raise_detractor(project, *, severity="warning", at=NOW, message="NPS 3"):
    return alerts.alert_raise(
        kind="detractor_response",
        severity=severity,
        project=project,
        subject_type="survey_response",
        subject_id=41,
        message=message,
        at=at,
    )


def test_raising_an_alert_assigns_it_to_the_projects_relationship_manager(project):
    alert = raise_detractor(project)

    assert (alert.kind, alert.subject, alert.opened_at, alert.assignee) == (
        "detractor_response",
        {"type": "survey_response", "id": 41},
        NOW,
        project.relationship_manager,
    )


def test_raising_the_same_alert_again_refreshes_it_instead_of_duplicating(project):
    first = raise_detractor(project, severity="warning")
    later = NOW + timedelta(hours=1)

    again = raise_detractor(project, severity="critical", at=later, message="NPS 1")

    assert again.pk == first.pk
    assert Alert.objects.count() == 1
    again.refresh_from_db()
    assert (again.severity, again.last_seen_at, again.opened_at, again.message) == (
        "critical",
        later,
        NOW,
        "NPS 3",
    )


def test_raising_again_never_lowers_the_severity(project):
    raise_detractor(project, severity="critical")

    alert = raise_detractor(project, severity="info")

    assert alert.severity == "critical"


def test_a_raise_racing_another_worker_returns_the_alert_the_other_worker_made(project, monkeypatch):
    theirs = AlertFactory(
        project=project, kind="detractor_response", subject_type="survey_response", subject_id=41
    )
    # Our read happened before their insert committed: it saw nothing.
    monkeypatch.setattr(alerts, "_open_alert", _first_miss_then_real(alerts._open_alert))

    mine = raise_detractor(project, severity="critical")

    assert mine.pk == theirs.pk
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1
    assert Alert.objects.get().severity == "critical"


def _first_miss_then_real(real):
    calls = []

    def open_alert(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    return open_alert


def test_an_unknown_severity_is_refused(project):
    with pytest.raises(ValidationError) as error:
        raise_detractor(project, severity="urgent")

    assert "severity" in error.value.message_dict
    assert not Alert.objects.exists()


def test_resolving_closes_the_open_alert_and_a_new_raise_opens_a_fresh_one(project):
    first = raise_detractor(project)

    assert (
        alerts.alerts_resolve(
            kind="detractor_response", subject_type="survey_response", subject_id=41, at=NOW
        )
        == 1
    )
    assert (
        alerts.alerts_resolve(kind="detractor_response", subject_type="survey_response", subject_id=41) == 0
    )
    second = raise_detractor(project, at=NOW + timedelta(days=1))

    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.resolved_at == NOW


def test_acknowledging_records_who_and_when_once(project, owner, teammate):
    alert = AlertFactory(project=project)

    alerts.alert_acknowledge(alert=alert, by=owner, at=NOW)
    alerts.alert_acknowledge(alert=alert, by=teammate, at=NOW + timedelta(hours=1))

    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by) == (NOW, owner)


def test_a_resolved_alert_cannot_be_acknowledged(project, owner):
    alert = AlertFactory(project=project, resolved_at=NOW)

    with pytest.raises(ValidationError) as error:
        alerts.alert_acknowledge(alert=alert, by=owner)

    assert "alert" in error.value.message_dict


def test_snoozing_needs_a_moment_in_the_future(project, owner):
    alert = AlertFactory(project=project)

    with pytest.raises(ValidationError) as error:
        alerts.alert_snooze(alert=alert, until=timezone.now() - timedelta(minutes=1), by=owner)
    assert "until" in error.value.message_dict

    until = timezone.now() + timedelta(days=2)
    alerts.alert_snooze(alert=alert, until=until, by=owner)
    alert.refresh_from_db()
    assert alert.snoozed_until == until


def test_an_alert_is_assigned_only_to_someone_who_sees_its_project(
    project, owner, teammate, manager, outsider
):
    alert = AlertFactory(project=project, assignee=owner)

    with pytest.raises(ValidationError) as error:
        alerts.alert_assign(alert=alert, assignee=outsider, by=owner)
    assert "assignee" in error.value.message_dict
    with pytest.raises(ValidationError):
        alerts.alert_assign(alert=alert, assignee=teammate, by=owner)  # not their client

    alerts.alert_assign(alert=alert, assignee=manager, by=owner)
    alert.refresh_from_db()
    assert alert.assignee == manager


def test_a_snooze_is_at_most_the_configured_days_ahead(project, owner, settings):
    settings.CEM = {**settings.CEM, "ALERT_MAX_SNOOZE_DAYS": 7}
    alert = AlertFactory(project=project)

    with pytest.raises(ValidationError) as error, translation.override("en"):
        alerts.alert_snooze(alert=alert, until=timezone.now() + timedelta(days=7, minutes=1), by=owner)
    assert error.value.message_dict == {"until": ["Snooze for 7 days at most."]}
    alert.refresh_from_db()
    assert alert.snoozed_until is None

    alerts.alert_snooze(alert=alert, until=timezone.now() + timedelta(days=6), by=owner)


def handling(alert):
    """The alert's severity and what people did about it, as stored."""
    alert.refresh_from_db()
    return (alert.severity, alert.acknowledged_at, alert.acknowledged_by, alert.snoozed_until)


def test_raising_an_acknowledged_warning_to_critical_hands_it_back_to_be_handled(project, owner):
    warning = raise_detractor(project, severity="warning")
    alerts.alert_acknowledge(alert=warning, by=owner)
    alerts.alert_snooze(alert=warning, until=timezone.now() + timedelta(days=1), by=owner)

    raised = raise_detractor(project, severity="critical", at=NOW + timedelta(hours=1))

    assert handling(raised) == ("critical", None, None, None)


def test_raising_an_acknowledged_critical_alert_again_keeps_its_acknowledgement(project, owner):
    alert = raise_detractor(project, severity="critical")
    alerts.alert_acknowledge(alert=alert, by=owner)

    raise_detractor(project, severity="critical", at=NOW + timedelta(hours=1))

    alert.refresh_from_db()
    assert alert.acknowledged_by == owner


def test_a_scan_turning_an_acknowledged_warning_critical_clears_the_acknowledgement_and_snooze(
    project, owner
):
    sync_project_alert(project, "warning", NOW)
    alert = Alert.objects.get(kind="stage_overrun")
    alerts.alert_acknowledge(alert=alert, by=owner)
    alerts.alert_snooze(alert=alert, until=timezone.now() + timedelta(days=1), by=owner)

    sync_project_alert(project, "critical", NOW + timedelta(minutes=5))

    assert handling(alert) == ("critical", None, None, None)


def test_a_scan_keeping_an_acknowledged_critical_alert_keeps_the_acknowledgement(project, owner):
    sync_project_alert(project, "critical", NOW)
    alert = Alert.objects.get(kind="stage_overrun")
    alerts.alert_acknowledge(alert=alert, by=owner)
    project.code = "RENAMED-1"
    project.save()

    sync_project_alert(project, "critical", NOW + timedelta(minutes=5))

    alert.refresh_from_db()
    assert (alert.message, alert.acknowledged_by) == ("RENAMED-1", owner)
