"""Thin Celery wrappers: the work lives in services, scans and the outbox."""

from celery import shared_task

from . import outbox, scans, services


@shared_task(name="feedback.deliver_invitations")
def deliver_invitations() -> int:
    return outbox.deliver_invitations()


@shared_task(name="feedback.send_reminders")
def send_reminders() -> int:
    return outbox.send_reminders()


@shared_task(name="feedback.scan_relationship_surveys")
def scan_relationship_surveys() -> int:
    created = scans.scan_relationship_surveys()
    if created:
        deliver_invitations.delay()
    return created


@shared_task(name="feedback.send_held_recovery_surveys")
def send_held_recovery_surveys() -> int:
    return services.recovery_surveys_send_held()


@shared_task(name="feedback.send_milestone_surveys")
def send_milestone_surveys(transition_id: int) -> int:
    from finance_projects.models import StageTransition

    transition = StageTransition.objects.select_related("project").filter(pk=transition_id).first()
    if transition is None:
        return 0
    return sum(1 for result in services.survey_send_milestone(transition=transition) if result.invitation)


# No longer sent (submissions are drained in batches); kept registered for one release so
# that messages queued before an upgrade are still processed.
@shared_task(name="feedback.process_response")
def process_response(response_id: int) -> bool:
    return services.response_process(response_id=response_id) is not None


@shared_task(name="feedback.process_pending_responses")
def process_pending_responses() -> int:
    return services.responses_process_pending()
