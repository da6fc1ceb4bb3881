"""Emails about complaints, each from three templates (`emails/<kind>-subject.txt`,
`-body.txt`, `-body.html`), rendered in the recipient's language."""

import logging
from collections import Counter
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from feedback.outbox import bank_name
from finance_projects.selectors import portfolio_for
from finance_projects.tokens import hash_token, new_token

from .models import ClientEmail, Complaint, ComplaintEvent, ComplaintLink, EventKind, RecoveryAction, Status

logger = logging.getLogger(__name__)


def make_message(*, kind: str, to: str, language: str, context: dict) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        context.setdefault("bank", bank_name())  # the client e-mails' signature, in their language
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{kind}-body.txt", context)
        html = render_to_string(f"emails/{kind}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


# --- e-mails to the client, from the outbox ---------------------------------------------------


class IssuedLink(NamedTuple):
    pk: int
    url: str


def issue_client_link(complaint: Complaint) -> IssuedLink:
    """A fresh personal link for the client to follow their complaint; only its hash is stored."""
    token = new_token()
    days = max(settings.CEM.get("CLIENT_LINK_DAYS", 30), complaint.sla_policy.max_days + 30)
    link = ComplaintLink.objects.create(
        complaint=complaint, token_hash=hash_token(token), expires_at=timezone.now() + timedelta(days=days)
    )
    return IssuedLink(link.pk, f"{settings.SITE_URL}/c/{token}/")


def _claimable(at):
    stale = at - timedelta(seconds=ClientEmail.CLAIM_SECONDS)
    return ClientEmail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale), sent_at__isnull=True
    )


def deliver_client_email(email_id: int, *, at=None) -> bool:
    """Send one stored client e-mail unless it is sent (or being sent) already; True when this
    call sent it.

    Claimed with a compare-and-set UPDATE first, so the commit's own attempt, the beat and a
    second worker never send it at once; it is marked sent only once the mail server took it,
    and a claim left by a process that died mid-send lapses after `ClientEmail.CLAIM_SECONDS`.
    It goes to the contact's address as it is now (one corrected since is used), with a fresh
    personal link where the text has one. A failure puts it back, counts the attempt, keeps the
    error and is logged, never raised: the change it tells of is committed and must not turn
    into an error."""
    stamp = timezone.now()  # the claim's own moment: the updates below hold only while it does
    if not _claimable(at or stamp).filter(pk=email_id).update(claimed_at=stamp):
        return False
    mine = ClientEmail.objects.filter(pk=email_id, claimed_at=stamp, sent_at__isnull=True)
    email = ClientEmail.objects.select_related("complaint__contact", "complaint__sla_policy").get(pk=email_id)
    complaint = email.complaint
    to = complaint.contact.email or email.to
    link = None
    try:
        body, html = email.body, email.html
        if ClientEmail.LINK_PLACEHOLDER in body + html:
            link = issue_client_link(complaint)
            body, html = (text.replace(ClientEmail.LINK_PLACEHOLDER, link.url) for text in (body, html))
        message = EmailMultiAlternatives(subject=email.subject, body=body, to=[to])
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception as error:
        if link is not None:  # never delivered: it opens nothing
            ComplaintLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        logger.exception("Could not e-mail the client of complaint %s; tried again later", complaint.pk)
        mine.update(claimed_at=None, attempts=F("attempts") + 1, last_error=type(error).__name__)
        return False
    mine.update(sent_at=timezone.now(), claimed_at=None, to=to, last_error="")
    return True


# At most this many e-mails per run of the beat, so a run ends well within its interval even
# when every send waits for EMAIL_TIMEOUT.
DELIVERY_BATCH = 20


def deliver_client_emails(*, at=None) -> int:
    """Send the client e-mails left unsent (a mail server that did not answer at the commit),
    those tried least first, at most DELIVERY_BATCH; returns how many were sent. The first
    failure ends the run: the mail server is likely still away, and the next beat tries again.
    Those refused `ClientEmail.MAX_ATTEMPTS` times stay unsent."""
    at = at or timezone.now()
    waiting = (
        _claimable(at).filter(attempts__lt=ClientEmail.MAX_ATTEMPTS).order_by("attempts", "created_at", "pk")
    )
    return _deliver_until_failure(list(waiting.values_list("pk", flat=True)[:DELIVERY_BATCH]), at=at)


def _deliver_until_failure(email_ids: list[int], *, at) -> int:
    sent = 0
    for email_id in email_ids:
        if deliver_client_email(email_id, at=at):
            sent += 1
        elif ClientEmail.objects.filter(pk=email_id, sent_at__isnull=True, claimed_at__isnull=True).exists():
            break  # it failed (not merely taken by another worker)
    return sent


def client_emails_try_again(email_ids: list[int]) -> int:
    """Make those of `email_ids` still unsent, given up or not, the first the next delivery
    run sends (an administrator's retry after a long mail outage): their failed attempts count
    from zero. Returns how many."""
    return ClientEmail.objects.filter(pk__in=email_ids, sent_at__isnull=True).update(attempts=0)


def make_staff_message(*, kind: str, recipient: User, context: dict) -> EmailMultiAlternatives:
    """An e-mail to a member of staff, in their language and their time zone."""
    context = {**context, "recipient": recipient, "zone": recipient.zone.key}
    with timezone.override(recipient.zone):
        return make_message(kind=kind, to=recipient.email, language=recipient.language, context=context)


# --- a complaint the client raised, told to the staff --------------------------------------

CLIENT_COMPLAINT_KIND = "complaint-client-raised"
# The timeline notes that claim (and release) the notice's recipients carry this in `data["notice"]`:
# the notice of a new complaint nobody handles yet, whether the client raised it or staff recorded it.
CLIENT_COMPLAINT_NOTICE = "client-complaint"


def client_complaint_recipients(complaint: Complaint) -> list[User]:
    """Who must act on a complaint the client raised: the project's relationship manager and its
    team's manager, each once, when they are active, have an address and see the project (the
    e-mail links to the complaint, which they could not open otherwise)."""
    project = complaint.project
    people: list[User] = []
    for user in (project.relationship_manager, project.team.manager):
        if user is None or user in people or not user.is_active or not user.email:
            continue
        if portfolio_for(user).filter(pk=project.pk).exists():
            people.append(user)
    return people


def _notice_held(complaint: Complaint, notice: str = CLIENT_COMPLAINT_NOTICE, **about) -> set[int]:
    """The users the notice is claimed for and not released: told already, or being told.
    `about` narrows it to the notes whose data carry those values (`action_id=7`)."""
    held: Counter[int] = Counter()
    notes = ComplaintEvent.objects.filter(complaint=complaint, kind=EventKind.NOTE).values_list(
        "data", flat=True
    )
    for data in notes:
        data = data or {}
        if data.get("notice") == notice and all(data.get(key) == value for key, value in about.items()):
            held.update(data.get("claimed", []))
            held.subtract(data.get("released", []))
    return {pk for pk, count in held.items() if count > 0}


def _notice_note(
    complaint: Complaint, *, summary: str, notice: str = CLIENT_COMPLAINT_NOTICE, **data
) -> None:
    ComplaintEvent.objects.create(
        complaint=complaint,
        kind=EventKind.NOTE,
        summary=summary,
        data={"notice": notice, **data},
    )


def _names(users: list[User]) -> str:
    return ", ".join(str(user) for user in users)


def _release(
    complaint: Complaint, users: list[User], *, notice: str = CLIENT_COMPLAINT_NOTICE, **about
) -> None:
    try:
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("The e-mail to %(names)s could not be sent; it will be tried again.") % {
                "names": _names(users)
            }
        _notice_note(complaint, summary=summary, notice=notice, released=[user.pk for user in users], **about)
    except Exception:  # the database is away too: report the sending error, not this one
        logger.exception("Could not release the notice of complaint %s to users %s", complaint.pk, users)


def notify_staff_of_client_complaint(complaint_id: int) -> int:
    """E-mail a complaint the client raised to the people who must act on it
    (`client_complaint_recipients`): nobody handles it yet, and the client has been told it
    reached them. Returns how many messages were sent.

    Each recipient is claimed before anything is sent: a note on the complaint's timeline naming
    them, written under the complaint's row lock, so a redelivered task or a second worker finds
    them claimed and sends nothing. A message that cannot be sent releases its recipient's claim
    (a second note) and the error propagates after the others are sent, so the task's retry sends
    it; what was sent stays claimed."""
    return _notify_staff_of_new_complaint(complaint_id, recorded_by_staff=False)


# --- a complaint staff recorded without a handler, told to the staff ------------------------

STAFF_COMPLAINT_KIND = "complaint-staff-recorded"


def _opened_from_survey_response(complaint: Complaint) -> bool:
    from .services import SURVEY_RESPONSE_SOURCE  # the services send e-mails through this module

    return (complaint.source_key or "").startswith(SURVEY_RESPONSE_SOURCE)


def notify_staff_of_unassigned_complaint(complaint_id: int) -> int:
    """E-mail a complaint a member of staff recorded without naming a handler (opened from a
    survey response, the "new complaint" form, the API) to the people who must act on it: the
    project's relationship manager and the team's manager (`client_complaint_recipients`), except
    the one who recorded it. The client has been told a handler acknowledges it by its deadline,
    and the project's RM may not handle it unless a manager allows it. Nothing once it has a
    handler or is no longer new. Returns how many messages were sent.

    Claimed and released as `notify_staff_of_client_complaint`, with the same notes: each person
    is told of a new complaint once."""
    return _notify_staff_of_new_complaint(complaint_id, recorded_by_staff=True)


def _notify_staff_of_new_complaint(complaint_id: int, *, recorded_by_staff: bool) -> int:
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().filter(pk=complaint_id).values_list("pk", flat=True)
        if not list(locked):
            return 0
        complaint = Complaint.objects.select_related(
            "project__client",
            "project__relationship_manager",
            "project__team__manager",
            "contact",
            "created_by",
        ).get(pk=complaint_id)
        recorded_by = complaint.created_by if recorded_by_staff else None
        if recorded_by_staff and (
            recorded_by is None or complaint.owner_id is not None or complaint.status != Status.NEW
        ):
            return 0
        from_survey = recorded_by_staff and _opened_from_survey_response(complaint)
        held = _notice_held(complaint)
        recipients = [
            user
            for user in client_complaint_recipients(complaint)
            if user.pk not in held and (recorded_by is None or user.pk != recorded_by.pk)
        ]
        if not recipients:
            noted = ComplaintEvent.objects.filter(
                complaint=complaint, kind=EventKind.NOTE, data__notice=CLIENT_COMPLAINT_NOTICE
            )
            if not noted.exists():  # a note all the same, so the SLA beat does not ask again and again
                with translation.override(settings.LANGUAGE_CODE):
                    summary = _("Nobody else who handles this project could be e-mailed about the complaint.")
                _notice_note(complaint, summary=summary, claimed=[])
            return 0
        # The timeline is read by staff in any language; the site's language is its default.
        with translation.override(settings.LANGUAGE_CODE):
            names = {"names": _names(recipients), "by": str(recorded_by)}
            if from_survey:
                summary = _(
                    "The complaint opened from a survey response by %(by)s was e-mailed to %(names)s."
                )
            elif recorded_by_staff:
                summary = _("The complaint recorded by %(by)s was e-mailed to %(names)s.")
            else:
                summary = _("The complaint raised by the client was e-mailed to %(names)s.")
            summary %= names
        _notice_note(complaint, summary=summary, claimed=[user.pk for user in recipients])
    link = settings.SITE_URL + reverse("complaints:detail", args=[complaint.pk])
    project = complaint.project
    sent: list[int] = []
    failure: Exception | None = None
    try:
        for recipient in recipients:
            context = {
                "complaint": complaint,
                "project": project,
                "client": project.client,
                "contact": complaint.contact,
                "link": link,
                "is_relationship_manager": recipient.pk == project.relationship_manager_id,
                "is_team_manager": recipient.pk == project.team.manager_id,
                "recorded_by": recorded_by,
                "recorded_by_relationship_manager": recorded_by is not None
                and recorded_by.pk == project.relationship_manager_id,
                "from_survey": from_survey,
            }
            kind = STAFF_COMPLAINT_KIND if recorded_by_staff else CLIENT_COMPLAINT_KIND
            try:
                make_staff_message(kind=kind, recipient=recipient, context=context).send()
            except Exception as error:  # one bad address does not keep the other from being told
                logger.exception("Could not e-mail complaint %s to user %s", complaint.pk, recipient.pk)
                failure = failure or error
            else:
                sent.append(recipient.pk)
    finally:
        unsent = [user for user in recipients if user.pk not in sent]
        if unsent:
            _release(complaint, unsent)
    if failure is not None:
        raise failure
    return len(sent)


# --- a recovery action handed to someone, told to them ----------------------------------------

RECOVERY_ACTION_KIND = "recovery-action-assigned"
# The timeline notes that claim (and release) the e-mail to an action's owner carry this in
# `data["notice"]`, with the action's id in `data["action_id"]`.
RECOVERY_ACTION_NOTICE = "recovery-action"


def notify_owner_of_recovery_action(action_id: int) -> int:
    """E-mail a recovery action to its owner when someone else handed it to them: which
    complaint, which project, what to do, by when (in the owner's time zone), who asked, and the
    link to the complaint (holding the action opens it to them). Nothing for an action they added
    themselves, one already done, or an owner who is inactive or has no address. Returns how many
    messages were sent (0 or 1).

    Claimed and released as `notify_staff_of_client_complaint`: a timeline note written under the
    complaint's row lock names the owner before the message is sent, so a rerun, a redelivered
    task or a second worker sends nothing; a message that cannot be sent releases the claim and
    the error propagates, so the task's retry sends it."""
    with transaction.atomic():
        complaint_id = (
            RecoveryAction.objects.filter(pk=action_id).values_list("complaint_id", flat=True).first()
        )
        if complaint_id is None:
            return 0
        locked = Complaint.objects.select_for_update().filter(pk=complaint_id).values_list("pk", flat=True)
        if not list(locked):
            return 0
        action = RecoveryAction.objects.select_related("complaint__project", "owner", "created_by").get(
            pk=action_id
        )
        complaint, owner = action.complaint, action.owner
        if (
            action.done_at is not None
            or owner.pk == action.created_by_id
            or not owner.is_active
            or not owner.email
            or owner.pk in _notice_held(complaint, RECOVERY_ACTION_NOTICE, action_id=action.pk)
        ):
            return 0
        # The timeline is read by staff in any language; the site's language is its default.
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("The recovery action was e-mailed to its owner, %(name)s.") % {"name": owner}
        _notice_note(
            complaint, summary=summary, notice=RECOVERY_ACTION_NOTICE, claimed=[owner.pk], action_id=action.pk
        )
    context = {
        "action": action,
        "complaint": complaint,
        "project": complaint.project,
        "asked_by": action.created_by,
        "link": settings.SITE_URL + reverse("complaints:detail", args=[complaint.pk]),
    }
    try:
        make_staff_message(kind=RECOVERY_ACTION_KIND, recipient=owner, context=context).send()
    except Exception:
        logger.exception("Could not e-mail recovery action %s to user %s", action.pk, owner.pk)
        _release(complaint, [owner], notice=RECOVERY_ACTION_NOTICE, action_id=action.pk)
        raise
    return 1
