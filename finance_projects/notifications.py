"""Alert e-mails, delivered through the outbox on the alert row itself.

The scans only write alerts. Delivery runs after them and claims what it is about to send with
a compare-and-set UPDATE (`notified_at` / `escalated_at` set WHERE still NULL, RETURNING the
ids), so two workers never send the same alert twice: the second claim finds nothing. Mail goes
out after the claim has committed; if one recipient's message cannot be sent, only that
recipient's claim is released (and retried on the next run), the others are unaffected. If the
run itself fails after the claim (the database blinks while the alerts are loaded or batched, a
release fails, the worker is stopped), the claim on every alert not yet sent is released before
the error propagates, so the task's retry sends them; what was sent stays claimed, never twice.

- `notify_critical_alerts`: new critical alerts, ONE message per recipient per run (the
  alert's assignee, else the project's relationship manager, whoever first can be e-mailed and
  still sees the project: someone moved to another team no longer hears about its clients).
- `escalate_unacknowledged_alerts`: critical alerts nobody acknowledged within
  CEM["ALERT_ESCALATION_HOURS"] of becoming critical (`critical_since`, not the alert's opening:
  an alert open for days as a warning that turns critical gives its owner the full window first),
  ONE message per team manager, once per alert. A snooze does not stop it, nor a failing e-mail to
  the owner.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Team, User

from .models import Alert, AlertSeverity, FinancingProject
from .selectors import portfolio_for

logger = logging.getLogger(__name__)

# How many alerts one message lists; the rest are counted and one link away.
LISTED_PER_MESSAGE = 25


def make_message(*, kind: str, recipient: User, context: dict) -> EmailMultiAlternatives:
    """An e-mail from `emails/<kind>-subject.txt`, `-body.txt` and `-body.html`, rendered in the
    recipient's language and time zone."""
    context = {**context, "recipient": recipient, "site_url": settings.SITE_URL}
    language = recipient.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(recipient.zone):
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{kind}-body.txt", context)
        html = render_to_string(f"emails/{kind}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient.email])
    message.attach_alternative(html, "text/html")
    return message


# The people an alert e-mail can reach.
_REACHABLE = f"SELECT u.id FROM {User._meta.db_table} AS u WHERE u.is_active AND u.email <> ''"


def _claim(column: str, where: str, params: list, at: datetime) -> list[int]:
    """Set `column` = at on the matching alerts still unclaimed; the ids this call claimed."""
    table = connection.ops.quote_name(Alert._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {column} IS NULL AND {where} RETURNING id",
            [connection.ops.adapt_datetimefield_value(at), *params],
        )
        return [row[0] for row in cursor.fetchall()]


def _release(column: str, ids: Iterable[int], at: datetime) -> None:
    """Undo this run's claim (`column` = at) on `ids`. The caller passes only ids it claimed and
    still holds: a claimed row cannot be claimed by anyone else until it is released."""
    Alert.objects.filter(pk__in=list(ids), **{column: at}).update(**{column: None})


def _deliver(
    *,
    kind: str,
    column: str,
    batches: dict[User, list[Alert]],
    at: datetime,
    settled: set[int],
    extra: dict | None = None,
) -> int:
    """Send one message per recipient; adds to `settled` the ids sent or released, which are no
    longer this run's to release."""
    sent = 0
    for recipient, alerts in batches.items():
        ids = [alert.pk for alert in alerts]
        context = {
            **(extra or {}),
            "alerts": alerts[:LISTED_PER_MESSAGE],
            "count": len(alerts),
            "more": max(0, len(alerts) - LISTED_PER_MESSAGE),
        }
        try:
            make_message(kind=kind, recipient=recipient, context=context).send()
        except Exception:  # one bad recipient must not stall the others
            logger.exception("Could not e-mail %s alerts to user %s; retrying next run", kind, recipient.pk)
            _release(column, ids, at)
        else:
            sent += 1
        settled.update(ids)
    return sent


def _send_claimed(
    *,
    kind: str,
    column: str,
    ids: list[int],
    at: datetime,
    recipients_of: Callable[[list[Alert]], list[User | None]],
    extra: dict | None = None,
) -> int:
    """Load, batch and e-mail the alerts this run claimed; `recipients_of` names each alert's
    recipient, None for one nobody can be told of now (its claim is released: it waits). Should
    anything fail before every message is out, the claim on the alerts neither sent nor already
    released is undone before the error propagates (a retry then sends them); the sent ones stay
    claimed."""
    settled: set[int] = set()
    try:
        batches: dict[User, list[Alert]] = defaultdict(list)
        alerts = _load(ids)
        waiting = []
        for alert, recipient in zip(alerts, recipients_of(alerts), strict=True):
            if recipient is None:
                waiting.append(alert.pk)
            else:
                batches[recipient].append(alert)
        if waiting:
            _release(column, waiting, at)
            settled.update(waiting)
        return _deliver(kind=kind, column=column, batches=batches, at=at, settled=settled, extra=extra)
    except BaseException:
        pending = [pk for pk in ids if pk not in settled]
        try:
            _release(column, pending, at)
        except Exception:  # the database is still away: report the first error, not this one
            logger.exception("Could not release the claim on %s alerts %s", kind, pending)
        raise


def _load(ids: list[int]) -> list[Alert]:
    return list(
        Alert.objects.filter(pk__in=ids)
        .select_related(
            "project__client", "project__relationship_manager", "project__team__manager", "assignee"
        )
        .order_by("project__code", "kind", "id")
    )


def notify_critical_alerts(*, at: datetime | None = None) -> int:
    """E-mail every new, unhandled critical alert to its owner; returns the messages sent."""
    at = at or timezone.now()
    # Unhandled: not acknowledged, and not snoozed past now (a snooze only delays the e-mail).
    condition = (
        "severity = %s AND resolved_at IS NULL AND acknowledged_at IS NULL "
        "AND (snoozed_until IS NULL OR snoozed_until <= %s)"
    )
    project = connection.ops.quote_name(FinancingProject._meta.db_table)
    # Only alerts that someone can be e-mailed about are claimed: one whose assignee and
    # relationship manager are both inactive or without an address waits, unclaimed, until it
    # is handed to someone who can be (or an address is fixed).
    rm = f"(SELECT p.relationship_manager_id FROM {project} AS p WHERE p.id = project_id)"
    reachable = f"(assignee_id IN ({_REACHABLE}) OR {rm} IN ({_REACHABLE}))"
    params = [AlertSeverity.CRITICAL.value, connection.ops.adapt_datetimefield_value(at)]
    ids = _claim("notified_at", f"{condition} AND {reachable}", params, at)
    return _send_claimed(kind="alerts-critical", column="notified_at", ids=ids, at=at, recipients_of=_owners)


def _can_be_emailed(user: User | None) -> bool:
    return user is not None and user.is_active and bool(user.email)


def _owners(alerts: list[Alert]) -> list[User | None]:
    """Whom each critical alert is e-mailed to: its assignee, else the project's relationship
    manager, whichever first can be e-mailed and still sees the project (`portfolio_for`, the
    rule the assignment was checked by); else nobody yet. One query per person asked about."""
    owners: list[User | None] = [None] * len(alerts)
    for candidate_of in (lambda alert: alert.assignee, lambda alert: alert.project.relationship_manager):
        asked: dict[User, set[int]] = defaultdict(set)
        for index, alert in enumerate(alerts):
            candidate = candidate_of(alert)
            if owners[index] is None and _can_be_emailed(candidate):
                asked[candidate].add(alert.project_id)
        seeing = {
            person: set(portfolio_for(person).filter(pk__in=project_ids).values_list("pk", flat=True))
            for person, project_ids in asked.items()
        }
        for index, alert in enumerate(alerts):
            candidate = candidate_of(alert)
            if owners[index] is None and alert.project_id in seeing.get(candidate, ()):
                owners[index] = candidate
    return owners


def escalate_unacknowledged_alerts(*, at: datetime | None = None) -> int:
    """E-mail each team manager, once per alert, the critical alerts of their team left
    unacknowledged CEM["ALERT_ESCALATION_HOURS"] after they became critical; returns the
    messages sent."""
    at = at or timezone.now()
    hours = settings.CEM.get("ALERT_ESCALATION_HOURS", 24)
    condition = "severity = %s AND resolved_at IS NULL AND acknowledged_at IS NULL"
    params = [AlertSeverity.CRITICAL.value]
    project = connection.ops.quote_name(FinancingProject._meta.db_table)
    team = connection.ops.quote_name(Team._meta.db_table)
    db = connection.ops.adapt_datetimefield_value
    ids = _claim(
        "escalated_at",
        f"{condition} AND critical_since <= %s AND project_id IN ("
        f"SELECT p.id FROM {project} AS p JOIN {team} AS t ON t.id = p.team_id "
        f"WHERE t.manager_id IN ({_REACHABLE}))",  # else it waits for a manager who can be told
        [*params, db(at - timedelta(hours=hours))],
        at,
    )
    return _send_claimed(
        kind="alerts-escalation",
        column="escalated_at",
        ids=ids,
        at=at,
        recipients_of=lambda alerts: [alert.project.team.manager for alert in alerts],
        # The team page's list of the escalated alerts, after the site's address (`site_url`).
        extra={"team_path": f"{reverse('dashboard:team')}?alerts=escalated#alerts"},
    )
