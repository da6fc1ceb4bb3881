"""`manage.py seed_demo`: a realistic bilingual demo portfolio, safe to run again.

Each app contributes one step (its `demo` module); this command only runs them in order and
prints the demo logins.
"""

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import demo as complaints_demo
from dashboard.scans import refresh_health
from feedback import demo as feedback_demo
from finance_projects import demo as core_demo


def seed_health(stdout) -> None:
    """Every live project's health now, as the beat would store it a few minutes later: the API
    and the pages agree from the first minute."""
    stdout.write(f"  {'projects scored':<22} {refresh_health().kept:>6}")


STEPS = [
    (gettext_lazy("Core: teams, users, clients, projects, touchpoints, commitments"), core_demo.seed_core),
    (gettext_lazy("Complaints"), complaints_demo.seed_complaints),
    (gettext_lazy("Surveys: invitations and responses"), feedback_demo.seed_feedback),
    (gettext_lazy("Health scores"), seed_health),
]


class Command(BaseCommand):
    help = _("Create the demo portfolio (idempotent: running it again changes nothing).")

    def handle(self, *args, **options):
        started = time.monotonic()
        for title, step in STEPS:
            self.stdout.write(self.style.MIGRATE_HEADING(str(title)))
            step(self.stdout)
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(_("Demo logins (password: %s)") % core_demo.DEMO_PASSWORD)
        )
        self.stdout.write(f"  {_('username'):<16} {_('role'):<24} {_('team')}")
        for username, role, team in core_demo.demo_logins():
            self.stdout.write(f"  {username:<16} {role:<24} {team}")
        self.stdout.write(self.style.SUCCESS(_("Demo data ready in %.1f s.") % (time.monotonic() - started)))
