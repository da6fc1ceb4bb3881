"""`manage.py run_scans`: every registered scan once, synchronously, then the alert e-mails.

The same functions the Celery tasks call; useful on a machine without a worker and to see
what each rule finds. Like `scans.run_all`, a scan that fails on its own data is reported (on its
row and on stderr) and the others still run, and so do the e-mails; the command then fails,
naming the failed scans, so a script notices. A lost database connection aborts the run.
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _

from finance_projects import notifications, scans

logger = logging.getLogger(__name__)


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
        failed = []
        for name in names or list(scans.SCAN_REGISTRY):
            started = time.perf_counter()
            try:
                result = scans.run_scan(name, at=at)
            except (OperationalError, InterfaceError):
                raise  # the database is away: the other scans would fail too
            except Exception as error:  # its own data: report it, run the others (as run_all does)
                logger.exception("Scan %s failed; the other scans ran", name)  # the traceback
                failed.append(name)
                kind = type(error).__name__
                self.stdout.write(f"{name:<32} " + _("failed: %(error)s") % {"error": kind})
                self.stderr.write(_("Scan %(name)s failed: %(error)s") % {"name": name, "error": kind})
                continue
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
        if failed:
            raise CommandError(
                _("These scans failed, the others ran: %(names)s") % {"names": ", ".join(failed)}
            )
