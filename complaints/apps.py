from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_beat(sender, **kwargs):
    from finance_projects.periodic import ensure_interval_task

    ensure_interval_task(
        name="complaints: SLA scans and escalation",
        task="complaints.run_sla_scans",
        every_seconds=settings.SCAN_INTERVAL_SECONDS,
    )


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from feedback.services import RESPONSE_HOOKS
        from finance_projects.scans import OWN_BEAT_SCANS, SCAN_REGISTRY

        from .hooks import raise_complaint_from_survey
        from .scans import SCANS

        SCAN_REGISTRY.update(SCANS)
        OWN_BEAT_SCANS.update(SCANS)  # "complaints: SLA scans and escalation"
        if raise_complaint_from_survey not in RESPONSE_HOOKS:
            RESPONSE_HOOKS.append(raise_complaint_from_survey)
        post_migrate.connect(ensure_beat, sender=self, dispatch_uid="complaints.ensure_beat")
