"""Complaints on the regulator's clock: SLA policies, the complaint itself, its immutable
timeline, service-recovery actions, follow-up visits, client links and the case library."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cem.validators import validate_time_zone
from finance_projects.models import NOTE_MAX_CHARS, ClientLink, Currency, FailureCategory, RootCause

from . import deadlines


class Calendar(models.TextChoices):
    CHINA = deadlines.CALENDAR_CHINA, _("Mainland China (holidays and make-up working days)")
    UK = deadlines.CALENDAR_UK, _("United Kingdom (England bank holidays)")


# Follow-up visits a policy may schedule after a resolution, each at most a year on.
MAX_FOLLOWUP_VISITS, MAX_FOLLOWUP_DAY = 10, 365


def validate_followup_days(value) -> None:
    days_ok = isinstance(value, list) and len(value) <= MAX_FOLLOWUP_VISITS
    if not days_ok or not all(
        isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= MAX_FOLLOWUP_DAY for day in value
    ):
        raise ValidationError(
            _("Up to %(visits)d days after the resolution, each from 1 to %(days)d, as a list: [7, 30].")
            % {"visits": MAX_FOLLOWUP_VISITS, "days": MAX_FOLLOWUP_DAY},
            code="invalid",
        )


class SlaPolicy(models.Model):
    """The clock a complaint runs on. Seeded with the Chinese regulator's rule and the UK FCA
    DISP preset; operations staff edit them in the admin."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    calendar = models.CharField(_("holiday calendar"), max_length=8, choices=Calendar.choices)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    ack_business_days = models.PositiveSmallIntegerField(
        _("acknowledge within (business days)"), default=1, validators=[MinValueValidator(1)]
    )
    resolve_days = models.PositiveSmallIntegerField(
        _("decide within (days)"), validators=[MinValueValidator(1)]
    )
    resolve_in_business_days = models.BooleanField(_("decision days are business days"), default=False)
    roll_past_holidays = models.BooleanField(
        _("a deadline falling on a holiday moves to the next working day"), default=False
    )
    first_extension_to_days = models.PositiveSmallIntegerField(
        _("a complex complaint may be extended to (days)"),
        help_text=_("Equal to the decision days when the policy allows no extension."),
    )
    max_days = models.PositiveSmallIntegerField(
        _("never more than (days)"),
        help_text=_("A second extension, with a manager's approval, may reach this limit."),
    )
    summary_business_days = models.PositiveSmallIntegerField(
        _("summary resolution by close of business day"), null=True, blank=True
    )
    warn_fraction = models.DecimalField(
        _("warn when this share of the time is used"), max_digits=3, decimal_places=2, default=Decimal("0.80")
    )
    compensation_approval_above = models.DecimalField(
        _("compensation above this needs a manager's approval"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("10000.00"),
        validators=[MinValueValidator(0)],
    )
    compensation_currency = models.CharField(
        _("currency of that limit"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    followup_days = models.JSONField(
        _("follow-up visits after resolution (days)"),
        default=list,
        blank=True,
        validators=[validate_followup_days],
    )
    is_default = models.BooleanField(_("default for new complaints"), default=False)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_sla"
            ),
            models.CheckConstraint(
                condition=Q(resolve_days__lte=F("first_extension_to_days"))
                & Q(first_extension_to_days__lte=F("max_days")),
                name="sla_extension_limits_ordered",
                violation_error_message=_(
                    "The decision days, the extension and the limit must each be at least the one before."
                ),
            ),
            models.CheckConstraint(
                condition=Q(warn_fraction__gt=0) & Q(warn_fraction__lt=1),
                name="sla_warn_fraction_0_1",
                violation_error_message=_("The share of the time must be between 0 and 1."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def allows_extension(self) -> bool:
        return self.max_days > self.resolve_days

    def rules(self) -> deadlines.Rules:
        return deadlines.Rules(
            calendar=self.calendar,
            timezone=self.timezone,
            ack_business_days=self.ack_business_days,
            resolve_days=self.resolve_days,
            resolve_in_business_days=self.resolve_in_business_days,
            roll_past_holidays=self.roll_past_holidays,
            summary_business_days=self.summary_business_days,
            warn_fraction=float(self.warn_fraction),
        )


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    LETTER = "letter", _("Letter")
    STATUS_PAGE = "status_page", _("Client status page")
    SURVEY = "survey", _("Survey")
    REGULATOR_REFERRAL = "regulator_referral", _("Referred by the regulator")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# What `?ordering=severity` sorts by: the rank, least severe first, not the word.
SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}

# A typed text (the client's words, a reason, a response, an outcome) holds at most
# NOTE_MAX_CHARS characters, like the notes elsewhere in the product.
CAPPED = [MaxLengthValidator(NOTE_MAX_CHARS)]


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.REOPENED)


class ResponseChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")


class Complaint(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    project = models.ForeignKey(
        "finance_projects.FinancingProject",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    contact = models.ForeignKey(
        "finance_projects.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    category = models.CharField(_("category"), max_length=32, choices=FailureCategory.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM
    )
    description = models.TextField(_("description"), validators=CAPPED)
    remedy_requested = models.TextField(_("remedy requested"), blank=True, validators=CAPPED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_complaints",
    )
    # Independence: the project's RM handles the complaint only with a manager's recorded consent.
    rm_handling_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("RM handling approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rm_handling_reason = models.TextField(_("why the RM handles it"), blank=True, validators=CAPPED)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    root_cause = models.CharField(_("root cause"), max_length=32, choices=RootCause.choices, blank=True)
    legal_risk = models.BooleanField(_("legal risk"), default=False)
    compensation_amount = models.DecimalField(
        _("compensation"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    compensation_currency = models.CharField(
        _("compensation currency"), max_length=3, choices=Currency.choices, blank=True
    )
    compensation_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compensation approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.PROTECT, related_name="complaints"
    )
    allowed_days = models.PositiveSmallIntegerField(_("days allowed for the decision"))
    ack_due_at = models.DateTimeField(_("acknowledgement due"))
    resolve_due_at = models.DateTimeField(_("decision due"))
    resolve_warn_at = models.DateTimeField(_("deadline warning from"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    investigating_at = models.DateTimeField(_("investigation started"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    pause_reason = models.TextField(_("pause reason"), blank=True, validators=CAPPED)
    paused_seconds = models.PositiveIntegerField(_("time paused (seconds)"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    response_text = models.TextField(_("response to the client"), blank=True, validators=CAPPED)
    response_channel = models.CharField(
        _("response sent by"), max_length=16, choices=ResponseChannel.choices, blank=True
    )
    response_sent_at = models.DateTimeField(_("response sent at"), null=True, blank=True)
    client_confirmed = models.BooleanField(_("client confirmed the outcome"), default=False)
    close_reason = models.TextField(_("closing note"), blank=True, validators=CAPPED)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged",
    )
    escalated_at = models.DateTimeField(_("escalated to the manager at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Where a client-raised complaint came from (e.g. "survey_response:42"); raised once per source.
    source_key = models.CharField(
        _("source"), max_length=80, null=True, blank=True, unique=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="complaint_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="complaint_channel_valid"),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="complaint_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=FailureCategory.values), name="complaint_category_valid"
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="complaint_reference_set"),
            models.CheckConstraint(
                condition=Q(extension_count__lte=2), name="complaint_at_most_two_extensions"
            ),
            models.CheckConstraint(
                condition=Q(ack_due_at__gte=F("received_at")) & Q(resolve_due_at__gte=F("received_at")),
                name="complaint_deadlines_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(status="new") | Q(acknowledged_at__isnull=False),
                name="complaint_acknowledged_before_moving_on",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved")
                | Q(resolved_at__isnull=False, response_sent_at__isnull=False),
                name="complaint_resolved_with_response",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (Q(closed_at__isnull=False) & (Q(client_confirmed=True) | ~Q(close_reason=""))),
                name="complaint_closed_with_confirmation_or_reason",
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True)
                | (Q(compensation_amount__gt=0) & ~Q(compensation_currency="")),
                name="complaint_compensation_positive_with_currency",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("id")),
                name="complaint_not_merged_into_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["ack_due_at"], name="complaint_ack_open", condition=Q(status="new")),
            models.Index(
                fields=["resolve_warn_at"],
                name="complaint_resolve_open",
                condition=Q(status__in=["new", "acknowledged", "investigating", "reopened"]),
            ),
            models.Index(fields=["project", "status"], name="complaint_project_status"),
            models.Index(fields=["owner", "status"], name="complaint_owner_status"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_read_only(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def paused_for(self) -> timedelta:
        return timedelta(seconds=self.paused_seconds)

    @property
    def compensation(self) -> str:
        if self.compensation_amount is None:
            return ""
        return f"{self.compensation_amount:,.2f} {self.compensation_currency}"

    def next_deadline(self) -> tuple[str, datetime] | None:
        """What the client waits for next, and when: the acknowledgement, then the decision."""
        if self.status == Status.NEW:
            return "ack", self.ack_due_at
        if self.is_open:
            return "resolve", self.resolve_due_at
        return None

    def is_ack_overdue(self, *, at: datetime | None = None) -> bool:
        return self.status == Status.NEW and self.ack_due_at < (at or timezone.now())

    def is_resolution_overdue(self, *, at: datetime | None = None) -> bool:
        return self.is_open and not self.is_paused and self.resolve_due_at < (at or timezone.now())


class EventKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    STATUS = "status", _("Status changed")
    OWNER = "owner", _("Handler changed")
    DEADLINE = "deadline", _("Deadline changed")
    NOTE = "note", _("Note")
    EMAIL = "email", _("Email to the client")
    EXTENSION = "extension", _("Deadline extended")
    PAUSE = "pause", _("Clock paused")
    RESUME = "resume", _("Clock resumed")
    MERGE = "merge", _("Merged")
    ACTION = "action", _("Recovery action")
    FOLLOWUP = "followup", _("Follow-up visit")
    COMPENSATION = "compensation", _("Compensation")
    ESCALATION = "escalation", _("Escalated to the manager")
    PUBLISHED = "published", _("Published as a case")


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Complaint events are immutable.")

    def delete(self):
        raise PermissionError("Complaint events are immutable.")


class ComplaintEvent(models.Model):
    """One line of a complaint's timeline. Written once, never changed or deleted."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    summary = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Complaint events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Complaint events are immutable.")

    @property
    def headline(self) -> str:
        """One translated line for the timeline, built from the kind and its details."""
        data = self.data or {}
        if self.kind in (EventKind.STATUS, EventKind.MERGE) and "to" in data:
            labels = dict(Status.choices)
            return _("Status: %(old)s → %(new)s") % {
                "old": labels.get(data.get("from"), data.get("from", "")),
                "new": labels.get(data["to"], data["to"]),
            }
        if self.kind in (EventKind.DEADLINE, EventKind.EXTENSION, EventKind.RESUME) and data.get(
            "resolve_due_at"
        ):
            return _("%(kind)s: decision now due %(due)s") % {
                "kind": self.get_kind_display(),
                "due": date_format(
                    timezone.localtime(datetime.fromisoformat(data["resolve_due_at"])), "Y-m-d H:i"
                ),
            }
        if self.kind == EventKind.EMAIL and data.get("subject"):
            return _("Email to the client: %(subject)s") % {"subject": data["subject"]}
        if self.kind == EventKind.OWNER and data.get("owner"):
            return _("Handler: %(name)s") % {"name": data["owner"]}
        if self.kind == EventKind.ACTION and data.get("done"):
            return str(_("Recovery action done"))
        if self.kind == EventKind.FOLLOWUP and data.get("satisfied") is not None:
            if data["satisfied"]:
                return str(_("Follow-up visit: the client is satisfied"))
            return str(_("Follow-up visit: the client is NOT satisfied"))
        return str(self.get_kind_display())


class ClientEmailKind(models.TextChoices):
    """What a client e-mail tells of; the value names its templates (templates/emails/)."""

    RECEIVED = "complaint-received", _("Complaint received")
    EXTENDED = "complaint-extended", _("Deadline extended")
    PAUSED = "complaint-paused", _("Handling paused")
    RESUMED = "complaint-resumed", _("Handling resumed")
    RESOLVED = "complaint-resolved", _("Complaint resolved")


class ClientEmail(models.Model):
    """An e-mail to the client about their complaint, stored in the transaction of the change it
    tells of and sent once that has committed (`emails.deliver_client_email`). A mail server
    that does not answer delays it (the SLA beat sends what is left), never loses it, and never
    turns the change into an error."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="client_emails"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=ClientEmailKind.choices)
    to = models.EmailField(_("to"))
    subject = models.TextField(_("subject"))
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Set by whoever is sending it; one who died mid-send leaves it to be claimed again once
    # CLAIM_SECONDS have passed (a rare second copy rather than a lost e-mail).
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    # Refused this often, it is left unsent (and logged); each beat tries the least tried e-mail
    # first and stops at a failure, so with one waiting that is about two hours of beats. An
    # administrator can send it again from the admin.
    MAX_ATTEMPTS = 24
    CLAIM_SECONDS = 600
    # Stands for the client's personal link in the stored text: a fresh link is issued each time
    # it is sent, so no usable token is ever stored (only hashes are, DESIGN §4).
    LINK_PLACEHOLDER = "https://cem.invalid/client-link-issued-when-sent/"

    class Meta:
        verbose_name = _("e-mail to the client")
        verbose_name_plural = _("e-mails to the client")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], name="client_email_unsent", condition=Q(sent_at__isnull=True))
        ]

    def __str__(self):
        return self.subject

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.attempts >= self.MAX_ATTEMPTS


class RecoveryKind(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    EXPEDITE = "expedite", _("Expedite")
    EXTRA_SUPPORT = "extra_support", _("Extra support")
    COMPENSATION = "compensation", _("Compensation")
    PROCESS_FIX = "process_fix", _("Process fix")
    TRAINING = "training", _("Training")


class RecoveryAction(models.Model):
    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RecoveryKind.choices)
    description = models.TextField(_("description"), validators=CAPPED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="recovery_actions",
    )
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("recovery action")
        verbose_name_plural = _("recovery actions")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RecoveryKind.values), name="recovery_kind_valid")
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.description[:60]}"


class FollowUpVisit(models.Model):
    """A 回访: a call or visit after resolution to check that the client is satisfied."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="followups"
    )
    offset_days = models.PositiveSmallIntegerField(_("days after resolution"))
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, validators=CAPPED)
    client_satisfied = models.BooleanField(_("client satisfied"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    touchpoint = models.OneToOneField(
        "finance_projects.Touchpoint",
        verbose_name=_("touchpoint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "offset_days"],
                condition=Q(done_at__isnull=True, cancelled_at__isnull=True),
                name="one_pending_followup_per_offset",
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | ~Q(outcome=""), name="followup_done_with_outcome"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="followup_pending_due",
                condition=Q(done_at__isnull=True, cancelled_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.complaint} +{self.offset_days}d"

    @property
    def is_pending(self) -> bool:
        return self.done_at is None and self.cancelled_at is None


class ComplaintLink(ClientLink):
    """The client's personal link `/c/<token>/` to follow the complaint."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="links"
    )

    class Meta(ClientLink.Meta):
        verbose_name = _("client complaint link")
        verbose_name_plural = _("client complaint links")

    def __str__(self):
        return f"{self.complaint} link"


class CaseStudy(models.Model):
    """An anonymised training case from a resolved complaint: what happened and what we learned."""

    complaint = models.OneToOneField(
        Complaint, verbose_name=_("source complaint"), on_delete=models.PROTECT, related_name="case_study"
    )
    category = models.CharField(_("category"), max_length=32, choices=FailureCategory.choices)
    root_cause = models.CharField(_("root cause"), max_length=32, choices=RootCause.choices, blank=True)
    # Each language holds only what was written in it (one may be empty); pages fall back to
    # the other language rather than show a translation that was never made.
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    summary_zh = models.TextField(_("what happened (Chinese)"), blank=True)
    summary_en = models.TextField(_("what happened (English)"), blank=True)
    lessons_zh = models.TextField(_("lessons learned (Chinese)"), blank=True)
    lessons_en = models.TextField(_("lessons learned (English)"), blank=True)
    what_worked_zh = models.TextField(_("what worked (Chinese)"), blank=True)
    what_worked_en = models.TextField(_("what worked (English)"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        verbose_name = _("case study")
        verbose_name_plural = _("case library")
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title

    def _pick(self, zh: str, en: str) -> str:
        if (get_language() or "").startswith("en"):
            return en or zh
        return zh or en

    @property
    def title(self) -> str:
        return self._pick(self.title_zh, self.title_en)

    @property
    def summary(self) -> str:
        return self._pick(self.summary_zh, self.summary_en)

    @property
    def lessons(self) -> str:
        return self._pick(self.lessons_zh, self.lessons_en)

    @property
    def what_worked(self) -> str:
        return self._pick(self.what_worked_zh, self.what_worked_en)
