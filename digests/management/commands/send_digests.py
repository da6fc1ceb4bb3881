"""Send the weekly digests that are due now (or every recipient's digest for `--week`), the
same code the Celery tasks run; `--dry-run` lists who would get what without sending or claiming."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from digests.models import DigestStatus
from digests.selectors import (
    HEADLINE_KEYS,
    build_digest,
    claimable_run_ids,
    digest_language,
    digest_recipients,
    digest_zone,
    recipient_locale,
)
from digests.services import digest_runs_plan, digest_send
from digests.weeks import due_week, parse_week


class Command(BaseCommand):
    help = "Send the weekly digests that are due (or those of --week); --dry-run only lists them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List recipients and figures; send nothing."
        )
        parser.add_argument("--week", help="An ISO week like 2025-W09 instead of each recipient's due week.")

    def handle(self, *args, dry_run: bool = False, week: str | None = None, **options):
        try:
            week = parse_week(week) if week else None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if dry_run:
            self._dry_run(week)
        else:
            self._send(week)

    def _progress(self, done: int, total: int, started: float, label: str) -> None:
        step = max(1, total // 20)
        if done == total or done % step == 0:
            elapsed = max(time.monotonic() - started, 1e-9)
            self.stderr.write(f"{label} {done}/{total} ({done / elapsed:.1f}/s)")

    def _dry_run(self, week) -> None:
        now = timezone.now()
        recipients = list(digest_recipients())
        started = time.monotonic()
        for done, recipient in enumerate(recipients, start=1):
            target = week or due_week(now, digest_zone(recipient))
            digest = build_digest(recipient=recipient, week=target, now=now)
            rows = digest.by_key
            with recipient_locale(recipient):  # the figures as the recipient will read them
                figures = " · ".join(
                    f"{rows[key].spec.label}: {rows[key].current_display}" for key in HEADLINE_KEYS
                )
            self.stdout.write(
                f"{recipient.username} <{recipient.email}> [{digest_language(recipient)}] {target}  {figures}"
            )
            self._progress(done, len(recipients), started, "previewed")
        self.stdout.write(self.style.SUCCESS(f"{len(recipients)} recipients; nothing sent (dry run)."))

    def _send(self, week) -> None:
        now = timezone.now()
        weeks = digest_runs_plan(now=now, week=week)
        run_ids = claimable_run_ids(weeks=weeks, now=now)
        outcomes = dict.fromkeys([*DigestStatus.values, "held"], 0)
        started = time.monotonic()
        for done, run_id in enumerate(run_ids, start=1):
            outcomes[digest_send(run_id=run_id) or "held"] += 1
            self._progress(done, len(run_ids), started, "sent")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{outcomes[DigestStatus.SENT]} sent, {outcomes[DigestStatus.FAILED]} failed, "
                f"{outcomes[DigestStatus.SKIPPED]} skipped, {outcomes['held']} held by another worker "
                f"({', '.join(map(str, weeks)) or '-'}; {elapsed:.1f}s)."
            )
        )
