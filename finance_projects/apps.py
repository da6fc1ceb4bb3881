from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceProjectsConfig(AppConfig):
    name = "finance_projects"
    verbose_name = _("Financing projects")
