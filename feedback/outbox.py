"""Emailing invitations and reminders: the outbox side of surveys.

Services and scans only write invitation rows. These functions claim each row with a
compare-and-set UPDATE before sending, so a rerun or a second worker never emails twice; a
failure puts the row back for a later run and never stalls the others.
"""

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .conf import feedback_setting
from .models import Question, SurveyInvitation
from .services import invitation_issue_link, opt_out_url, survey_url

logger = logging.getLogger(__name__)


def bank_name() -> str:
    return feedback_setting("BANK_NAME") or _("Project Finance")


def make_message(*, kind: str, to: str, context: dict, language: str, headers: dict | None = None):
    """An email from `emails/<kind>-subject.txt`, `-body.txt` and `-body.html`, in `language`."""
    with translation.override(language):
        context = {**context, "bank": bank_name()}
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{kind}-body.txt", context)
        html = render_to_string(f"emails/{kind}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def _email_invitation(invitation: SurveyInvitation, *, kind: str, at: datetime) -> None:
    token = invitation_issue_link(invitation=invitation, at=at)
    contact = invitation.contact
    unsubscribe = opt_out_url(token)
    context = {
        "invitation": invitation,
        "contact": contact,
        "project": invitation.project,
        "rm": invitation.project.relationship_manager,
        "survey_name": invitation.survey.name(contact.language),
        "reason": invitation.reason_text(contact.language),
        "url": survey_url(token),
        "opt_out_url": unsubscribe,
        "expires_at": invitation.expires_at,
    }
    make_message(
        kind=kind,
        to=contact.email,
        context=context,
        language=contact.language,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    ).send()


def _sendable(at: datetime):
    """Invitations that may be e-mailed. One whose survey lost its questions after it was sent
    waits: its link would open no survey (see `views.survey_page`), and it goes out once the
    questions are back, if it has not expired by then."""
    return SurveyInvitation.objects.filter(
        Exists(Question.objects.filter(survey_id=OuterRef("survey_id"))),
        responded_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=at,
        contact__opted_out=False,
    )


def _reminder_after(sent_at: datetime, reminders_sent: int) -> datetime | None:
    days = feedback_setting("REMINDER_DAYS")[:2]
    return sent_at + timedelta(days=days[reminders_sent]) if reminders_sent < len(days) else None


def _next_reminder(sent_at: datetime, reminders_sent: int, *, at: datetime) -> datetime | None:
    """The next reminder, never sooner than a day after this one (a late run catches up gently)."""
    due = _reminder_after(sent_at, reminders_sent)
    return max(due, at + timedelta(days=1)) if due else None


def deliver_invitations(*, at: datetime | None = None) -> int:
    """Email every invitation not yet sent (a bounded batch); returns how many went out."""
    at = at or timezone.now()
    batch = list(
        _sendable(at)
        .filter(sent_at__isnull=True, send_attempts__lt=feedback_setting("MAX_SEND_ATTEMPTS"))
        .select_related("contact", "survey", "project__relationship_manager", "project__client")
        .order_by("created_at", "id")[: feedback_setting("DELIVERY_BATCH")]
    )
    sent = 0
    for invitation in batch:
        claimed = SurveyInvitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(
            sent_at=at, next_reminder_at=_reminder_after(at, 0), send_attempts=F("send_attempts") + 1
        )
        if not claimed:
            continue  # another worker took it
        invitation.sent_at = at
        try:
            _email_invitation(invitation, kind="survey_invitation", at=at)
        except Exception as exc:  # one bad address or SMTP hiccup must not stall the rest
            logger.warning("Survey invitation %s could not be emailed: %s", invitation.pk, type(exc).__name__)
            SurveyInvitation.objects.filter(pk=invitation.pk, sent_at=at).update(
                sent_at=None, next_reminder_at=None, last_error=f"{type(exc).__name__}: {exc}"[:300]
            )
            continue
        sent += 1
    return sent


def send_reminders(*, at: datetime | None = None) -> int:
    """At most two reminders per invitation, never after a response, an opt-out or expiry."""
    at = at or timezone.now()
    # A response leaves its reminder date in place (see SurveyInvitation.next_reminder_at):
    # cleared here once due, so answered invitations leave the reminder index.
    SurveyInvitation.objects.filter(next_reminder_at__lte=at, responded_at__isnull=False).update(
        next_reminder_at=None
    )
    due = list(
        _sendable(at)
        .filter(next_reminder_at__lte=at, sent_at__isnull=False, reminders_sent__lt=2)
        .select_related("contact", "survey", "project__relationship_manager", "project__client")
        .order_by("next_reminder_at", "id")[: feedback_setting("DELIVERY_BATCH")]
    )
    sent = 0
    for invitation in due:
        number = invitation.reminders_sent
        claimed = (
            SurveyInvitation.objects.filter(
                pk=invitation.pk, reminders_sent=number, responded_at__isnull=True
            )
            .filter(Q(next_reminder_at__lte=at))
            .update(
                reminders_sent=number + 1,
                last_reminder_at=at,
                next_reminder_at=_next_reminder(invitation.sent_at, number + 1, at=at),
            )
        )
        if not claimed:
            continue
        try:
            _email_invitation(invitation, kind="survey_reminder", at=at)
        except Exception as exc:
            logger.warning("Survey reminder %s could not be emailed: %s", invitation.pk, type(exc).__name__)
            SurveyInvitation.objects.filter(pk=invitation.pk, reminders_sent=number + 1).update(
                reminders_sent=number,
                last_reminder_at=invitation.last_reminder_at,  # this one never went out
                next_reminder_at=at + timedelta(hours=1),
                last_error=f"{type(exc).__name__}: {exc}"[:300],
            )
            continue
        sent += 1
    return sent
