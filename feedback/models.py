"""Satisfaction surveys sent to client contacts through personal links, their answers, and the
follow-up on every bad score."""

from contextlib import nullcontext
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from finance_projects.models import Contact, FinancingProject, Stage

from .conf import feedback_setting


class SurveyKind(models.TextChoices):
    RELATIONSHIP = "relationship", _("Relationship survey")
    MILESTONE = "milestone", _("Milestone survey")
    RECOVERY = "recovery", _("Recovery survey")
    CUSTOM = "custom", _("Custom survey")


class QuestionType(models.TextChoices):
    NPS = "nps", _("Likelihood to recommend (0–10)")
    CSAT = "csat", _("Satisfaction (1–5)")
    CES = "ces", _("Ease (1–7)")
    CHOICE = "choice", _("Single choice")
    TEXT = "text", _("Free text")


# The scale of every scored question type: (lowest, highest).
SCALES = {QuestionType.NPS: (0, 10), QuestionType.CSAT: (1, 5), QuestionType.CES: (1, 7)}

# Marks the single-choice option by which a client asks their RM to get in touch, as its fourth
# part ("yes|是的，请联系我|Yes, please contact me|contact_request"): unlike the option's value or
# labels, the mark survives the option being reworded or translated in the admin.
CONTACT_REQUEST_FLAG = "contact_request"

# A score at or below these marks a detractor who must be called back.
DETRACTOR_AT_OR_BELOW = {QuestionType.NPS: 6, QuestionType.CSAT: 2, QuestionType.CES: 3}
# The top box of each scale, as the metrics count it: promoters 9–10, satisfied 4–5, easy 5–7.
TOP_BOX_FROM = {QuestionType.NPS: 9, QuestionType.CSAT: 4, QuestionType.CES: 5}
CRITICAL_NPS_AT_OR_BELOW = 3


def bilingual(zh: str, en: str, language: str | None = None) -> str:
    """The text in `language` (the active one by default), else in the other."""
    language = language or get_language() or "zh-hans"
    if language.startswith("en"):
        return en or zh
    return zh or en


class Survey(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=SurveyKind.choices, default=SurveyKind.CUSTOM)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    intro_zh = models.TextField(_("introduction (Chinese)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Moves whenever the survey or its questions change (the admin saves both together); web
    # processes key their copy of the questions on it, see `services.survey_questions`.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SurveyKind.values), name="survey_kind_valid"),
        ]

    def __str__(self):
        return self.name()

    def name(self, language: str | None = None) -> str:
        return bilingual(self.name_zh, self.name_en, language)

    def intro(self, language: str | None = None) -> str:
        return bilingual(self.intro_zh, self.intro_en, language)


class Question(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=8, choices=QuestionType.choices)
    text_zh = models.CharField(_("question (Chinese)"), max_length=400)
    text_en = models.CharField(_("question (English)"), max_length=400)
    # For single-choice questions: one option per line, "value|中文|English", and a fourth part
    # CONTACT_REQUEST_FLAG on the option that asks to be contacted.
    choices = models.TextField(
        _("options"),
        blank=True,
        help_text=_(
            "One per line: value|中文|English. Add |contact_request to the option by which the "
            "client asks the relationship manager to get in touch."
        ),
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=QuestionType.values), name="question_type_valid"),
        ]

    def __str__(self):
        return self.text()

    def text(self, language: str | None = None) -> str:
        return bilingual(self.text_zh, self.text_en, language)

    def clean(self):
        # A survey is answered by clients nobody can call to explain: a question that cannot be
        # answered must not be saved (a required choice without options blocks every submission).
        if self.type != QuestionType.CHOICE:
            if self.choices.strip():
                raise ValidationError({"choices": _("Only single-choice questions have options.")})
            return
        values = [line.split("|", 1)[0].strip() for line in self.choices.splitlines() if line.strip()]
        if any(not value for value in values):
            raise ValidationError({"choices": _("Every option needs a value before the first |.")})
        if len(set(values)) != len(values):
            raise ValidationError({"choices": _("Two options have the same value.")})
        if len(values) < 2:
            raise ValidationError({"choices": _("A single-choice question needs at least two options.")})

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCALES.get(self.type)

    def option_values(self) -> set[str]:
        """The values a single-choice answer may take (no labels, so no language needed)."""
        return {value for line in self.choices.splitlines() if (value := line.split("|", 1)[0].strip())}

    def contact_request_values(self) -> set[str]:
        """The values of the options flagged as a request to be contacted."""
        values = set()
        for line in self.choices.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if parts[0] and CONTACT_REQUEST_FLAG in parts[3:]:
                values.add(parts[0])
        return values

    def options(self, language: str | None = None) -> list[tuple[str, str]]:
        options = []
        for line in self.choices.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if parts and parts[0]:
                zh = parts[1] if len(parts) > 1 else parts[0]
                en = parts[2] if len(parts) > 2 else zh
                options.append((parts[0], bilingual(zh, en, language)))
        return options


class Trigger(models.TextChoices):
    MILESTONE = "milestone", _("Project milestone")
    RELATIONSHIP = "relationship", _("Regular relationship check")
    RECOVERY = "recovery", _("After a complaint was resolved")
    MANUAL = "manual", _("Sent by the relationship manager")
    DEMO = "demo", _("Demonstration")


class SurveyInvitationQuerySet(models.QuerySet):
    def reached(self, **filters):
        """Invitations that count as asking the contact (the frequency cap): all but those that
        never reached them and never will, revoked before they were e-mailed or given up after
        MAX_SEND_ATTEMPTS failed deliveries. One still waiting for delivery counts."""
        return (
            self.filter(**filters)
            .exclude(revoked_at__isnull=False, sent_at__isnull=True)
            .exclude(send_attempts__gte=feedback_setting("MAX_SEND_ATTEMPTS"), sent_at__isnull=True)
        )


class SurveyInvitation(models.Model):
    """One survey sent to one contact about one project.

    Scans and services write the row; the delivery task emails it (the outbox). Every email
    carries a fresh personal link (`InvitationLink`), so only token hashes are ever stored.
    """

    # Both looked up through the "recent" indexes below, which lead with them.
    project = models.ForeignKey(
        FinancingProject,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        db_index=False,
    )
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="invitations"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    # As the RM typed it; automatic triggers leave it blank and store `reason_params` instead.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # What an automatic trigger's reason is made of ({"stage": "credit_approval"} for a milestone,
    # {"complaint": "CP-2026-000042"} for a recovery survey): the sentence is written when it is
    # shown, in the contact's language, see `reason_text`.
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    # The project's stage when the survey was sent, for metrics by stage.
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    # Set by automatic triggers so that reruns and concurrent workers create it once.
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("emailed at"), null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminder_at = models.DateTimeField(_("last reminder at"), null=True, blank=True)
    # Left as it was when the contact answers (the reminder run clears it once due), so that a
    # response changes no indexed column and PostgreSQL updates the row in place.
    next_reminder_at = models.DateTimeField(_("next reminder due"), null=True, blank=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = SurveyInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="invitation_trigger_valid"),
            models.CheckConstraint(
                condition=Q(reminders_sent__lte=2), name="invitation_at_most_two_reminders"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="invitation_unsent", condition=Q(sent_at__isnull=True)),
            # No index names `responded_at`: answering updates only that column, which keeps
            # the update a heap-only (HOT) one that touches none of the indexes.
            models.Index(
                fields=["next_reminder_at"],
                name="invitation_reminder_due",
                condition=Q(next_reminder_at__isnull=False),
            ),
            models.Index(fields=["contact", "-created_at"], name="invitation_contact_recent"),
            models.Index(fields=["project", "-created_at"], name="invitation_project_recent"),
        ]

    def __str__(self):
        return f"{self.survey} → {self.contact.name}"

    def is_usable(self, *, at: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (at or timezone.now())

    def reason_text(self, language: str | None = None) -> str:
        """Why the contact is asked, in `language` (the active one when None); "" when no reason
        was given. A reason typed by the RM is shown as typed."""
        params = self.reason_params or {}
        with translation.override(language) if language else nullcontext():
            if params.get("stage") in Stage.values:
                stage = Stage(params["stage"]).label
                return gettext("The project entered the stage “%(stage)s”.") % {"stage": stage}
            if params.get("complaint"):
                return gettext("Your complaint %(ref)s has been resolved.") % {"ref": params["complaint"]}
        return self.reason

    def intro_text(self, language: str | None = None) -> str:
        """The survey's introduction in `language`, or "" when it would tell of an event this
        invitation did not follow: the milestone and recovery surveys introduce themselves with
        a new stage or a resolved complaint, which a survey sent by hand has not had."""
        own = {
            SurveyKind.MILESTONE: (Trigger.MILESTONE, "stage"),
            SurveyKind.RECOVERY: (Trigger.RECOVERY, "complaint"),
        }
        trigger, event = own.get(self.survey.kind, (None, None))
        if (
            event
            and self.trigger not in (trigger, Trigger.DEMO)
            and not (self.reason_params or {}).get(event)
        ):
            return ""
        return self.survey.intro(language)


class InvitationLink(models.Model):
    """A personal link `/s/<token>/` to an invitation; only the token's SHA-256 is stored.

    Each email (and a manual send) issues its own token, shown exactly once, so the invitation
    and both reminders work without the server ever keeping a token it could leak.
    """

    invitation = models.ForeignKey(
        SurveyInvitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="links"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey link")
        verbose_name_plural = _("survey links")

    def __str__(self):
        return f"{self.invitation_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class SurveyResponse(models.Model):
    """The answers to one invitation: a draft while `submitted_at` is empty, then final.

    The scores are copied out of `answers` into columns so metrics are plain SQL aggregates.
    """

    invitation = models.OneToOneField(
        SurveyInvitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="response"
    )
    # {"<question id>": value}; scores as integers, choices and text as strings.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS score"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("CSAT score"), null=True, blank=True)
    ces = models.PositiveSmallIntegerField(_("CES score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    is_detractor = models.BooleanField(_("detractor"), default=False)
    categories = models.JSONField(_("failure categories"), default=list, blank=True)
    # The work after a submission (tagging the comment, the detractor alert, other apps' hooks)
    # runs on a worker; this is set when it is done, so nothing is processed twice or forgotten.
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    categories_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("categories edited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: a new response adds no entry
    )
    categories_edited_at = models.DateTimeField(_("categories edited at"), null=True, blank=True)
    # Closing the loop with a detractor.
    followed_up_at = models.DateTimeField(_("client contacted at"), null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contacted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: a new response adds no entry
    )
    follow_up_outcome = models.TextField(_("outcome of the follow-up"), blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="response_nps_0_10"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="response_csat_1_5"
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7), name="response_ces_1_7"
            ),
        ]
        indexes = [
            models.Index(fields=["submitted_at"], name="response_detractor", condition=Q(is_detractor=True)),
            models.Index(
                fields=["submitted_at"],
                name="response_unprocessed",
                condition=Q(submitted_at__isnull=False, processed_at__isnull=True),
            ),
            # For deleting a user (SET_NULL); only responses someone worked on are indexed.
            models.Index(
                fields=["categories_edited_by"],
                name="response_categories_editor",
                condition=Q(categories_edited_by__isnull=False),
            ),
            models.Index(
                fields=["followed_up_by"],
                name="response_followed_up_by",
                condition=Q(followed_up_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.invitation}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def categories_edited(self) -> bool:
        return self.categories_edited_at is not None


class SurveyFollowUp(models.Model):
    """One conversation with the client about their response, as it was recorded: every one is
    kept. The response's own follow-up columns (`followed_up_at`, `followed_up_by`,
    `follow_up_outcome`) repeat the latest of them, the one with the latest `contacted_at`, for
    the filters, metrics and lists that read them; `services.response_record_follow_up` writes
    both together."""

    response = models.ForeignKey(
        SurveyResponse,
        verbose_name=_("survey response"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
        db_index=False,  # the index below leads with it
    )
    contacted_at = models.DateTimeField(_("client contacted at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contacted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below
    )
    outcome = models.TextField(_("outcome of the follow-up"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # The conversation as logged on the project (it counts as keeping the client informed).
    touchpoint = models.OneToOneField(
        "finance_projects.Touchpoint",
        verbose_name=_("touchpoint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("survey follow-up")
        verbose_name_plural = _("survey follow-ups")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(fields=["response", "-contacted_at"], name="followup_response_recent"),
            # For deleting a user (SET_NULL).
            models.Index(fields=["by"], name="followup_by", condition=Q(by__isnull=False)),
        ]

    def __str__(self):
        return f"{self.response_id} @ {self.contacted_at:%Y-%m-%d %H:%M}"


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("Contact opted out of surveys")
    FREQUENCY_CAP = "frequency_cap", _("Contact was surveyed recently")
    NO_EMAIL = "no_email", _("Contact has no email address")
    SURVEY_MISSING = "survey_missing", _("No active survey of this kind")
    SURVEY_EMPTY = "survey_empty", _("Survey has no questions")
    PROJECT_INACTIVE = "project_inactive", _("Project is not active")
    # A recovery survey held back by the frequency cap, dropped when its complaint was reopened.
    COMPLAINT_REOPENED = "complaint_reopened", _("The complaint was reopened")


class SurveySkip(models.Model):
    """A survey that was not sent, and why: the frequency cap and opt-outs stay auditable."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="+"
    )
    # Empty when no survey of the kind was active, and once its survey is deleted: the skip
    # (who, why, when) is the audit trail and outlives the survey.
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices)
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, null=True, blank=True, unique=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # What the survey would have said it follows, as on an invitation ({"complaint": ...} for a
    # recovery survey), so that a held survey is sent later with its reason.
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    # A recovery survey held back by the frequency cap is sent from this time, when the contact
    # may be surveyed again; cleared once it is sent (or skipped again).
    send_at = models.DateTimeField(_("to be sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("skipped survey")
        verbose_name_plural = _("skipped surveys")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["send_at"], name="skip_held_due", condition=models.Q(send_at__isnull=False))
        ]

    def __str__(self):
        return f"{self.contact_id}: {self.get_reason_display()}"
