from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from finance_projects.scans import SCAN_REGISTRY

        from .scans import refresh_health

        SCAN_REGISTRY["refresh_health"] = refresh_health
