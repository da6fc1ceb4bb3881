"""`manage.py run_scans`: every registered scan once, synchronously, then the alert e-mails.

The same functions the Celery tasks call; useful on a machine without a worker and to see
what each rule finds.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from finance_projects import notifications, scans


class Command(BaseCommand):
    help = _("Run every early-warning scan once, print what each found, then send the alert e-mails.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--scan", action="append", dest="names", help=_("Run only this scan (repeatable).")
        )
        parser.add_argument("--no-email", action="store_true", help=_("Do not send the alert e-mails."))

    def handle(self, *args, names=None, no_email=False, **options):
        unknown = sorted(set(names or []) - set(scans.SCAN_REGISTRY))
        if unknown:
            raise CommandError(_("Unknown scan: %(names)s") % {"names": ", ".join(unknown)})
        at = timezone.now()
        header = (_("scan"), _("opened"), _("kept"), _("resolved"), _("seconds"))
        self.stdout.write("{:<32} {:>7} {:>7} {:>9} {:>8}".format(*header))
        for name in names or list(scans.SCAN_REGISTRY):
            started = time.perf_counter()
            result = scans.run_scan(name, at=at)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"{name:<32} {result.opened:>7} {result.kept:>7} {result.resolved:>9} {elapsed:>8.3f}"
            )
        if not no_email:
            notified = notifications.notify_critical_alerts(at=at)
            escalated = notifications.escalate_unacknowledged_alerts(at=at)
            self.stdout.write(
                _("E-mails sent: %(notified)d about critical alerts, %(escalated)d escalations.")
                % {"notified": notified, "escalated": escalated}
            )
