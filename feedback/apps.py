from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _on_stage_change(transition) -> None:
    """Runs after the stage change committed: the milestone survey goes through Celery."""
    from .conf import feedback_setting
    from .tasks import send_milestone_surveys

    if transition.stage in feedback_setting("MILESTONE_STAGES"):
        send_milestone_surveys.delay(transition.pk)


def _ensure_beat_entries(sender, **kwargs) -> None:
    from finance_projects.periodic import ensure_crontab_task, ensure_interval_task

    ensure_interval_task(
        name="feedback: deliver survey invitations", task="feedback.deliver_invitations", every_seconds=300
    )
    ensure_interval_task(
        name="feedback: process survey responses left pending",
        task="feedback.process_pending_responses",
        every_seconds=300,
    )
    ensure_interval_task(
        name="feedback: send recovery surveys held by the frequency cap",
        task="feedback.send_held_recovery_surveys",
        every_seconds=900,
    )
    ensure_crontab_task(
        name="feedback: survey reminders",
        task="feedback.send_reminders",
        minute="0",
        hour="2",
        timezone="UTC",
    )
    ensure_crontab_task(
        name="feedback: relationship surveys",
        task="feedback.scan_relationship_surveys",
        minute="30",
        hour="1",
        timezone="UTC",
    )


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Client feedback")

    def ready(self):
        from finance_projects import scans as core_scans
        from finance_projects.services import STAGE_CHANGE_HOOKS

        from . import scans

        if _on_stage_change not in STAGE_CHANGE_HOOKS:
            STAGE_CHANGE_HOOKS.append(_on_stage_change)
        core_scans.SCAN_REGISTRY.setdefault("relationship_surveys", scans.scan_relationship_surveys)
        core_scans.OWN_BEAT_SCANS.add("relationship_surveys")  # daily, "feedback: relationship surveys"
        post_migrate.connect(_ensure_beat_entries, sender=self, dispatch_uid="feedback_beat_entries")
