"""Celery wrappers; the work is in `scans` and `emails`."""

from celery import shared_task
from django.utils import timezone

from finance_projects import scans as core_scans
from finance_projects.tasks import RETRY, escalate_unacknowledged_alerts, notify_critical_alerts

from . import emails, scans

# A mail server that does not answer is tried again too (SMTP errors are OSErrors).
MAIL_RETRY = {**RETRY, "autoretry_for": (*RETRY["autoretry_for"], OSError)}


@shared_task(name="complaints.run_sla_scans", **RETRY)
def run_sla_scans() -> dict[str, list[int]]:
    """Every complaint rule once (through the core runner, which notes each run for the alerts'
    "last seen"), the escalation of what is overdue, then the alert e-mails, the client e-mails
    still unsent and the staff e-mails never queued (`scans.staff_notices_owed`)."""
    results = {name: list(result) for name, result in core_scans.run_all(names=list(scans.SCANS)).items()}
    notify_critical_alerts.delay()
    escalate_unacknowledged_alerts.delay()
    deliver_client_emails.delay()
    owed = scans.staff_notices_owed(timezone.now())
    for complaint_id in owed.client_complaints:
        notify_staff_of_client_complaint.delay(complaint_id)
    for complaint_id in owed.unassigned_complaints:
        notify_staff_of_unassigned_complaint.delay(complaint_id)
    for action_id in owed.recovery_actions:
        notify_owner_of_recovery_action.delay(action_id)
    return results


@shared_task(name="complaints.deliver_client_emails", **RETRY)
def deliver_client_emails() -> int:
    """The client e-mails the mail server did not take at the commit."""
    return emails.deliver_client_emails()


@shared_task(name="complaints.notify_staff_of_client_complaint", **MAIL_RETRY)
def notify_staff_of_client_complaint(complaint_id: int) -> int:
    """E-mail a complaint the client raised to its project's RM and team manager, once each."""
    return emails.notify_staff_of_client_complaint(complaint_id)


@shared_task(name="complaints.notify_owner_of_recovery_action", **MAIL_RETRY)
def notify_owner_of_recovery_action(action_id: int) -> int:
    """E-mail a recovery action to the owner someone else handed it to, once."""
    return emails.notify_owner_of_recovery_action(action_id)


@shared_task(name="complaints.notify_staff_of_unassigned_complaint", **MAIL_RETRY)
def notify_staff_of_unassigned_complaint(complaint_id: int) -> int:
    """E-mail a complaint staff recorded without a handler to its project's RM and team manager,
    except the one who recorded it, once each."""
    return emails.notify_staff_of_unassigned_complaint(complaint_id)
