"""Every write on surveys that carries a business rule. One function, one transaction.

Rule violations raise `django.core.exceptions.ValidationError` keyed by the field at fault, so
the survey page, the API and the admin show the message and nothing is half-saved.
"""

import functools
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Exists, OuterRef, ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User
from finance_projects.models import (
    NOTE_MAX_CHARS,
    AlertKind,
    AlertSeverity,
    Contact,
    FailureCategory,
    FinancingProject,
    ProjectStatus,
    StageTransition,
    TouchpointChannel,
)
from finance_projects.services import check_contact_of_project, touchpoint_log
from finance_projects.tokens import hash_token, new_token

from . import lexicon
from .conf import feedback_setting
from .models import (
    CRITICAL_NPS_AT_OR_BELOW,
    DETRACTOR_AT_OR_BELOW,
    InvitationLink,
    Question,
    QuestionType,
    SkipReason,
    Survey,
    SurveyFollowUp,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveySkip,
    Trigger,
)
from .selectors import RESPONSE_ALERT_SUBJECT, asks_to_be_contacted

# Sibling apps react to a submitted response here: called with the response (its invitation,
# project and contact loaded) after the response was processed and that commit went through;
# feedback never imports them.
RESPONSE_HOOKS: list[Callable[[SurveyResponse], None]] = []


logger = logging.getLogger(__name__)


class InvitationClosed(ValidationError):
    """The invitation was already answered, has expired or was revoked."""


class SurveyInUse(ValidationError):
    """The survey was sent: its invitations (and their answers) keep it."""


@dataclass(frozen=True)
class SendResult:
    """What a send did: an invitation (with its one-time token when a link was issued) or a skip."""

    invitation: SurveyInvitation | None = None
    token: str | None = None
    skip: SurveySkip | None = None

    @property
    def url(self) -> str | None:
        return survey_url(self.token) if self.token else None


def survey_url(token: str) -> str:
    return settings.SITE_URL + reverse("feedback:survey", args=[token])


def opt_out_url(token: str) -> str:
    return settings.SITE_URL + reverse("feedback:opt-out", args=[token])


def active_survey(kind: str) -> Survey | None:
    """The survey of this kind that automatic triggers send, read with `has_questions`: the
    oldest active one that has questions, else the oldest active one (which is then skipped)."""
    return (
        Survey.objects.filter(kind=kind, is_active=True)
        .annotate(has_questions=Exists(Question.objects.filter(survey_id=OuterRef("pk"))))
        .order_by("-has_questions", "id")
        .first()
    )


def unsendable_reason(survey: Survey | None) -> str | None:
    """Why an automatic trigger cannot send `survey` (best as `active_survey` returns it), or None.

    A survey without questions would give the client a page with nothing to answer, and an empty
    response would still count as an answer (the frequency cap, the response rate).
    """
    if survey is None:
        return SkipReason.SURVEY_MISSING
    has_questions = getattr(survey, "has_questions", None)
    if has_questions is None:  # a survey not read by `active_survey`
        has_questions = Question.objects.filter(survey_id=survey.pk).exists()
    if not has_questions:
        return SkipReason.SURVEY_EMPTY
    return None


class SurveyInvalid(ValidationError):
    """The survey or some of its questions break a rule. `message_dict` names the survey's fields
    (and `questions`, every message of the questions together); `question_errors` holds one dict
    of errors per question given, in their order ({} for a question that is fine)."""

    def __init__(self, survey_errors: dict[str, list[str]], question_errors: list[dict[str, list[str]]]):
        messages = dict(survey_errors)
        if any(question_errors):
            messages["questions"] = [m for errors in question_errors for ms in errors.values() for m in ms]
        super().__init__(messages)
        self.question_errors = question_errors


QUESTION_FIELDS = ("position", "type", "text_zh", "text_en", "choices", "required")


def _errors_of(instance, **kwargs) -> dict[str, list[str]]:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        return error.message_dict
    return {}


def _questions_from(
    survey: Survey, items: list[dict], existing: dict[int, Question]
) -> tuple[list[Question], list[dict[str, list[str]]]]:
    """The questions `items` describe, each checked by the model's rules, and their errors."""
    questions: list[Question] = []
    errors: list[dict[str, list[str]]] = []
    named: set[int] = set()
    for index, item in enumerate(items):
        question_id = item.get("id")
        if question_id is None:
            question = Question(survey=survey)
        elif question_id not in existing:
            questions.append(Question(survey=survey))
            errors.append({"id": [_("This is not one of this survey's questions.")]})
            continue
        elif question_id in named:
            questions.append(existing[question_id])
            errors.append({"id": [_("This question is listed twice.")]})
            continue
        else:
            named.add(question_id)
            question = existing[question_id]
        for name in QUESTION_FIELDS:
            if name in item:
                setattr(question, name, item[name])
        if "position" not in item:
            question.position = index + 1  # as the shipped surveys number theirs
        questions.append(question)
        # The survey is set here, not chosen (and a new one has no id yet). The one constraint
        # restates the type's choices, which `clean_fields` checks without a query per question.
        errors.append(_errors_of(question, exclude=["survey"], validate_constraints=False))
    return questions, errors


@transaction.atomic
def survey_save(*, survey: Survey | None, fields: dict, questions: list[dict] | None = None) -> Survey:
    """Create a survey (`survey` None) or change one, and when `questions` is given make its
    questions exactly those: an item with an `id` changes that question of this survey, one
    without adds a question, and the questions not named are deleted. An item without a
    `position` takes its place in the list (from 1). Every rule is checked before anything is
    written, and a refusal (`SurveyInvalid`) saves nothing.

    When the questions change, the survey's version (`updated_at`) moves past the one web
    processes may have cached them under (`survey_questions`), also when the clock did not.
    """
    if survey is None or survey.pk is None:
        survey, existing, previous = Survey(), {}, None
    else:
        # Locked: two edits of the questions at once would each delete what the other added.
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        previous = survey.updated_at
        existing = {}
        if questions is not None:
            existing = {question.pk: question for question in Question.objects.filter(survey_id=survey.pk)}
    for name, value in fields.items():
        setattr(survey, name, value)
    survey_errors = _errors_of(survey)
    built, question_errors = _questions_from(survey, questions or [], existing)
    if survey_errors or any(question_errors):
        raise SurveyInvalid(survey_errors, question_errors)
    survey.save()
    if questions is None:
        return survey
    kept = {question.pk for question in built if question.pk is not None}
    gone = [pk for pk in existing if pk not in kept]
    if gone:
        Question.objects.filter(pk__in=gone).delete()
    Question.objects.bulk_update([q for q in built if q.pk is not None], QUESTION_FIELDS)
    Question.objects.bulk_create([q for q in built if q.pk is None])
    if previous is not None:
        # As the admin does: a version no process read the old questions under.
        version = max(timezone.now(), previous + timedelta(microseconds=1))
        Survey.objects.filter(pk=survey.pk).update(updated_at=version)
        survey.updated_at = version
    return survey


@transaction.atomic
def survey_delete(*, survey: Survey) -> None:
    """Delete a survey nobody was invited to; one already sent is kept, deactivating it stops it."""
    try:
        survey.delete()
    except ProtectedError as error:  # raised before anything is deleted
        raise SurveyInUse(
            {
                "__all__": _(
                    "This survey was already sent to clients, so it cannot be deleted. Deactivate it instead."
                )
            },
            code="in_use",
        ) from error


# --- Sending -------------------------------------------------------------------------------


def _skip_reason(contact: Contact, *, at: datetime) -> str | None:
    if contact.opted_out:
        return SkipReason.OPTED_OUT
    if not contact.email:
        return SkipReason.NO_EMAIL
    window_start = at - timedelta(days=feedback_setting("FREQUENCY_CAP_DAYS"))
    if SurveyInvitation.objects.reached(contact_id=contact.pk).filter(created_at__gt=window_start).exists():
        return SkipReason.FREQUENCY_CAP
    return None


def _record_skip(
    *,
    contact: Contact,
    project: FinancingProject,
    survey: Survey | None,
    trigger: str,
    reason: str,
    key,
    at,
    reason_params: dict | None = None,
) -> SurveySkip:
    fields = {
        "contact": contact,
        "project": project,
        "survey": survey,
        "trigger": trigger,
        "reason": reason,
        "at": at,
        "reason_params": reason_params or {},
    }
    if key:
        skip, _created = SurveySkip.objects.get_or_create(dedupe_key=f"skip:{key}", defaults=fields)
        return skip
    return SurveySkip.objects.create(**fields)


def _surveyable_again(contact_id: int) -> datetime | None:
    """When the frequency cap lets the contact be surveyed again (None: it does not hold them)."""
    last = (
        SurveyInvitation.objects.reached(contact_id=contact_id)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if last is None else last + timedelta(days=feedback_setting("FREQUENCY_CAP_DAYS"))


def skip_message(skip: SurveySkip) -> str:
    """Why a survey was not sent, for the person who tried to send it; for the frequency cap,
    also from when (in the current time zone) the contact may be surveyed again."""
    reason = str(skip.get_reason_display())
    if skip.reason != SkipReason.FREQUENCY_CAP:
        return reason
    again = _surveyable_again(skip.contact_id)
    if again is None:
        return reason
    return _("%(reason)s: they can be surveyed again from %(date)s.") % {
        "reason": reason,
        "date": timezone.localtime(again).strftime("%Y-%m-%d %H:%M"),
    }


def invitation_issue_link(*, invitation: SurveyInvitation, at: datetime | None = None) -> str:
    """A new personal link to the invitation; the token is returned and never stored."""
    token = new_token()
    InvitationLink.objects.create(
        invitation=invitation, token_hash=hash_token(token), created_at=at or timezone.now()
    )
    return token


@transaction.atomic
def survey_send(
    *,
    project: FinancingProject,
    contact: Contact,
    survey: Survey,
    trigger: str,
    reason: str = "",
    reason_params: dict | None = None,
    created_by: User | None = None,
    dedupe_key: str | None = None,
    issue_link: bool = False,
    stage: str | None = None,
    at: datetime | None = None,
) -> SendResult:
    """Invite a contact to a survey about a project, unless a rule says not to (recorded as a skip).

    A survey that is not active, or has no questions for the client to answer, is refused on the
    `survey` field; automatic triggers check that first (`unsendable_reason`) and record a skip.

    The invitation is filed under `stage` (the stage a milestone survey asks about), by default
    the project's stage now.

    `reason` is a text typed by a person, kept as typed; automatic triggers give `reason_params`
    instead, which the survey page and email write out in the contact's language
    (`SurveyInvitation.reason_text`). The contact's row is locked so two triggers at once cannot
    both pass the frequency cap; the delivery task emails the invitation after commit.
    """
    at = at or timezone.now()
    if trigger not in Trigger.values:
        raise ValidationError({"trigger": _("Unknown trigger.")})
    if not survey.is_active:
        raise ValidationError({"survey": _("This survey is not active.")})
    if not Question.objects.filter(survey_id=survey.pk).exists():
        raise ValidationError(
            {
                "survey": _(
                    "This survey has no questions, so the client could not answer it. "
                    "An administrator must add its questions before it can be sent."
                )
            }
        )
    # Locking the contact serialises every send to them: the cap and the dedupe key are then
    # checked against committed rows, also when two workers run the same trigger.
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_contact_of_project(project=project, contact=contact)
    if dedupe_key:
        existing = SurveyInvitation.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return SendResult(invitation=existing)
    reason_code = _skip_reason(contact, at=at)
    if reason_code is not None:
        skip = _record_skip(
            contact=contact,
            project=project,
            survey=survey,
            trigger=trigger,
            reason=reason_code,
            key=dedupe_key,
            at=at,
            reason_params=reason_params,
        )
        return SendResult(skip=skip)
    invitation = SurveyInvitation.objects.create(
        project=project,
        contact=contact,
        survey=survey,
        trigger=trigger,
        reason=reason[:300],
        reason_params=reason_params or {},
        stage=stage or project.stage,
        dedupe_key=dedupe_key,
        created_by=created_by,
        created_at=at,
        expires_at=at + timedelta(days=feedback_setting("LINK_DAYS")),
    )
    token = invitation_issue_link(invitation=invitation, at=at) if issue_link else None
    _deliver_after_commit()
    return SendResult(invitation=invitation, token=token)


def _deliver_after_commit() -> None:
    from .tasks import deliver_invitations

    deliver_invitations.delay_on_commit()


@transaction.atomic
def survey_send_milestone(*, transition: StageTransition, at: datetime | None = None) -> list[SendResult]:
    """Milestone surveys to every contact of the client when the project entered a survey stage.

    A survey that was due but cannot go out (the project is on hold or closed, no milestone
    survey is active, or it has no questions) is recorded as a skip per contact, with its
    reason, like any other rule.
    """
    project = transition.project
    if transition.stage not in feedback_setting("MILESTONE_STAGES"):
        return []
    contacts = Contact.objects.filter(client_id=project.client_id).order_by("id")
    survey = active_survey(SurveyKind.MILESTONE)
    blocked = (
        SkipReason.PROJECT_INACTIVE if project.status != ProjectStatus.ACTIVE else unsendable_reason(survey)
    )
    if blocked:
        at = at or timezone.now()
        return [
            SendResult(
                skip=_record_skip(
                    contact=contact,
                    project=project,
                    survey=survey,
                    trigger=Trigger.MILESTONE,
                    reason=blocked,
                    key=f"milestone:{transition.pk}:{contact.pk}",
                    at=at,
                )
            )
            for contact in contacts
        ]
    return [
        survey_send(
            project=project,
            contact=contact,
            survey=survey,
            trigger=Trigger.MILESTONE,
            reason_params={"stage": transition.stage},
            dedupe_key=f"milestone:{transition.pk}:{contact.pk}",
            stage=transition.stage,
            at=at,
        )
        for contact in contacts
    ]


def survey_send_recovery(
    *,
    project: FinancingProject,
    contact: Contact,
    complaint_reference: str,
    at: datetime | None = None,
    dedupe_key: str | None = None,
) -> SendResult:
    """The recovery survey after a complaint was resolved (called by the complaints app); its
    reason names the complaint in the contact's language when shown. When none can go out (no
    recovery survey is active, or it has no questions), that is recorded as a skip.

    The contact was often surveyed recently (the survey whose answer raised the complaint), so
    the frequency cap would usually skip it. It holds the survey back instead: the skip is sent
    by `recovery_surveys_send_held` once the contact may be surveyed again, if that comes
    within RECOVERY_HOLD_DAYS. A held survey sent later (`dedupe_key`) is not held again.
    """
    at = at or timezone.now()
    params = {"complaint": complaint_reference}
    survey = active_survey(SurveyKind.RECOVERY)
    blocked = unsendable_reason(survey)
    if blocked:
        return SendResult(
            skip=_record_skip(
                contact=contact,
                project=project,
                survey=survey,
                trigger=Trigger.RECOVERY,
                reason=blocked,
                key=dedupe_key,
                at=at,
                reason_params=params,
            )
        )
    with transaction.atomic():
        result = survey_send(
            project=project,
            contact=contact,
            survey=survey,
            trigger=Trigger.RECOVERY,
            reason_params=params,
            dedupe_key=dedupe_key,
            at=at,
        )
        skip = result.skip
        if skip is None or skip.reason != SkipReason.FREQUENCY_CAP or dedupe_key:
            return result
        again = _surveyable_again(contact.pk)
        if again is not None and again <= at + timedelta(days=feedback_setting("RECOVERY_HOLD_DAYS")):
            skip.send_at = again
            skip.save(update_fields=["send_at"])
    return result


def recovery_surveys_send_held(*, at: datetime | None = None) -> int:
    """Send the recovery surveys the frequency cap held back whose time has come; returns how
    many were sent. Each is claimed under a row lock and sent once (its deduplication key names
    the skip), so a rerun or a second worker sends nothing more. One the cap still holds (the
    contact was surveyed meanwhile) or that cannot go out is skipped again, with its reason."""
    at = at or timezone.now()
    due = list(
        SurveySkip.objects.filter(send_at__lte=at)
        .order_by("send_at", "id")
        .values_list("pk", flat=True)[: feedback_setting("DELIVERY_BATCH")]
    )
    sent = 0
    for skip_id in due:
        try:
            sent += _send_held_recovery_survey(skip_id, at=at)
        except DatabaseError:
            # One row's failure (rolled back) does not hold up the others; the next run retries it.
            logger.exception("Sending held recovery survey (skip %s) failed", skip_id)
    return sent


def _send_held_recovery_survey(skip_id: int, *, at: datetime) -> bool:
    """Send one held recovery survey, under its row's lock; False when it is gone or skipped."""
    with transaction.atomic():
        skip = (
            SurveySkip.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("project", "contact")
            .filter(pk=skip_id, send_at__isnull=False)
            .first()
        )
        if skip is None:
            return False  # sent or cancelled meanwhile
        skip.send_at = None
        skip.save(update_fields=["send_at"])
        result = survey_send_recovery(
            project=skip.project,
            contact=skip.contact,
            complaint_reference=(skip.reason_params or {}).get("complaint", ""),
            at=at,
            dedupe_key=f"recovery:held:{skip.pk}",
        )
        return result.invitation is not None


def recovery_survey_withdraw(
    *, project: FinancingProject, complaint_reference: str, at: datetime | None = None
) -> int:
    """Withdraw the recovery survey about a complaint that is no longer resolved (reopened): it
    would tell the client the complaint was. One held back by the frequency cap is dropped (a
    skip of its own records why) and one not e-mailed yet is revoked; one already e-mailed stays
    answerable. Its next resolution sends a new one. Returns how many were withdrawn.

    The held rows are locked first, so a worker sending one of them meanwhile has committed its
    invitation when the revocation looks for it."""
    at = at or timezone.now()
    about = {"project": project, "trigger": Trigger.RECOVERY, "reason_params__complaint": complaint_reference}
    held = list(SurveySkip.objects.select_for_update().filter(**about, send_at__isnull=False))
    SurveySkip.objects.filter(pk__in=[skip.pk for skip in held]).update(send_at=None)
    SurveySkip.objects.bulk_create(
        [
            SurveySkip(
                contact_id=skip.contact_id,
                project_id=skip.project_id,
                survey_id=skip.survey_id,
                trigger=Trigger.RECOVERY,
                reason=SkipReason.COMPLAINT_REOPENED,
                reason_params=skip.reason_params,
                at=at,
            )
            for skip in held
        ]
    )
    revoked = _revoke(SurveyInvitation.objects.filter(**about, sent_at__isnull=True), at=at)
    return len(held) + revoked


def _revoke(invitations, *, at: datetime) -> int:
    """Kill the links and reminders of those of `invitations` still live and unanswered."""
    return invitations.filter(revoked_at__isnull=True, responded_at__isnull=True).update(
        revoked_at=at, next_reminder_at=None
    )


def invitation_revoke(*, invitation: SurveyInvitation, at: datetime | None = None) -> SurveyInvitation:
    """Kill the invitation's links and reminders. An answered invitation is refused: its
    answers stand, and there is nothing left to stop."""
    revoked = _revoke(SurveyInvitation.objects.filter(pk=invitation.pk), at=at or timezone.now())
    invitation.refresh_from_db()
    if not revoked and invitation.responded_at is not None:
        raise ValidationError(
            {"__all__": _("This survey has already been answered: there is nothing to revoke.")},
            code="answered",
        )
    return invitation


# --- The survey page -----------------------------------------------------------------------


def invitation_for_token(token: str, *, for_page: bool = True) -> SurveyInvitation | None:
    """The invitation a personal link points to, or None when the link is unknown: one query.

    With `for_page` the project and its RM come along for rendering a page; without, only the
    survey and the contact (its language), which is all a submission needs. Expiry and
    revocation are judged by the caller (answered links get a thank-you page).
    """
    related = ["survey", "contact"]
    if for_page:
        related.append("project__relationship_manager")
    invitations = (
        SurveyInvitation.objects.select_related(*related)
        .filter(links__token_hash=hash_token(token or ""))
        .order_by()[:1]  # the hash is unique: no ORDER BY for the planner to consider
    )
    return next(iter(invitations), None)


# {survey id: (survey.updated_at, questions)}: the questions of a survey rarely change, and a
# change moves the survey's `updated_at`, which the invitation lookup reads anyway.
_questions_cache: dict[int, tuple[datetime, tuple[Question, ...]]] = {}
# {question id: survey id} over the cached surveys: a submitted form names its survey this way.
_survey_of_question: dict[int, int] = {}
_questions_lock = threading.Lock()


def survey_questions(survey: Survey) -> tuple[Question, ...]:
    """The survey's questions in order, read once per process and survey version."""
    cached = _questions_cache.get(survey.pk)
    if cached is not None and cached[0] == survey.updated_at:
        return cached[1]
    questions = tuple(Question.objects.filter(survey_id=survey.pk).order_by("position", "id"))
    with _questions_lock:
        _questions_cache[survey.pk] = (survey.updated_at, questions)
        _survey_of_question.update((question.pk, survey.pk) for question in questions)
    return questions


def survey_questions_forget() -> None:
    """Drop every cached question list (tests that rebuild surveys under a frozen clock)."""
    with _questions_lock:
        _questions_cache.clear()
        _survey_of_question.clear()


def _cached_survey_of(raw: dict[str, str]) -> tuple[int, datetime, tuple[Question, ...]] | None:
    """The cached survey (id, version, questions) that every `q_<id>` field of a form belongs
    to, or None when the form names no question, an unknown one, or several surveys."""
    survey_ids = set()
    for field in raw:
        number = _small_number(field[2:])
        if number is None:
            return None
        survey_ids.add(_survey_of_question.get(number))
    if len(survey_ids) != 1 or None in survey_ids:
        return None
    [survey_id] = survey_ids
    cached = _questions_cache.get(survey_id)
    return None if cached is None else (survey_id, *cached)


def _small_number(text: str) -> int | None:
    """The number `text` spells in at most 18 ASCII digits (a question id, a score), else None.
    Longer ones are refused before `int()`, which raises on thousands of digits."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def invitation_mark_opened(*, invitation: SurveyInvitation, at: datetime | None = None) -> None:
    """Note the first visit; a GET never consumes the link."""
    if invitation.opened_at is None:
        SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=at or timezone.now()
        )


def clean_answers(questions: list[Question], raw: dict[str, str], *, final: bool) -> dict[str, object]:
    """Check submitted answers against the survey; errors are keyed `q_<question id>`.

    `raw` maps form field names to strings. Unknown question ids mean a tampered form.
    """
    by_field = {f"q_{q.pk}": q for q in questions}
    unknown = [name for name in raw if name not in by_field]
    if unknown:
        raise ValidationError({"__all__": _("This form does not match the survey. Please reload the page.")})
    answers: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field, question in by_field.items():
        value = (raw.get(field) or "").strip()
        if not value:
            if final and question.required:
                errors[field] = _("Please answer this question.")
            continue
        if question.scale:
            low, high = question.scale
            score = _small_number(value)
            if score is None or not low <= score <= high:
                errors[field] = _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}
                continue
            answers[str(question.pk)] = score
        elif question.type == QuestionType.CHOICE:
            if value not in question.option_values():
                errors[field] = _("Choose one of the options.")
                continue
            answers[str(question.pk)] = value
        else:
            if len(value) > 4000:
                errors[field] = _("Please keep your answer under 4000 characters.")
                continue
            if "\x00" in value:  # PostgreSQL stores no NUL character, in text or in JSON
                errors[field] = _("Your answer contains a character that cannot be saved. Please retype it.")
                continue
            answers[str(question.pk)] = value
    if errors:
        raise ValidationError(errors)
    return answers


def _closed_error() -> InvitationClosed:
    return InvitationClosed({"__all__": _("This survey has already been answered.")}, code="closed")


def _require_questions(questions: tuple[Question, ...]) -> None:
    """Refuse answers to a survey without questions (they were removed after it was sent): an
    empty response would count as the client's answer in the frequency cap and the metrics."""
    if not questions:
        raise ValidationError({"__all__": _("This survey has no questions to answer.")})


@transaction.atomic
def response_save_draft(
    *,
    invitation: SurveyInvitation,
    raw: dict[str, str],
    language: str = "",
    drop_invalid: bool = False,
    at: datetime | None = None,
) -> SurveyResponse:
    """Keep partial answers, and the language they were typed in, so the contact can come back
    and finish later, in that language.

    With `drop_invalid` (a language switch, which nothing may hold up) answers that do not pass
    are left out instead of refusing the lot; the client meets their errors when submitting.
    """
    at = at or timezone.now()
    questions = survey_questions(invitation.survey)
    _require_questions(questions)
    answers = _valid_answers(questions, raw) if drop_invalid else clean_answers(questions, raw, final=False)
    locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.responded_at is not None or not locked.is_usable(at=at):
        raise _closed_error()
    response, _created = SurveyResponse.objects.update_or_create(
        invitation=locked, defaults={"answers": answers, "language": language}
    )
    return response


def _valid_answers(questions: tuple[Question, ...], raw: dict[str, str]) -> dict[str, object]:
    """The answers in `raw` that pass `clean_answers` one by one (unknown fields are dropped too)."""
    answers: dict[str, object] = {}
    for field, value in raw.items():
        try:
            answers.update(clean_answers(questions, {field: value}, final=False))
        except ValidationError:
            continue
    return answers


def _scores(questions: list[Question], answers: dict[str, object]) -> dict[str, object]:
    scores: dict[str, object] = {"nps": None, "csat": None, "ces": None}
    comments = []
    for question in questions:
        value = answers.get(str(question.pk))
        if value is None:
            continue
        if question.type in (QuestionType.NPS, QuestionType.CSAT, QuestionType.CES):
            scores[question.type] = value if scores[question.type] is None else scores[question.type]
        elif question.type == QuestionType.TEXT:
            comments.append(str(value))
    scores["comment"] = "\n\n".join(comments)
    return scores


def is_detractor_score(*, nps: int | None, csat: int | None, ces: int | None) -> bool:
    return (
        (nps is not None and nps <= DETRACTOR_AT_OR_BELOW[QuestionType.NPS])
        or (csat is not None and csat <= DETRACTOR_AT_OR_BELOW[QuestionType.CSAT])
        or (ces is not None and ces <= DETRACTOR_AT_OR_BELOW[QuestionType.CES])
    )


# The columns a submission writes; a saved draft (same invitation) keeps only its `started_at`.
_SUBMITTED_FIELDS = (
    "answers", "submitted_at", "language", "is_detractor", "categories", "processed_at",
    "nps", "csat", "ces", "comment",
)  # fmt: skip


def _submission_fields(questions, answers: dict[str, object], *, language: str, at: datetime) -> dict:
    scores = _scores(questions, answers)
    return {
        "answers": answers,
        "submitted_at": at,
        "language": language,
        "is_detractor": is_detractor_score(nps=scores["nps"], csat=scores["csat"], ces=scores["ces"]),
        "categories": [],
        "processed_at": None,
        **scores,
    }


def _response_columns():
    """Every column of a response row but its id and invitation (those come from the claim)."""
    return [f for f in SurveyResponse._meta.concrete_fields if f.column not in ("id", "invitation_id")]


@functools.cache
def _submission_sql(*, by_link: bool) -> str:
    """One statement that claims the invitation and stores its response (PostgreSQL).

    The claim is a compare-and-set UPDATE: of any number of concurrent submissions, exactly one
    finds the invitation open; the INSERT then reads only that claimed row, so the others store
    nothing. `by_link` also finds the invitation from the link's hash, checks that the answers
    were checked against the survey's current version, and takes the contact's language.
    The claim writes only `responded_at`, which no index names, so PostgreSQL rewrites the
    invitation in its page (a HOT update, the table keeps room for it) and touches no index.
    """
    invitation, link = SurveyInvitation._meta.db_table, InvitationLink._meta.db_table
    response, survey = SurveyResponse._meta.db_table, Survey._meta.db_table
    contact = Contact._meta.db_table
    columns = [field.column for field in _response_columns()]
    updated = [SurveyResponse._meta.get_field(name).column for name in _SUBMITTED_FIELDS]
    values = [
        "COALESCE(%(language)s, target.language)" if by_link and column == "language" else f"%({column})s"
        for column in columns
    ]
    target = (
        f"""target AS (
            SELECT i.id, c.language FROM {link} l
            JOIN {invitation} i ON i.id = l.invitation_id
            JOIN {survey} s ON s.id = i.survey_id
            JOIN {contact} c ON c.id = i.contact_id
            WHERE l.token_hash = %(token_hash)s AND i.survey_id = %(survey_id)s
              AND s.updated_at = %(survey_version)s
        ),"""
        if by_link
        else "target AS (SELECT %(invitation_id)s::bigint AS id),"
    )
    return f"""
        WITH {target}
        claimed AS (
            UPDATE {invitation} SET responded_at = %(at)s
            WHERE id = (SELECT id FROM target) AND responded_at IS NULL AND revoked_at IS NULL
              AND expires_at > %(at)s
            RETURNING id
        )
        INSERT INTO {response} (invitation_id, {", ".join(columns)})
        SELECT claimed.id, {", ".join(values)} FROM claimed, target
        ON CONFLICT (invitation_id) DO UPDATE SET
            {", ".join(f"{column} = EXCLUDED.{column}" for column in updated)}
        RETURNING {"id, invitation_id, language" if by_link else "id, invitation_id, language, started_at"}
    """


@functools.cache
def _unsubmitted_columns() -> dict[str, object]:
    """The database values of the columns a submission leaves at their default."""
    return {
        field.column: field.get_db_prep_save(field.get_default(), connection)
        for field in _response_columns()
        if field.name not in _SUBMITTED_FIELDS and field.name != "started_at"
    }


@contextmanager
def _preparable_cursor():
    """A cursor whose statements PostgreSQL can keep prepared on this connection.

    The ORM binds parameters on the client, so PostgreSQL plans every statement again; for the
    submission statement (a handful of joins, an update and an upsert) planning costs as much
    as running it. This cursor binds them on the server instead, so psycopg prepares it once
    the connection has run it `prepare_threshold` times (DATABASES OPTIONS; None, Django's
    default, prepares nothing). It is wrapped like every Django cursor, so it is logged,
    counted in tests and its errors are Django's.

    It skips the connection health check (CONN_HEALTH_CHECKS, a `SELECT 1` round trip before a
    request's first query): `_run_submission` finds a dead connection by its failure instead.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the `connection` proxy
    db.validate_thread_sharing()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = ServerBindingCursor(db.connection)
    with (db.make_debug_cursor if db.queries_logged else db.make_cursor)(cursor) as wrapped:
        yield wrapped


def _run_submission(sql: str, params: dict) -> tuple | None:
    """The submission statement's row (None: nothing stored), on a connection known to work.

    Outside a transaction the statement is its own commit, so when the connection turns out
    dead (the database restarted since the last request), it runs once more on a new one. That
    is safe even if the first run committed before the connection broke: the claim then finds
    the invitation answered and stores nothing, and the client gets the thank-you page.
    """

    def run():
        with _preparable_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    try:
        return run()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or connection.is_usable():
            raise  # a real error, or a transaction the new connection would not continue
        logger.warning("Database connection lost before a survey submission; reconnecting")
        connection.close()
        return run()


@functools.cache
def _submitted_columns() -> tuple[tuple[str, str, object], ...]:
    """(field name, column, field) of what a submission writes."""
    meta = SurveyResponse._meta
    return tuple((name, meta.get_field(name).column, meta.get_field(name)) for name in _SUBMITTED_FIELDS)


def _store_submission(fields: dict, *, at: datetime, **target) -> tuple | None:
    """Run `_submission_sql` in autocommit (one round trip, no BEGIN/COMMIT); its row (id,
    invitation id, language, and by invitation the response's `started_at`), or None when the
    invitation was not open (or, by link, not found or the survey changed)."""
    db = connections[DEFAULT_DB_ALIAS]
    params = {
        **_unsubmitted_columns(),
        **{column: field.get_db_prep_save(fields[name], db) for name, column, field in _submitted_columns()},
        "started_at": at,
        **target,
        "at": at,
    }
    return _run_submission(_submission_sql(by_link="token_hash" in target), params)


class StoredSubmission(NamedTuple):
    """A submission just stored from a link: what the client's next page needs, read from the
    statement's row (building the whole response would cost the page more than its SQL)."""

    response_id: int
    invitation_id: int
    language: str


def response_submit_for_link(
    *, token: str, raw: dict[str, str], language: str | None = None, at: datetime | None = None
) -> StoredSubmission | SurveyResponse | None:
    """Store the answers sent from a personal link when they can be: the link is open and the
    answers are complete and valid. Returns what was stored, or None (nothing stored):
    the caller then takes `invitation_for_token` and `response_submit`, which tell the client
    why, in their language.

    On PostgreSQL, with the survey's current questions cached here, this is one statement;
    otherwise the link is looked up first (another database, a survey not cached yet or edited
    since).
    """
    at = at or timezone.now()
    cached = _cached_survey_of(raw) if connection.vendor == "postgresql" else None
    if cached is None:
        return _submit_looked_up(token=token, raw=raw, language=language, at=at)
    survey_id, survey_version, questions = cached
    try:
        answers = clean_answers(questions, raw, final=True)
    except ValidationError:
        return None
    row = _store_submission(
        _submission_fields(questions, answers, language=language, at=at),
        at=at,
        token_hash=hash_token(token),
        survey_id=survey_id,
        survey_version=survey_version,
        language=language,
    )
    if row is None:
        return None
    transaction.on_commit(_process_soon, robust=True)
    return StoredSubmission(*row)


def _submit_looked_up(*, token: str, raw: dict[str, str], language: str | None, at: datetime):
    invitation = invitation_for_token(token, for_page=False)
    if invitation is None or invitation.responded_at is not None or not invitation.is_usable(at=at):
        return None
    try:
        return response_submit(
            invitation=invitation, raw=raw, language=language or invitation.contact.language, at=at
        )
    except ValidationError:  # InvitationClosed included
        return None


def response_submit(
    *,
    invitation: SurveyInvitation,
    raw: dict[str, str],
    language: str = "",
    at: datetime | None = None,
    process_now: bool = False,
) -> SurveyResponse:
    """Submit the answers once. The invitation is claimed with a compare-and-set UPDATE, so of
    any number of concurrent submissions exactly one is stored; the others get InvitationClosed.

    This stores the answers and scores and nothing else, so the client's page answers at once.
    Tagging the comment, the detractor alert and the hooks (`response_process`) run on a worker
    soon after the commit (`_process_soon`); `process_now` runs them in this transaction
    instead (bulk loads).
    """
    at = at or timezone.now()
    questions = survey_questions(invitation.survey)
    _require_questions(questions)
    answers = clean_answers(questions, raw, final=True)
    fields = _submission_fields(questions, answers, language=language, at=at)
    with transaction.atomic() if process_now or connection.vendor != "postgresql" else nullcontext():
        if connection.vendor == "postgresql":
            row = _store_submission(fields, at=at, invitation_id=invitation.pk)
            response = None if row is None else _stored_response(fields, row)
        else:
            response = _claim_and_upsert(invitation, fields, at=at)
        if response is None:
            raise _closed_error()
        invitation.responded_at = at
        response.invitation = invitation
        if process_now:
            return response_process(response_id=response.pk, at=at) or response
    transaction.on_commit(_process_soon, robust=True)
    return response


def _stored_response(fields: dict, row: tuple) -> SurveyResponse:
    response_id, invitation_id, language, started_at = row
    stored = SurveyResponse(
        **{**fields, "language": language}, id=response_id, invitation_id=invitation_id, started_at=started_at
    )
    stored._state.adding = False
    return stored


def _claim_and_upsert(invitation: SurveyInvitation, fields: dict, *, at: datetime) -> SurveyResponse | None:
    """`_submission_sql` for other databases: the claim, then one upsert, in the caller's transaction."""
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, responded_at__isnull=True, revoked_at__isnull=True, expires_at__gt=at
    ).update(responded_at=at)
    if not claimed:
        return None
    [response] = SurveyResponse.objects.bulk_create(
        [SurveyResponse(invitation_id=invitation.pk, started_at=at, **fields)],
        update_conflicts=True,
        unique_fields=["invitation"],
        update_fields=list(fields),
    )
    return response


# When this process last asked a worker to process responses (`time.time()` of the run it asked for).
_processing_asked_for = 0.0


def _process_soon() -> None:
    """Wake a worker to process the responses just stored, with at most one message per
    process and PROCESSING_DELAY_SECONDS, however many clients answer meanwhile.

    The message is scheduled that far ahead, so the run it asks for comes after every commit
    in between, and each run takes all pending responses in bulk. A message that cannot be
    sent is logged: the response is stored, and the periodic sweep processes it.
    """
    global _processing_asked_for
    now = time.time()
    if now < _processing_asked_for:
        return  # the run already asked for comes after this commit
    from .tasks import process_pending_responses

    delay = feedback_setting("PROCESSING_DELAY_SECONDS")
    process_pending_responses.apply_async(countdown=delay)
    _processing_asked_for = now + delay


def processing_schedule_forget() -> None:
    """Forget the run already asked for (tests, where each test is a new start)."""
    global _processing_asked_for
    _processing_asked_for = 0.0


@transaction.atomic
def response_process(*, response_id: int, at: datetime | None = None) -> SurveyResponse | None:
    """The work after a submission: tag the comment with failure categories, raise the detractor
    alert, then (after commit) call the RESPONSE_HOOKS.

    Claimed with a compare-and-set UPDATE, so a redelivered task or a second worker does nothing;
    returns None then. A failure rolls the claim back and the sweep tries again.
    """
    at = at or timezone.now()
    claimed = SurveyResponse.objects.filter(
        pk=response_id, submitted_at__isnull=False, processed_at__isnull=True
    ).update(processed_at=at)
    if not claimed:
        return None
    response = SurveyResponse.objects.select_related(
        "invitation__contact", "invitation__project__relationship_manager"
    ).get(pk=response_id)
    if response.categories_edited_at is None:
        categories = lexicon.categorise(response.comment)
        if categories != response.categories:
            SurveyResponse.objects.filter(pk=response_id).update(categories=categories)
            response.categories = categories
    # Once the RM has called the client back (possibly before this ran), nothing is left to alert.
    if response.followed_up_at is None:
        if response.is_detractor:
            _raise_detractor_alert(response, at=response.submitted_at)
        elif asks_to_be_contacted(response):
            # A satisfied client who asks for a call is not a complaint, but someone must call.
            _raise_contact_request_alert(response, at=response.submitted_at)
    for hook in RESPONSE_HOOKS:
        # robust: a failing hook is logged and the others still run.
        transaction.on_commit(lambda hook=hook: hook(response), robust=True)
    return response


def responses_process_pending(*, at: datetime | None = None, batch: int = 200) -> int:
    """Process every submitted response not processed yet; returns how many were.

    What `_process_soon` asks a worker to do, and the periodic sweep's safety net for a lost
    message. Detractors go first, so their alert reaches the RM within seconds even behind a
    backlog. Each response is its own transaction, and one failure never stalls the rest (it
    stays pending, for the next run).
    """
    at = at or timezone.now()
    pending = SurveyResponse.objects.filter(submitted_at__isnull=False, processed_at__isnull=True)
    processed, failed = 0, set()
    while True:
        ids = list(
            pending.exclude(pk__in=failed)
            .order_by("-is_detractor", "submitted_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return processed
        for response_id in ids:
            try:
                processed += response_process(response_id=response_id, at=at) is not None
            except Exception:  # logged with its traceback; the row stays pending for the next run
                logger.exception("Survey response %s could not be processed", response_id)
                failed.add(response_id)


def _alert_message(response: SurveyResponse) -> str:
    # The message names the subject (data, the same in both languages); the alert kind's label
    # around it is translated where the alert is shown.
    invitation = response.invitation
    scores = ", ".join(
        f"{label} {value}"
        for label, value in (("NPS", response.nps), ("CSAT", response.csat), ("CES", response.ces))
        if value is not None
    )
    return f"{invitation.contact.name} · {invitation.project.code} {invitation.project.name} · {scores}"


def _raise_response_alert(response: SurveyResponse, *, kind: str, severity: str, at: datetime) -> None:
    from finance_projects.alerts import alert_raise

    project = response.invitation.project
    alert_raise(
        kind=kind,
        severity=severity,
        project=project,
        subject_type=RESPONSE_ALERT_SUBJECT,
        subject_id=response.pk,
        message=_alert_message(response),
        assignee=project.relationship_manager,
        at=at,
    )


def _raise_detractor_alert(response: SurveyResponse, *, at: datetime) -> None:
    critical = response.nps is not None and response.nps <= CRITICAL_NPS_AT_OR_BELOW
    severity = AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING
    _raise_response_alert(response, kind=AlertKind.DETRACTOR_RESPONSE, severity=severity, at=at)


def _raise_contact_request_alert(response: SurveyResponse, *, at: datetime) -> None:
    _raise_response_alert(response, kind=AlertKind.CONTACT_REQUEST, severity=AlertSeverity.WARNING, at=at)


@transaction.atomic
def contact_opt_out(*, invitation: SurveyInvitation, at: datetime | None = None) -> Contact:
    """The contact asked for no more surveys: no reminder and no new invitation will go out."""
    Contact.objects.filter(pk=invitation.contact_id).update(opted_out=True)
    SurveyInvitation.objects.filter(contact_id=invitation.contact_id, responded_at__isnull=True).update(
        next_reminder_at=None
    )
    return Contact.objects.get(pk=invitation.contact_id)


# --- After the response --------------------------------------------------------------------


@transaction.atomic
def response_record_follow_up(
    *, response: SurveyResponse, by: User, contacted_at: datetime, outcome: str, at: datetime | None = None
) -> SurveyResponse:
    """The RM called the client back; recording it closes the response's alert (a detractor's,
    or a contact request's).

    Every follow-up is kept (`SurveyFollowUp`); the response's own follow-up columns show the
    latest conversation (the latest `contacted_at`), so one recorded afterwards about an earlier
    call joins the history without replacing it. Each is logged on the project as a touchpoint
    that keeps the client informed (channel survey_follow_up), which moves the next-update
    deadline. The same follow-up sent twice in a row (a double click, a retried request) is
    recorded, and logged, once."""
    at = at or timezone.now()
    response = (
        SurveyResponse.objects.select_for_update().select_related("invitation__project").get(pk=response.pk)
    )
    if response.submitted_at is None:
        raise ValidationError({"response": _("The survey has not been submitted yet.")})
    if not outcome.strip():
        raise ValidationError({"outcome": _("Say what came out of the conversation.")})
    if contacted_at is None or contacted_at > at + timedelta(minutes=5):
        raise ValidationError({"contacted_at": _("The client cannot be contacted in the future.")})
    # Times are typed to the minute: a call in the minute of the response is after it.
    if contacted_at < response.submitted_at.replace(second=0, microsecond=0):
        raise ValidationError({"contacted_at": _("The follow-up cannot be before the response.")})
    outcome = outcome.strip()
    # The response's row is locked above, so two requests cannot both miss each other here.
    last = response.follow_ups.order_by("-recorded_at", "-id").first()
    repeated = last is not None and (last.by_id, last.contacted_at, last.outcome) == (
        by.pk,
        contacted_at,
        outcome,
    )
    if not repeated:
        invitation = response.invitation
        # A conversation with the client: it keeps them informed, like any other update.
        touchpoint = touchpoint_log(
            project=invitation.project,
            contact=invitation.contact,
            channel=TouchpointChannel.SURVEY_FOLLOW_UP,
            occurred_at=contacted_at,
            # The follow-up keeps the whole outcome; the touchpoint's summary holds as much as fits.
            summary=Truncator(outcome).chars(NOTE_MAX_CHARS),
            logged_by=by,
            is_client_update=True,
        )
        SurveyFollowUp.objects.create(
            response=response,
            by=by,
            contacted_at=contacted_at,
            outcome=outcome,
            recorded_at=at,
            touchpoint=touchpoint,
        )
        if response.followed_up_at is None or contacted_at >= response.followed_up_at:
            response.followed_up_at = contacted_at
            response.followed_up_by = by
            response.follow_up_outcome = outcome
            response.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_outcome"])
    from finance_projects.alerts import alerts_resolve

    for kind in (AlertKind.DETRACTOR_RESPONSE, AlertKind.CONTACT_REQUEST):
        alerts_resolve(kind=kind, subject_type=RESPONSE_ALERT_SUBJECT, subject_id=response.pk, at=at)
    return response


def response_set_categories(
    *, response: SurveyResponse, categories: list[str], by: User, at: datetime | None = None
) -> SurveyResponse:
    """The RM's correction of the failure categories; kept as the truth from then on."""
    unknown = [category for category in categories if category not in FailureCategory.values]
    if unknown:
        raise ValidationError(
            {"categories": _("Unknown category: %(value)s.") % {"value": ", ".join(unknown)}}
        )
    ordered = [category for category in FailureCategory.values if category in set(categories)]
    at = at or timezone.now()
    SurveyResponse.objects.filter(pk=response.pk).update(
        categories=ordered, categories_edited_by=by, categories_edited_at=at
    )
    response.categories, response.categories_edited_by, response.categories_edited_at = ordered, by, at
    return response


def responses_reanalyse(*, responses) -> int:
    """Run the comment lexicon again on responses nobody corrected by hand; returns how many changed."""
    changed = []
    for response in responses.filter(categories_edited_at__isnull=True, submitted_at__isnull=False).only(
        "id", "comment", "categories"
    ):
        categories = lexicon.categorise(response.comment)
        if categories != response.categories:
            response.categories = categories
            changed.append(response)
    SurveyResponse.objects.bulk_update(changed, ["categories"], batch_size=500)
    return len(changed)
