from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

PLAN_TASK = "digests.plan_weekly_digests"


def ensure_beat_schedule(sender, **kwargs) -> None:
    """Every hour on the hour: each time zone's Monday 08:00 falls on one of these runs."""
    from finance_projects.periodic import ensure_crontab_task

    ensure_crontab_task(name="Weekly digests: plan and send", task=PLAN_TASK, minute="0", hour="*")


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = _("Weekly digests")

    def ready(self):
        from finance_projects.scans import SCAN_REGISTRY

        from .scans import snapshot_client_health

        SCAN_REGISTRY["client_health_snapshot"] = snapshot_client_health
        post_migrate.connect(ensure_beat_schedule, sender=self, dispatch_uid="digests.beat_schedule")
