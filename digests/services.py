"""Writes for the weekly digest: planning one run per recipient and week, sending it exactly
once (claim, send, record), and a user's digest preference."""

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .emails import digest_message
from .models import DigestPreference, DigestRun, DigestStatus
from .selectors import (
    DIGEST_ROLES,
    build_digest,
    claimable,
    digest_language,
    digest_recipients,
    is_digest_recipient,
)
from .weeks import IsoWeek, due_week, zone

logger = logging.getLogger(__name__)
ERROR_LENGTH = 2000


def _insert_runs(*, week: IsoWeek, recipients, now: datetime) -> int:
    """One INSERT ... SELECT: a pending run for every recipient in `recipients` that has none for
    `week` yet. The unique (recipient, iso_year, iso_week) constraint makes it idempotent and
    safe when two beats plan at once."""
    recipient_ids = recipients.order_by().annotate(recipient_id=F("pk")).values("recipient_id")
    select_sql, select_params = recipient_ids.query.sql_with_params()
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(DigestRun._meta.db_table)} "
        "(recipient_id, iso_year, iso_week, status, language, created_at, attempts, error, subject) "
        f"SELECT recipients.recipient_id, %s, %s, %s, '', %s, 0, '', '' FROM ({select_sql}) recipients "
        # SQLite needs a WHERE before ON CONFLICT to parse an INSERT ... SELECT upsert.
        "WHERE 1 = 1 "
        "ON CONFLICT (recipient_id, iso_year, iso_week) DO NOTHING"
    )
    params = [
        week.year,
        week.week,
        DigestStatus.PENDING.value,
        connection.ops.adapt_datetimefield_value(now),
        *select_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def digest_runs_plan(
    *, now: datetime | None = None, week: IsoWeek | None = None, recipient_ids: list[int] | None = None
) -> list[IsoWeek]:
    """Create the pending runs that are due and return the weeks they are for.

    Without `week`, each recipient's due week comes from their own time zone (the last week,
    once Monday 08:00 has passed there), so every zone gets its digest at its own 08:00 and a
    missed beat catches up. With `week`, every recipient gets a run for that week. One query for
    the zones plus one INSERT per distinct due week (rarely more than two)."""
    now = now or timezone.now()
    recipients = digest_recipients()
    if recipient_ids is not None:
        recipients = recipients.filter(pk__in=recipient_ids)
    if week is not None:
        _insert_runs(week=week, recipients=recipients, now=now)
        return [week]
    zones_by_week: dict[IsoWeek, list[str]] = defaultdict(list)
    for name in recipients.order_by().values_list("time_zone", flat=True).distinct():
        zones_by_week[due_week(now, zone(name))].append(name)
    for due, names in sorted(zones_by_week.items()):
        _insert_runs(week=due, recipients=recipients.filter(time_zone__in=names), now=now)
    return sorted(zones_by_week)


def digest_run_claim(*, run_id: int, at: datetime, take_over: bool = False) -> bool:
    """Compare-and-set: take the run if nobody holds a live claim on it and it is not sent.
    With `take_over`, a `sending` claim is taken even inside its lease (its holder died)."""
    takeable = claimable(at) | Q(status=DigestStatus.SENDING) if take_over else claimable(at)
    updated = DigestRun.objects.filter(takeable, pk=run_id).update(
        status=DigestStatus.SENDING, claimed_at=at, attempts=F("attempts") + 1
    )
    return updated == 1


def _record(*, run_id: int, claimed_at: datetime, **fields) -> bool:
    """Record the outcome, but only while the claim is still ours."""
    mine = DigestRun.objects.filter(pk=run_id, status=DigestStatus.SENDING, claimed_at=claimed_at)
    return mine.update(**fields) == 1


def digest_send(*, run_id: int, take_over: bool = False) -> str | None:
    """Claim the run, build and send the email, record the outcome; returns the new status, or
    None when another worker holds the run or it is already done.

    A failure is recorded on the run (`failed`, the error) and retried by a later plan; a worker
    that dies mid-send leaves a `sending` claim that may be taken over once its lease expires, or
    at once by the redelivery of its own task (`take_over`)."""
    claimed_at = timezone.now()
    if not digest_run_claim(run_id=run_id, at=claimed_at, take_over=take_over):
        return None
    run = DigestRun.objects.select_related("recipient__digest_preference").get(pk=run_id)
    recipient = run.recipient
    if not is_digest_recipient(recipient):
        _record(run_id=run_id, claimed_at=claimed_at, status=DigestStatus.SKIPPED, error="")
        return DigestStatus.SKIPPED
    language = digest_language(recipient)
    try:
        digest = build_digest(recipient=recipient, week=IsoWeek(run.iso_year, run.iso_week), now=claimed_at)
        message = digest_message(digest)
        message.send()
    except Exception as exc:
        logger.exception("Digest %s for user %s failed", run.week_label, recipient.pk)
        _record(
            run_id=run_id,
            claimed_at=claimed_at,
            status=DigestStatus.FAILED,
            language=language,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH],
        )
        return DigestStatus.FAILED
    recorded = _record(
        run_id=run_id,
        claimed_at=claimed_at,
        status=DigestStatus.SENT,
        sent_at=timezone.now(),
        language=language,
        subject=message.subject[:255],
        error="",
    )
    if not recorded:
        logger.warning("Digest %s for user %s was sent after its claim expired", run.week_label, recipient.pk)
    return DigestStatus.SENT


def digest_preference_validate(*, user: User, enabled: bool, language: str = "") -> None:
    if enabled and user.role not in DIGEST_ROLES:
        raise ValidationError(
            {"enabled": _("Weekly digests are sent to managers and relationship managers only.")}
        )
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the offered languages.")})


@transaction.atomic
def digest_preference_set(*, user: User, enabled: bool, language: str = "") -> DigestPreference:
    """Switch the weekly digest on or off and choose its language ("" follows the profile)."""
    digest_preference_validate(user=user, enabled=enabled, language=language)
    preference, _created = DigestPreference.objects.update_or_create(
        user=user, defaults={"enabled": enabled, "language": language}
    )
    return preference


@transaction.atomic
def digest_unsubscribe(*, user: User) -> DigestPreference:
    """One-click unsubscribe from an email: off, keeping the chosen language."""
    preference, created = DigestPreference.objects.get_or_create(user=user, defaults={"enabled": False})
    if not created and preference.enabled:
        preference.enabled = False
        preference.save(update_fields=["enabled", "updated_at"])
    return preference
