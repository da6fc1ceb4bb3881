from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_beat(sender, **kwargs):
    """Create the beat entries once; afterwards they belong to the admin (see `periodic`)."""
    from .periodic import ensure_interval_task

    ensure_interval_task(
        name="finance_projects: early-warning scans and alert e-mails",
        task="finance_projects.run_all_scans",
        every_seconds=settings.SCAN_INTERVAL_SECONDS,
    )


class FinanceProjectsConfig(AppConfig):
    name = "finance_projects"
    verbose_name = _("Financing projects")

    def ready(self):
        from . import scans  # noqa: F401  (fills SCAN_REGISTRY with the core scans)

        post_migrate.connect(ensure_beat, sender=self, dispatch_uid="finance_projects.ensure_beat")
