"""Every write on complaints that carries a rule. One function, one transaction.

A refused step raises `ValidationError` keyed by the field at fault and changes nothing.
Emails are rendered inside the transaction (so the timeline records exactly what was sent) and
handed to the mail server only after it commits.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import team_manager_of
from feedback import lexicon
from feedback import services as feedback_services
from feedback.models import SurveyResponse
from finance_projects.models import (
    NOTE_MAX_CHARS,
    Contact,
    FailureCategory,
    FinancingProject,
    RootCause,
    TouchpointChannel,
)
from finance_projects.selectors import portfolio_for
from finance_projects.services import check_contact_of_project, touchpoint_log
from finance_projects.tokens import hash_token, new_token

from . import deadlines, emails, selectors
from .anonymise import Anonymiser, anonymiser_for
from .models import (
    OPEN_STATUSES,
    CaseStudy,
    Channel,
    ClientEmail,
    ClientEmailKind,
    Complaint,
    ComplaintEvent,
    ComplaintLink,
    EventKind,
    FollowUpVisit,
    RecoveryAction,
    RecoveryKind,
    ResponseChannel,
    Severity,
    SlaPolicy,
    Status,
)

DEFAULT_FOLLOWUP_DAYS = (7, 30)


# --- internals -----------------------------------------------------------------------------


def _is_manager(user: User) -> bool:
    return user.is_manager or user.is_admin_role


def _event(complaint: Complaint, kind: str, *, actor: User | None, summary: str = "", at=None, **data):
    return ComplaintEvent.objects.create(
        complaint=complaint, kind=kind, actor=actor, summary=summary, at=at or timezone.now(), data=data
    )


def _status_event(
    complaint: Complaint, old: str, *, actor: User | None, summary: str = "", at=None, **data
) -> ComplaintEvent:
    return _event(
        complaint,
        EventKind.STATUS,
        actor=actor,
        summary=summary,
        at=at,
        **{"from": old, "to": complaint.status},
        **data,
    )


def _lock(complaint: Complaint, *, allow_closed: bool = False) -> Complaint:
    locked = (
        Complaint.objects.select_for_update()
        .select_related("project", "contact", "sla_policy")
        .get(pk=complaint.pk)
    )
    if locked.status == Status.CLOSED and not allow_closed:
        raise ValidationError(
            {"status": _("This complaint is closed and read-only; reopen it to change it.")}
        )
    return locked


def _check_length(field: str, text: str) -> None:
    """A typed text (the client's words, a reason, a response, an outcome, a note) stays within
    NOTE_MAX_CHARS, like the fields that hold it."""
    try:
        MaxLengthValidator(NOTE_MAX_CHARS)(text)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _require_text(value: str, field: str, message: str) -> str:
    if not value or not value.strip():
        raise ValidationError({field: message})
    _check_length(field, value.strip())
    return value.strip()


def _clip(text: str) -> str:
    """Text put together from longer input (a survey's comments, a follow-up's reference and
    outcome), shortened to fit NOTE_MAX_CHARS; the whole input stays where it came from."""
    return Truncator(text).chars(NOTE_MAX_CHARS)


def _set_deadlines(complaint: Complaint) -> None:
    """Recompute the stored deadlines from receipt, the allowed days and the time paused."""
    rules = complaint.sla_policy.rules()
    complaint.ack_due_at = deadlines.ack_due(complaint.received_at, rules)
    complaint.resolve_due_at = deadlines.resolve_due(
        complaint.received_at, rules, allowed_days=complaint.allowed_days, paused=complaint.paused_for
    )
    complaint.resolve_warn_at = deadlines.warn_at(
        complaint.received_at, complaint.resolve_due_at, rules.warn_fraction
    )


def _email_client(complaint: Complaint, kind: ClientEmailKind, *, actor: User | None, **context) -> None:
    contact = complaint.contact
    message = emails.make_message(
        kind=kind,
        to=contact.email,
        language=contact.language,
        context={"complaint": complaint, "contact": contact, "project": complaint.project, **context},
    )
    [(html, _mimetype)] = message.alternatives
    email = ClientEmail.objects.create(
        complaint=complaint,
        kind=kind,
        to=contact.email,
        subject=message.subject,
        body=message.body,
        html=html,
    )
    _event(complaint, EventKind.EMAIL, actor=actor, subject=message.subject, template=kind, to=contact.email)
    # Sent once the change is committed; a failure leaves it for the SLA beat, never raises.
    transaction.on_commit(lambda: emails.deliver_client_email(email.pk), robust=True)


def _rm_may_not_handle() -> ValidationError:
    return ValidationError(
        {
            "owner": _(
                "The project's relationship manager may not handle a complaint about it "
                "unless a manager allows it."
            )
        }
    )


def _check_handler(
    project: FinancingProject, owner: User | None, approved_by: User | None, reason: str
) -> tuple[User | None, str]:
    """Independence: the project's RM may handle a complaint about it only with a manager's
    recorded approval and reason."""
    _check_length("rm_handling_reason", (reason or "").strip())
    if owner is None or owner.pk != project.relationship_manager_id:
        return None, ""
    if approved_by is None or not _is_manager(approved_by):
        raise _rm_may_not_handle()
    return approved_by, _require_text(
        reason, "rm_handling_reason", _("Say why the RM handles this complaint.")
    )


def _is_unapproved_rm(complaint: Complaint, user: User | None) -> bool:
    """Whether `user` is the RM of the complaint's project and no manager approved their
    handling of it."""
    return (
        user is not None
        and user.pk == complaint.project.relationship_manager_id
        and complaint.rm_handling_approved_by_id is None
    )


def _check_acting_handler(complaint: Complaint, by: User | None) -> None:
    """Independence, for every step that handles the complaint (not for reading it or adding a
    note): the project's RM takes one only once a manager approved their handling of it."""
    if _is_unapproved_rm(complaint, by):
        raise _rm_may_not_handle()


def _check_assignee(owner: User | None, project: FinancingProject) -> None:
    """A complaint is handed only to an active user who can see its project."""
    if owner is None or not owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    if not portfolio_for(owner).filter(pk=project.pk).exists():
        raise ValidationError({"owner": _("This person cannot see the complaint's project.")})


def check_action_owner(owner: User | None, project: FinancingProject) -> None:
    """A recovery action is handed to an active user who can see the complaint's project, or to
    department staff (bank-wide risk, legal and credit own the actions handed to them): holding an
    action shows its complaint, so anyone else would be shown another team's complaint."""
    if owner is None or not owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    if owner.is_department_staff or portfolio_for(owner).filter(pk=project.pk).exists():
        return
    raise ValidationError(
        {
            "owner": _(
                "This person cannot see the complaint's project: hand the action to someone who "
                "can, or to department staff."
            )
        }
    )


def may_handle(user: User, complaint: Complaint) -> bool:
    """Whether `user` may take the handling steps on the complaint (acknowledge, extend, pause,
    resolve, assign...): one who may act on it at all (`selectors.can_handle`), unless they are
    the project's RM without a manager's approval. Notes stay open to all who may act on it."""
    return selectors.can_handle(user, complaint) and not _is_unapproved_rm(complaint, user)


def default_policy() -> SlaPolicy:
    policy = SlaPolicy.objects.filter(is_default=True).first() or SlaPolicy.objects.order_by("pk").first()
    if policy is None:
        raise ValidationError({"sla_policy": _("No SLA policy is configured.")})
    return policy


# --- receipt -------------------------------------------------------------------------------


@transaction.atomic
def complaint_create(
    *,
    project: FinancingProject,
    contact: Contact,
    channel: str,
    category: str,
    description: str,
    created_by: User | None,
    received_at: datetime | None = None,
    severity: str = Severity.MEDIUM,
    remedy_requested: str = "",
    owner: User | None = None,
    sla_policy: SlaPolicy | None = None,
    legal_risk: bool = False,
    rm_handling_approved_by: User | None = None,
    rm_handling_reason: str = "",
    source_key: str | None = None,
) -> Complaint:
    """Record a complaint, start its clock and tell the client it was received. Recorded by
    staff without a handler, it is e-mailed once committed to the project's RM and the team's
    manager, except the one who recorded it (`emails.notify_staff_of_unassigned_complaint`).

    The same words from the same contact about the same project within `REPEAT_WINDOW` are the
    same complaint sent twice (a double click, a client's retry): refused, naming the first, so
    the client is not told twice. The contact's row is locked first, so two at once are too.
    """
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise ValidationError({"received_at": _("A complaint cannot be received in the future.")})
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    check_contact_of_project(project=project, contact=contact)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if category not in FailureCategory.values:
        raise ValidationError({"category": _("Unknown category.")})
    description = _require_text(description, "description", _("Describe the complaint."))
    if source_key is None:
        _check_not_sent_twice(project=project, contact=contact, description=description, now=now)
    _check_length("remedy_requested", remedy_requested.strip())
    if owner is not None:
        _check_assignee(owner, project)
    approved_by, reason = _check_handler(project, owner, rm_handling_approved_by, rm_handling_reason)
    policy = sla_policy or default_policy()
    complaint = Complaint(
        reference=f"CP-PENDING-{new_token()[:8]}",
        project=project,
        contact=contact,
        channel=channel,
        received_at=received_at,
        category=category,
        severity=severity,
        description=description,
        remedy_requested=remedy_requested.strip(),
        owner=owner,
        rm_handling_approved_by=approved_by,
        rm_handling_reason=reason,
        legal_risk=legal_risk,
        sla_policy=policy,
        allowed_days=policy.resolve_days,
        created_by=created_by,
        created_at=now,
        source_key=source_key,
    )
    _set_deadlines(complaint)
    # The source key's uniqueness is the database's to settle (`_complaint_once` takes the first).
    complaint.full_clean(exclude=["reference", "source_key"])
    complaint.save()
    local_year = deadlines.local_date(received_at, policy.timezone).year
    complaint.reference = f"CP-{local_year}-{complaint.pk:06d}"
    Complaint.objects.filter(pk=complaint.pk).update(reference=complaint.reference)
    _event(complaint, EventKind.RECEIVED, actor=created_by, at=now, channel=channel)
    if owner is not None:
        _event(complaint, EventKind.OWNER, actor=created_by, owner=str(owner), owner_id=owner.pk)
    # The link is issued when the e-mail is sent (`emails.deliver_client_email`), never stored.
    _email_client(complaint, ClientEmailKind.RECEIVED, actor=created_by, link=ClientEmail.LINK_PLACEHOLDER)
    if created_by is not None and owner is None:
        # The client is told a handler acknowledges it by its deadline, and the one who recorded
        # it may be the project's RM, who may not handle it: the team's manager must hear of it.
        _tell_staff_of_unassigned_after_commit(complaint)
    return complaint


# A complaint repeated word for word within this time was sent twice, not made twice.
REPEAT_WINDOW = timedelta(minutes=10)
SENT_TWICE = "sent_twice"  # the refusal's code: the sender's first attempt was recorded


def was_sent_twice(error: ValidationError) -> bool:
    """Whether `complaint_create` refused a repeat of a complaint it has just recorded."""
    return any(e.code == SENT_TWICE for e in getattr(error, "error_dict", {}).get("description", []))


def _check_not_sent_twice(*, project: FinancingProject, contact: Contact, description: str, now) -> None:
    first = (
        Complaint.objects.filter(
            project=project, contact=contact, description=description, created_at__gte=now - REPEAT_WINDOW
        )
        .order_by("created_at")
        .values_list("reference", flat=True)
        .first()
    )
    if first is not None:
        message = _("This complaint was recorded a moment ago as %(reference)s; it is not recorded twice.")
        refusal = ValidationError(message % {"reference": first}, code=SENT_TWICE)
        raise ValidationError({"description": refusal})


def guess_category(text: str) -> str:
    """The first failure category the survey lexicon finds in the client's words; late
    information when none is found (a client who has to write in was not kept informed)."""
    found = lexicon.categorise(text)
    return found[0] if found else FailureCategory.LATE_INFORMATION


def complaint_raise_from_client(
    *,
    project: FinancingProject,
    contact: Contact,
    description: str,
    category: str | None = None,
    channel: str = Channel.STATUS_PAGE,
    source_key: str | None = None,
) -> Complaint:
    """A complaint the client raised themselves (status page, survey); the team lead triages it.
    With a `source_key`, raising it again from the same source returns the first complaint.
    Words longer than a complaint holds (a survey's comments put together) are shortened to fit.
    A new one is e-mailed to the project's RM and the team's manager once it is committed: nobody
    handles it yet, and the client is told it reached them."""

    def create() -> Complaint:
        return complaint_create(
            project=project,
            contact=contact,
            channel=channel,
            category=category or guess_category(description or ""),
            description=_clip((description or "").strip()),
            created_by=None,
            source_key=source_key,
        )

    complaint, created = _complaint_once(source_key, create) if source_key else (create(), True)
    if created:
        _tell_staff_after_commit(complaint)
    return complaint


def _tell_staff_after_commit(complaint: Complaint) -> None:
    """Queue the e-mail to the staff once the complaint is committed (at once outside a
    transaction). A broker that does not answer is logged, not raised: the client's complaint is
    saved and must not turn into an error page."""
    from .tasks import notify_staff_of_client_complaint

    complaint_id = complaint.pk
    transaction.on_commit(lambda: notify_staff_of_client_complaint.delay(complaint_id), robust=True)


def _tell_staff_of_unassigned_after_commit(complaint: Complaint) -> None:
    """Queue the e-mail to the staff about a complaint recorded without a handler once it is
    committed (never if the transaction rolls back); a broker that does not answer is logged, not
    raised, as for a client's complaint."""
    from .tasks import notify_staff_of_unassigned_complaint

    complaint_id = complaint.pk
    transaction.on_commit(lambda: notify_staff_of_unassigned_complaint.delay(complaint_id), robust=True)


def _complaint_once(source_key: str, create) -> tuple[Complaint, bool]:
    """The complaint raised from `source_key`, made by `create()` unless there is one already;
    returns it and whether it is new. The unique source key settles two attempts at once (the
    survey hook and an RM's click): the later one gets the first one's complaint."""
    existing = Complaint.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        existing = Complaint.objects.filter(source_key=source_key).first()
        if existing is None:
            raise  # another constraint failed, not the source key
        return existing, False


# --- from a survey response ----------------------------------------------------------------


# A complaint raised from a survey response has the source "survey_response:<response id>".
SURVEY_RESPONSE_SOURCE = "survey_response:"


def survey_response_source_key(response_id: int) -> str:
    """The source of the complaint raised from a survey response: one complaint per response."""
    return f"{SURVEY_RESPONSE_SOURCE}{response_id}"


def _survey_scores(response: SurveyResponse) -> str:
    scores = (("NPS", response.nps), ("CSAT", response.csat), ("CES", response.ces))
    return ", ".join(f"{label} {value}" for label, value in scores if value is not None)


def _opened_from_survey_text(response: SurveyResponse) -> str:
    """The description of a complaint opened from a response without a comment (the active language)."""
    scores = _survey_scores(response)
    if scores:
        return _("Opened from the client's survey answers (%(scores)s).") % {"scores": scores}
    return _("Opened from the client's survey answers.")


def complaint_open_from_survey_response(*, response: SurveyResponse, by: User) -> tuple[Complaint, bool]:
    """Open the complaint about a client's survey response, prefilled from it: its project and
    contact, the comment as the description (shortened to fit; or a note in the contact's
    language), the first failure category of the comment, channel survey. The complaint already
    raised from the response (the contact-request hook, an earlier click) is returned instead.
    A new one has no handler: once committed it is e-mailed to the team's manager (and to the
    project's RM when someone else opened it), see `complaint_create`.

    Returns the complaint and whether it was created now.
    """
    if response.submitted_at is None:
        raise ValidationError(
            {"response": _("This survey was not submitted yet, so no complaint can be opened from it.")}
        )
    invitation = response.invitation
    with translation.override(invitation.contact.language):
        description = response.comment.strip() or _opened_from_survey_text(response)
    categories = response.categories or []
    source_key = survey_response_source_key(response.pk)
    return _complaint_once(
        source_key,
        lambda: complaint_create(
            project=invitation.project,
            contact=invitation.contact,
            channel=Channel.SURVEY,
            category=categories[0] if categories else guess_category(description),
            description=_clip(description),
            created_by=by,
            source_key=source_key,
        ),
    )


# --- handler and plain fields --------------------------------------------------------------


@transaction.atomic
def complaint_assign(
    *, complaint: Complaint, owner: User, by: User, rm_handling_reason: str = ""
) -> Complaint:
    """Hand the complaint to another handler: an active user who can see its project, and not
    the project's RM unless the manager assigning it records why."""
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    _check_assignee(owner, locked.project)
    approved_by, reason = _check_handler(
        locked.project, owner, by if _is_manager(by) else None, rm_handling_reason
    )
    if (locked.owner_id, locked.rm_handling_approved_by_id, locked.rm_handling_reason) == (
        owner.pk,
        approved_by.pk if approved_by else None,
        reason,
    ):
        return locked  # already theirs on the same terms (e.g. since they acknowledged it): no event
    locked.owner = owner
    locked.rm_handling_approved_by = approved_by
    locked.rm_handling_reason = reason
    locked.save(update_fields=["owner", "rm_handling_approved_by", "rm_handling_reason", "updated_at"])
    _event(locked, EventKind.OWNER, actor=by, summary=reason, owner=str(owner), owner_id=owner.pk)
    return locked


EDITABLE_FIELDS = ("category", "severity", "description", "remedy_requested", "root_cause", "legal_risk")


@transaction.atomic
def complaint_update(*, complaint: Complaint, by: User, **fields) -> Complaint:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    changed = {}
    for name, value in fields.items():
        if getattr(locked, name) != value:
            changed[name] = str(value)
            setattr(locked, name, value)
    if not changed:
        return locked
    locked.full_clean()
    locked.save(update_fields=[*changed, "updated_at"])
    _event(locked, EventKind.NOTE, actor=by, summary=_("Details edited."), changed=changed)
    return locked


@transaction.atomic
def complaint_add_note(*, complaint: Complaint, by: User, text: str) -> ComplaintEvent:
    locked = _lock(complaint)
    return _event(locked, EventKind.NOTE, actor=by, summary=_require_text(text, "text", _("Write the note.")))


# --- the life cycle ------------------------------------------------------------------------


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, by: User, at: datetime | None = None) -> Complaint:
    """The handler takes the complaint on; an unassigned complaint is assigned to them."""
    at = at or timezone.now()
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if locked.status != Status.NEW:
        raise ValidationError({"status": _("Only a new complaint can be acknowledged.")})
    if locked.owner_id is None:
        locked.owner = by
        _event(locked, EventKind.OWNER, actor=by, owner=str(by), owner_id=by.pk)
    old = locked.status
    locked.status = Status.ACKNOWLEDGED
    locked.acknowledged_at = at
    locked.save(update_fields=["status", "acknowledged_at", "owner", "updated_at"])
    _status_event(locked, old, actor=by, at=at)
    return locked


@transaction.atomic
def complaint_start_investigation(*, complaint: Complaint, by: User) -> Complaint:
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if locked.status not in (Status.ACKNOWLEDGED, Status.REOPENED):
        raise ValidationError({"status": _("Acknowledge the complaint before investigating it.")})
    old = locked.status
    locked.status = Status.INVESTIGATING
    locked.investigating_at = timezone.now()
    locked.save(update_fields=["status", "investigating_at", "updated_at"])
    _status_event(locked, old, actor=by)
    return locked


@transaction.atomic
def complaint_extend(*, complaint: Complaint, by: User, reason: str, days: int | None = None) -> Complaint:
    """Give a complex complaint more time: the first extension up to the policy's first limit,
    a second (special case) up to its absolute limit with a manager's approval; never a third.
    The client is told by email."""
    reason = _require_text(reason, "reason", _("Say why the complaint needs more time."))
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    policy = locked.sla_policy
    if not locked.is_open:
        raise ValidationError({"status": _("Only an open complaint can be extended.")})
    if not policy.allows_extension:
        raise ValidationError({"days": _("This SLA policy allows no extension.")})
    if locked.extension_count >= 2:
        raise ValidationError({"days": _("A complaint can be extended at most twice.")})
    second = locked.extension_count == 1
    cap = policy.max_days if second else policy.first_extension_to_days
    if second and not _is_manager(by):
        raise ValidationError({"days": _("A second extension needs a manager's approval.")})
    days = cap - locked.allowed_days if days is None else int(days)
    if days < 1:
        raise ValidationError({"days": _("Extend by at least one day.")})
    if locked.allowed_days + days > cap:
        raise ValidationError(
            {
                "days": _("This extension would allow %(total)s days; the limit is %(cap)s.")
                % {"total": locked.allowed_days + days, "cap": cap}
            }
        )
    old_due = locked.resolve_due_at
    locked.allowed_days += days
    locked.extension_count += 1
    _set_deadlines(locked)
    locked.save(
        update_fields=[
            "allowed_days",
            "extension_count",
            "resolve_due_at",
            "resolve_warn_at",
            "ack_due_at",
            "updated_at",
        ]
    )
    _event(
        locked,
        EventKind.EXTENSION,
        actor=by,
        summary=reason,
        days=days,
        allowed_days=locked.allowed_days,
        previous_due_at=old_due.isoformat(),
        resolve_due_at=locked.resolve_due_at.isoformat(),
        approved_by_manager=second,
    )
    _email_client(locked, ClientEmailKind.EXTENDED, actor=by, reason=reason)
    return locked


@transaction.atomic
def complaint_pause(*, complaint: Complaint, by: User, reason: str, at: datetime | None = None) -> Complaint:
    """Stop the clock while an outside appraisal runs; the client is told."""
    reason = _require_text(reason, "reason", _("Say what the clock waits for (e.g. an outside appraisal)."))
    at = at or timezone.now()
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if not locked.is_open:
        raise ValidationError({"status": _("Only an open complaint can be paused.")})
    if locked.is_paused:
        raise ValidationError({"status": _("The clock is already paused.")})
    locked.paused_at = at
    locked.pause_reason = reason
    locked.save(update_fields=["paused_at", "pause_reason", "updated_at"])
    _event(locked, EventKind.PAUSE, actor=by, summary=reason, at=at)
    _email_client(locked, ClientEmailKind.PAUSED, actor=by, reason=reason)
    return locked


@transaction.atomic
def complaint_resume(*, complaint: Complaint, by: User, at: datetime | None = None) -> Complaint:
    """Restart the clock; the decision deadline moves by the time spent paused."""
    at = at or timezone.now()
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if not locked.is_paused:
        raise ValidationError({"status": _("The clock is not paused.")})
    paused = max(int((at - locked.paused_at).total_seconds()), 0)
    locked.paused_seconds += paused
    locked.paused_at = None
    locked.pause_reason = ""
    _set_deadlines(locked)
    locked.save(
        update_fields=[
            "paused_at",
            "pause_reason",
            "paused_seconds",
            "resolve_due_at",
            "resolve_warn_at",
            "updated_at",
        ]
    )
    _event(
        locked,
        EventKind.RESUME,
        actor=by,
        at=at,
        paused_seconds=paused,
        resolve_due_at=locked.resolve_due_at.isoformat(),
    )
    _email_client(locked, ClientEmailKind.RESUMED, actor=by)
    return locked


def _compensation_needs_approval(policy: SlaPolicy, amount: Decimal, currency: str) -> bool:
    return currency != policy.compensation_currency or amount > policy.compensation_approval_above


@transaction.atomic
def complaint_set_compensation(
    *, complaint: Complaint, amount: Decimal, currency: str, by: User, approved_by: User | None = None
) -> Complaint:
    """Offer compensation; above the policy's limit (or in another currency) a manager approves."""
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"compensation_amount": _("Compensation must be greater than zero.")})
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    approver = approved_by or (by if _is_manager(by) else None)
    if _compensation_needs_approval(locked.sla_policy, amount, currency) and (
        approver is None or not _is_manager(approver)
    ):
        raise ValidationError(
            {
                "compensation_amount": _(
                    "Compensation above %(limit)s %(currency)s needs a manager's approval."
                )
                % {
                    "limit": locked.sla_policy.compensation_approval_above,
                    "currency": locked.sla_policy.compensation_currency,
                }
            }
        )
    locked.compensation_amount = amount
    locked.compensation_currency = currency
    locked.compensation_approved_by = approver
    locked.full_clean()
    locked.save(
        update_fields=[
            "compensation_amount",
            "compensation_currency",
            "compensation_approved_by",
            "updated_at",
        ]
    )
    _event(
        locked,
        EventKind.COMPENSATION,
        actor=by,
        amount=str(amount),
        currency=currency,
        approved_by=str(approver) if approver else "",
    )
    return locked


def _schedule_followups(complaint: Complaint, at: datetime) -> list[FollowUpVisit]:
    offsets = complaint.sla_policy.followup_days or list(DEFAULT_FOLLOWUP_DAYS)
    visits = FollowUpVisit.objects.bulk_create(
        [
            FollowUpVisit(complaint=complaint, offset_days=d, due_at=at + timedelta(days=d))
            for d in sorted(set(offsets))
        ]
    )
    _event(complaint, EventKind.FOLLOWUP, actor=None, scheduled=[v.due_at.isoformat() for v in visits])
    return visits


@transaction.atomic
def complaint_resolve(
    *,
    complaint: Complaint,
    by: User,
    response_text: str,
    response_channel: str,
    response_sent_at: datetime | None = None,
    root_cause: str | None = None,
    at: datetime | None = None,
) -> Complaint:
    """Record the decision as sent to the client, schedule the follow-up visits and send the
    recovery survey. A complaint opened from a survey response records the resolution as that
    response's follow-up."""
    at = at or timezone.now()
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if locked.status not in (Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.REOPENED):
        raise ValidationError({"status": _("Acknowledge the complaint before resolving it.")})
    if locked.is_paused:
        raise ValidationError({"status": _("Resume the clock before resolving the complaint.")})
    text = _require_text(
        response_text, "response_text", _("Record the response given to the client before resolving.")
    )
    if response_channel not in ResponseChannel.values:
        raise ValidationError({"response_channel": _("Say how the response was sent to the client.")})
    sent_at = response_sent_at or at
    if sent_at > timezone.now() + timedelta(minutes=5) or sent_at < locked.received_at:
        raise ValidationError(
            {"response_sent_at": _("The response must be sent after receipt and not in the future.")}
        )
    if root_cause is not None:
        if root_cause not in RootCause.values:
            raise ValidationError({"root_cause": _("Unknown root cause.")})
        locked.root_cause = root_cause
    if not locked.root_cause:
        raise ValidationError({"root_cause": _("Name the root cause before resolving.")})
    if (
        locked.compensation_amount is not None
        and locked.compensation_approved_by_id is None
        and _compensation_needs_approval(
            locked.sla_policy, locked.compensation_amount, locked.compensation_currency
        )
    ):
        raise ValidationError({"compensation_amount": _("The compensation needs a manager's approval.")})
    old = locked.status
    locked.status = Status.RESOLVED
    locked.resolved_at = at
    locked.response_text = text
    locked.response_channel = response_channel
    locked.response_sent_at = sent_at
    locked.save(
        update_fields=[
            "status",
            "resolved_at",
            "response_text",
            "response_channel",
            "response_sent_at",
            "root_cause",
            "updated_at",
        ]
    )
    _status_event(locked, old, actor=by, at=at, summary=text)
    if response_channel == ResponseChannel.EMAIL:
        _email_client(locked, ClientEmailKind.RESOLVED, actor=by, response=text)
    _schedule_followups(locked, at)
    _follow_up_source_response(locked, by=by, at=at, response_text=text)
    project, contact, reference = locked.project, locked.contact, locked.reference
    # The survey's reason is written in the contact's language when it is shown, from the reference.
    transaction.on_commit(
        lambda: feedback_services.survey_send_recovery(
            project=project, contact=contact, complaint_reference=reference
        )
    )
    return locked


def _follow_up_source_response(complaint: Complaint, *, by: User, at: datetime, response_text: str) -> None:
    """The resolution of a complaint opened from a survey response is the client's answer about
    that response: recorded as its follow-up (contacted at the resolution, by the resolver), which
    also resolves the response's detractor or contact-request alert. One per resolution: the
    status check under the complaint's lock lets each resolution happen once, and a resolution
    after a reopening is another conversation with the client, so it is recorded too (the
    response keeps every follow-up)."""
    key = complaint.source_key or ""
    response_id = key.removeprefix(SURVEY_RESPONSE_SOURCE)
    if not key.startswith(SURVEY_RESPONSE_SOURCE) or not response_id.isdigit():
        return
    response = SurveyResponse.objects.filter(pk=int(response_id), submitted_at__isnull=False).first()
    if response is None:
        return
    outcome = _("Complaint %(reference)s resolved: %(response)s") % {
        "reference": complaint.reference,
        "response": response_text,
    }
    feedback_services.response_record_follow_up(
        response=response, by=by, contacted_at=at, outcome=_clip(outcome)
    )


@transaction.atomic
def complaint_close(
    *,
    complaint: Complaint,
    by: User,
    client_confirmed: bool = False,
    reason: str = "",
    at: datetime | None = None,
) -> Complaint:
    """Close a resolved complaint: the client confirmed the outcome, or a reason is recorded."""
    at = at or timezone.now()
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if locked.status != Status.RESOLVED:
        raise ValidationError({"status": _("Only a resolved complaint can be closed.")})
    reason = (reason or "").strip()
    _check_length("reason", reason)
    if not client_confirmed and not reason:
        raise ValidationError(
            {"reason": _("Record the client's confirmation or say why the complaint is closed without it.")}
        )
    old = locked.status
    locked.status = Status.CLOSED
    locked.closed_at = at
    locked.client_confirmed = bool(client_confirmed)
    locked.close_reason = reason
    locked.save(update_fields=["status", "closed_at", "client_confirmed", "close_reason", "updated_at"])
    _status_event(locked, old, actor=by, at=at, summary=reason, client_confirmed=bool(client_confirmed))
    return locked


@transaction.atomic
def complaint_reopen(*, complaint: Complaint, by: User, reason: str) -> Complaint:
    """The client is not satisfied after all: back to work, pending follow-ups cancelled. The
    regulator's clock keeps counting from the original receipt."""
    reason = _require_text(reason, "reason", _("Say why the complaint is reopened."))
    locked = _lock(complaint, allow_closed=True)
    _check_acting_handler(locked, by)
    if locked.status not in (Status.RESOLVED, Status.CLOSED):
        raise ValidationError({"status": _("Only a resolved or closed complaint can be reopened.")})
    if locked.merged_into_id:
        raise ValidationError(
            {"status": _("A merged complaint is followed in the complaint it was merged into.")}
        )
    old = locked.status
    locked.status = Status.REOPENED
    locked.reopen_count += 1
    locked.resolved_at = locked.closed_at = locked.response_sent_at = None
    locked.response_text = locked.response_channel = locked.close_reason = ""
    locked.client_confirmed = False
    locked.escalated_at = None
    locked.save()
    FollowUpVisit.objects.filter(complaint=locked, done_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
    # A recovery survey not yet e-mailed would tell the client the complaint is resolved.
    feedback_services.recovery_survey_withdraw(project=locked.project, complaint_reference=locked.reference)
    _status_event(locked, old, actor=by, summary=reason)
    return locked


def duplicate_candidates(complaint: Complaint):
    """Open complaints this one repeats: same project, contact and category, received while the
    original was still within its decision deadline."""
    return Complaint.objects.filter(
        project_id=complaint.project_id,
        contact_id=complaint.contact_id,
        category=complaint.category,
        status__in=OPEN_STATUSES,
        merged_into__isnull=True,
        received_at__lte=complaint.received_at,
        resolve_due_at__gte=complaint.received_at,
    ).exclude(pk=complaint.pk)


@transaction.atomic
def complaint_merge(*, duplicate: Complaint, into: Complaint, by: User) -> Complaint:
    """Fold a repeat of the same complaint into the original, which keeps its own clock."""
    if duplicate.pk == into.pk:
        raise ValidationError({"merged_into": _("A complaint cannot be merged into itself.")})
    first, second = sorted([duplicate, into], key=lambda c: c.pk)
    for locked in (_lock(first), _lock(second)):
        _check_acting_handler(locked, by)
    duplicate = Complaint.objects.select_for_update().get(pk=duplicate.pk)
    if not duplicate.is_open:
        raise ValidationError({"status": _("Only an open complaint can be merged.")})
    if not duplicate_candidates(duplicate).filter(pk=into.pk).exists():
        raise ValidationError(
            {
                "merged_into": _(
                    "Only a repeat of the same complaint (same project, contact and category, received "
                    "within the original's open deadline) can be merged into it."
                )
            }
        )
    into = Complaint.objects.get(pk=into.pk)
    old = duplicate.status
    now = timezone.now()
    duplicate.status = Status.CLOSED
    duplicate.acknowledged_at = duplicate.acknowledged_at or now
    duplicate.closed_at = now
    duplicate.merged_into = into
    duplicate.paused_at = None
    duplicate.close_reason = _("Merged into %(ref)s.") % {"ref": into.reference}
    duplicate.save()
    _event(
        duplicate,
        EventKind.MERGE,
        actor=by,
        summary=duplicate.close_reason,
        **{"from": old, "to": Status.CLOSED, "into": into.reference},
    )
    _event(into, EventKind.MERGE, actor=by, summary=duplicate.description, merged=duplicate.reference)
    return duplicate


# --- recovery actions and follow-ups -------------------------------------------------------


@transaction.atomic
def recovery_action_add(
    *, complaint: Complaint, kind: str, description: str, owner: User, due_at: datetime, by: User
) -> RecoveryAction:
    locked = _lock(complaint)
    _check_acting_handler(locked, by)
    if kind not in RecoveryKind.values:
        raise ValidationError({"kind": _("Unknown kind of recovery action.")})
    description = _require_text(description, "description", _("Describe the action."))
    check_action_owner(owner, locked.project)
    if due_at is None:
        raise ValidationError({"due_at": _("Give the action a due date.")})
    action = RecoveryAction.objects.create(
        complaint=locked, kind=kind, description=description, owner=owner, due_at=due_at, created_by=by
    )
    _event(
        locked,
        EventKind.ACTION,
        actor=by,
        summary=description,
        action=kind,
        owner=str(owner),
        action_id=action.pk,
    )
    if owner.pk != by.pk:
        _tell_action_owner_after_commit(action)
    return action


def _tell_action_owner_after_commit(action: RecoveryAction) -> None:
    """Queue the e-mail to the action's owner once the action is committed. A broker that does
    not answer is logged, not raised: the action is saved and shows on the owner's home page."""
    from .tasks import notify_owner_of_recovery_action

    action_id = action.pk
    transaction.on_commit(lambda: notify_owner_of_recovery_action.delay(action_id), robust=True)


@transaction.atomic
def recovery_action_complete(
    *, action: RecoveryAction, by: User, at: datetime | None = None
) -> RecoveryAction:
    locked = _lock(action.complaint)
    action = RecoveryAction.objects.select_for_update().get(pk=action.pk)
    if action.owner_id != by.pk:
        # The project's RM may carry out an action handed to them (a call to apologise).
        _check_acting_handler(locked, by)
    if action.done_at is not None:
        raise ValidationError({"done_at": _("This action is already done.")})
    action.done_at = at or timezone.now()
    action.save(update_fields=["done_at"])
    _event(
        locked,
        EventKind.ACTION,
        actor=by,
        summary=action.description,
        action=action.kind,
        done=True,
        action_id=action.pk,
    )
    return action


@transaction.atomic
def followup_complete(
    *,
    followup: FollowUpVisit,
    by: User,
    outcome: str,
    client_satisfied: bool | None = None,
    at: datetime | None = None,
) -> FollowUpVisit:
    """Record the follow-up visit and log it as a touchpoint with the client."""
    at = at or timezone.now()
    outcome = _require_text(outcome, "outcome", _("Record what the client said."))
    locked = (
        FollowUpVisit.objects.select_for_update()
        .select_related("complaint__project", "complaint__contact")
        .get(pk=followup.pk)
    )
    complaint = locked.complaint
    _check_acting_handler(complaint, by)
    if not locked.is_pending:
        raise ValidationError({"done_at": _("This follow-up is already done or cancelled.")})
    touchpoint = touchpoint_log(
        project=complaint.project,
        contact=complaint.contact,
        channel=TouchpointChannel.FOLLOW_UP_VISIT,
        occurred_at=at,
        # The visit keeps the whole outcome; the touchpoint's summary holds as much as fits.
        summary=_clip(f"{complaint.reference}: {outcome}"),
        logged_by=by,
        is_client_update=True,
    )
    locked.done_at = at
    locked.done_by = by
    locked.outcome = outcome
    locked.client_satisfied = client_satisfied
    locked.touchpoint = touchpoint
    locked.save(update_fields=["done_at", "done_by", "outcome", "client_satisfied", "touchpoint"])
    _event(
        complaint, EventKind.FOLLOWUP, actor=by, at=at, summary=outcome, satisfied=client_satisfied, done=True
    )
    return locked


# --- client links --------------------------------------------------------------------------


def complaint_link_resolve(token: str) -> ComplaintLink | None:
    """The usable link for a token, or None for unknown, expired and revoked alike. Viewing
    never consumes the link."""
    link = (
        ComplaintLink.objects.select_related(
            "complaint__project", "complaint__contact", "complaint__sla_policy"
        )
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if link is None or not link.is_usable():
        return None
    ComplaintLink.objects.filter(pk=link.pk).update(last_viewed_at=timezone.now())
    return link


def complaint_link_revoke(*, link: ComplaintLink) -> None:
    ComplaintLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- case library --------------------------------------------------------------------------


def case_check_anonymous(
    complaint: Complaint, texts: Mapping[str, str], *, anonymiser: Anonymiser | None = None
) -> None:
    """Refuse case texts (field name → text) that still name the complaint's client, its contacts
    or the staff involved, or give their email address or phone number: a ValidationError keyed
    by each such field, saying what was found. Used when a case is published and when its
    narrative is edited afterwards."""
    anonymiser = anonymiser or anonymiser_for(complaint)
    identifying = {
        field: ValidationError(
            _("This still identifies the client or a person: %(found)s. Replace it before publishing.")
            % {"found": ", ".join(found)}
        )
        for field, text in texts.items()
        if (found := anonymiser.identifying(text))
    }
    if identifying:
        raise ValidationError(identifying)


@transaction.atomic
def case_publish(
    *,
    complaint: Complaint,
    by: User,
    title_zh: str,
    title_en: str,
    lessons_zh: str,
    lessons_en: str,
    what_worked_zh: str = "",
    what_worked_en: str = "",
    summary_zh: str | None = None,
    summary_en: str | None = None,
) -> CaseStudy:
    """Publish a resolved complaint as an anonymised training case.

    The narrative ("what happened") is saved as the publisher confirmed it; left out (None), it
    is drafted from the complaint and the response, scrubbed, each language from the text written
    in it (no English narrative from Chinese text). Titles, lessons and what worked are scrubbed
    of names, contact details and amounts. Any text that still names the client, its contacts or
    the staff involved, or gives their email address or phone number, is refused."""
    locked = _lock(complaint, allow_closed=True)
    _check_acting_handler(locked, by)
    if locked.status not in (Status.RESOLVED, Status.CLOSED) or locked.merged_into_id:
        raise ValidationError({"status": _("Only a resolved or closed complaint can become a case.")})
    if CaseStudy.objects.filter(complaint=locked).exists():
        raise ValidationError({"complaint": _("This complaint is already in the case library.")})
    if not (title_zh.strip() or title_en.strip()):
        raise ValidationError({"title_zh": _("Give the case a title.")})
    if not (lessons_zh.strip() or lessons_en.strip()):
        raise ValidationError({"lessons_zh": _("Write the lessons learned.")})
    typed = {"title_zh": title_zh, "title_en": title_en, "lessons_zh": lessons_zh, "lessons_en": lessons_en}
    typed |= {"what_worked_zh": what_worked_zh, "what_worked_en": what_worked_en}
    typed |= {"summary_zh": summary_zh or "", "summary_en": summary_en or ""}
    for field, text in typed.items():
        limit = CaseStudy._meta.get_field(field).max_length or NOTE_MAX_CHARS
        try:
            MaxLengthValidator(limit)(text.strip())
        except ValidationError as error:
            raise ValidationError({field: error.messages}) from error
    anonymiser = anonymiser_for(locked)
    drafted = anonymiser.narratives() if summary_zh is None or summary_en is None else {}
    texts = {name: anonymiser.scrub(text.strip()) for name, text in typed.items()}
    texts["summary_zh"] = (drafted["zh"] if summary_zh is None else summary_zh).strip()
    texts["summary_en"] = (drafted["en"] if summary_en is None else summary_en).strip()
    if not (texts["summary_zh"] or texts["summary_en"]):
        raise ValidationError({"summary_zh": _("Say what happened.")})
    case_check_anonymous(locked, texts, anonymiser=anonymiser)
    case = CaseStudy.objects.create(
        complaint=locked,
        category=locked.category,
        root_cause=locked.root_cause,
        published_by=by,
        **texts,
    )
    _event(locked, EventKind.PUBLISHED, actor=by, case_id=case.pk)
    return case


# --- escalation ----------------------------------------------------------------------------


def escalation_recipient(complaint: Complaint) -> User | None:
    """The manager of the team that owns the project."""
    manager = complaint.project.team.manager
    if manager is None and complaint.owner is not None:
        manager = team_manager_of(complaint.owner)
    return manager
