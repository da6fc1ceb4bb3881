"""The core domain: clients, their financing projects, every touchpoint and every commitment,
and the alerts that the early-warning scans raise about them."""

from datetime import datetime

from django.conf import settings
from django.core.validators import DecimalValidator, MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Department

# A project's amount: 13 whole digits (about ten trillion) and cents. Fifteen significant digits
# is also what SQLite's floating-point storage keeps exactly, so an amount reads back as typed.
AMOUNT_MAX_DIGITS = 15

# What a person may type into one free-text note (a summary, a reason): a page's worth, as the
# follow-up and the client's concern allow.
NOTE_MAX_CHARS = 4000


class Stage(models.TextChoices):
    """The eight stages of a deal, in the order a project goes through them."""

    INQUIRY = "inquiry", pgettext_lazy("project stage", "Inquiry")
    TERM_SHEET = "term_sheet", pgettext_lazy("project stage", "Term sheet")
    DUE_DILIGENCE = "due_diligence", pgettext_lazy("project stage", "Due diligence")
    CREDIT_APPROVAL = "credit_approval", pgettext_lazy("project stage", "Credit approval")
    DOCUMENTATION = "documentation", pgettext_lazy("project stage", "Documentation")
    DISBURSEMENT = "disbursement", pgettext_lazy("project stage", "Disbursement")
    MONITORING = "monitoring", pgettext_lazy("project stage", "Monitoring")
    CLOSED = "closed", pgettext_lazy("project stage", "Closed")

    @classmethod
    def order(cls, stage: str) -> int:
        return cls.values.index(stage)

    @classmethod
    def next_after(cls, stage: str) -> str | None:
        index = cls.order(stage)
        return cls.values[index + 1] if index + 1 < len(cls.values) else None


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")
    LOST = "lost", _("Lost")


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")
    HKD = "HKD", _("Hong Kong dollar")
    GBP = "GBP", _("Pound sterling")
    JPY = "JPY", _("Japanese yen")
    SGD = "SGD", _("Singapore dollar")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    EN = "en", _("English")


class FailureCategory(models.TextChoices):
    """The five ways a client's experience fails; used by complaints, surveys and alerts."""

    LATE_INFORMATION = "late_information", _("Late information")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    BROKEN_COMMITMENT = "broken_commitment", _("Broken commitment")
    COMPLEX_PROCESS = "complex_process", _("Complex process")
    SLOW_RESOLUTION = "slow_resolution", _("Slow resolution")


class RootCause(models.TextChoices):
    INTERNAL_COMMUNICATION = "internal_communication", _("Internal communication")
    TRAINING_GAP = "training_gap", _("Training gap")
    PROCESS_DESIGN = "process_design", _("Process design")
    NO_FEEDBACK_CHANNEL = "no_feedback_channel", _("No feedback channel")
    NO_EARLY_WARNING = "no_early_warning", _("No early warning")
    EXTERNAL = "external", _("External (policy or market)")


class Client(models.Model):
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        related_name="clients",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="clients"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "team"], name="client_unique_name_per_team")]

    def __str__(self):
        return self.name


class Contact(models.Model):
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    opted_out = models.BooleanField(_("opted out of surveys"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["client_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "email"], name="contact_unique_email_per_client")
        ]

    def __str__(self):
        return f"{self.name} ({self.client})"


# The longest a stage may be expected to take, and the longest a client may wait between updates.
# Beyond these, a deadline leaves the range of a date: Python's (services) or PostgreSQL's, where
# the stage_overrun scan subtracts twice the expected days from now (scans._days_before).
MAX_EXPECTED_DAYS = 3650  # ten years: the "closed" stage's default
MAX_UPDATE_CADENCE_DAYS = 365  # a client who hears from the bank less than once a year is lost


class StageDefinition(models.Model):
    """What each stage is for and how long it should take; editable by operations staff."""

    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices, unique=True)
    purpose_zh = models.TextField(_("purpose (Chinese)"))
    purpose_en = models.TextField(_("purpose (English)"))
    expected_days = models.PositiveIntegerField(
        _("expected duration in days"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPECTED_DAYS)],
    )

    class Meta:
        verbose_name = _("stage definition")
        verbose_name_plural = _("stage definitions")
        constraints = [
            models.CheckConstraint(condition=Q(expected_days__gte=1), name="stage_expected_days_positive"),
            models.CheckConstraint(
                condition=Q(expected_days__lte=MAX_EXPECTED_DAYS), name="stage_expected_days_at_most_10y"
            ),
        ]

    def __str__(self):
        return self.get_stage_display()

    @property
    def order(self) -> int:
        return Stage.order(self.stage)

    def purpose(self, language: str | None = None) -> str:
        language = language or get_language() or "zh-hans"
        return self.purpose_en if language.startswith("en") else self.purpose_zh


# A stored alert severity whose alert's message needs rewriting (see alerts.SeverityMirror).
STALE_SEVERITY = "stale"
# Stored for a subject the rule's deadline has reached whose project does not run: no alert is
# open, and the scan need not look at it again until the project changes.
DORMANT_SEVERITY = "dormant"


def alert_severity_field(verbose_name):
    """A column holding the severity of the row's open alert of one kind ("" for none, "stale"
    when its message needs rewriting, "dormant" for none while its project does not run),
    written by that kind's scan in the transaction that writes the alert: beside the deadline it
    depends on, it lets a beat find what changed from a few index ranges (scans.py). A database
    default too: bulk loads that name their columns leave it out."""
    return models.CharField(verbose_name, max_length=8, blank=True, default="", db_default="", editable=False)


class ScanOwnedFields:
    """Leaves the scan-owned columns out of a plain save() of a row read before a scan ran, which
    would write the scan's stored severities back."""

    scan_owned_fields: frozenset[str] = frozenset()

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.scan_owned_fields
            ]
        super().save(*args, **kwargs)


class FinancingProject(ScanOwnedFields, models.Model):
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=40, unique=True)
    # The column keeps its 18 digits, so an amount stored before the limit still reads and
    # migrating needs no rewrite; a new or changed amount is held to AMOUNT_MAX_DIGITS.
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=[DecimalValidator(AMOUNT_MAX_DIGITS, 2)]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices, default=Stage.INQUIRY)
    status = models.CharField(
        _("status"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="projects"
    )
    update_cadence_days = models.PositiveIntegerField(
        _("client update cadence (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_UPDATE_CADENCE_DAYS)],
    )
    # Kept by services in the same transaction as the touchpoint/transition that changes them.
    last_client_update_at = models.DateTimeField(_("last client update"), null=True, blank=True)
    next_update_due_at = models.DateTimeField(_("next client update due"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("stage entered at"), default=timezone.now)
    # Written in bulk by the health-score refresh (dashboard); read by lists and the API.
    health = models.PositiveSmallIntegerField(_("health score"), null=True, blank=True)
    health_factors = models.JSONField(_("health factors"), default=list, blank=True)
    health_computed_at = models.DateTimeField(_("health computed at"), null=True, blank=True)
    # The severity of the project's open update-overdue alert (scans.update_overdue).
    update_alert_severity = alert_severity_field(_("update alert severity"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(
        excluded_fields=[
            "health",
            "health_factors",
            "health_computed_at",
            "update_alert_severity",
            "updated_at",
        ]
    )

    class Meta:
        verbose_name = _("financing project")
        verbose_name_plural = _("financing projects")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="project_amount_positive",
                violation_error_message=_("The amount must be greater than zero."),
            ),
            models.CheckConstraint(condition=Q(update_cadence_days__gte=1), name="project_cadence_positive"),
            models.CheckConstraint(
                condition=Q(update_cadence_days__lte=MAX_UPDATE_CADENCE_DAYS),
                name="project_cadence_at_most_1y",
            ),
            models.CheckConstraint(
                condition=Q(health__isnull=True) | Q(health__gte=0, health__lte=100),
                name="project_health_0_100",
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="project_stage_valid"),
            models.CheckConstraint(condition=Q(status__in=ProjectStatus.values), name="project_status_valid"),
        ]
        indexes = [
            models.Index(
                fields=["next_update_due_at"],
                name="project_update_due_active",
                condition=Q(status="active"),
            ),
            # The update_overdue scan's no-change check: each range it reads is empty when the
            # stored alert severities still match the deadlines (see scans.update_overdue).
            models.Index(
                fields=["next_update_due_at", "id"],  # the ids from the index alone
                name="project_update_unalerted",
                condition=Q(status="active", update_alert_severity=""),
            ),
            models.Index(
                fields=["next_update_due_at"],
                name="project_update_alerted",
                condition=~Q(update_alert_severity=""),
            ),
            models.Index(
                fields=["id"],
                name="project_alerted_not_active",
                condition=~Q(update_alert_severity="") & ~Q(status="active"),
            ),
            models.Index(
                fields=["id"],
                name="project_update_alert_stale",
                condition=Q(update_alert_severity=STALE_SEVERITY),
            ),
            models.Index(fields=["relationship_manager", "status"], name="project_rm_status"),
            models.Index(fields=["team", "status"], name="project_team_status"),
        ]

    scan_owned_fields = frozenset({"update_alert_severity"})

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def money(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"


class StageTransition(ScanOwnedFields, models.Model):
    """One stay of a project in a stage: when it entered, when it left, who moved it."""

    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_stage = models.CharField(_("from stage"), max_length=32, choices=Stage.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    override = models.BooleanField(_("manager override"), default=False)
    note = models.TextField(_("note"), blank=True, validators=[MaxLengthValidator(NOTE_MAX_CHARS)])
    # The severity of the open stage-overrun alert about this stay (scans.stage_overrun).
    overrun_alert_severity = alert_severity_field(_("overrun alert severity"))

    scan_owned_fields = frozenset({"overrun_alert_severity"})

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        ordering = ["project_id", "entered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(left_at__isnull=True), name="one_current_stage_per_project"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("entered_at")),
                name="transition_left_after_entered",
            ),
        ]
        # The stage_overrun scan's no-change check: each range it reads is empty when the stored
        # alert severities still match the stage deadlines (see scans.stage_overrun).
        indexes = [
            models.Index(
                fields=["stage", "entered_at"],
                name="transition_overrun_unalerted",
                condition=Q(left_at__isnull=True, overrun_alert_severity=""),
            ),
            models.Index(
                fields=["overrun_alert_severity", "stage", "entered_at"],
                name="transition_overrun_alerted",
                condition=~Q(overrun_alert_severity=""),
            ),
            models.Index(
                fields=["id"],
                name="transition_overrun_left",
                condition=~Q(overrun_alert_severity="") & Q(left_at__isnull=False),
            ),
        ]

    def __str__(self):
        # Read by staff in the project's stage history (the admin's inline): the stages' labels
        # and the day the project entered the stage, in the reader's zone.
        day = timezone.localtime(self.entered_at).date().isoformat() if self.entered_at else "—"
        if not self.from_stage:
            return _("{stage} (from start) on {day}").format(stage=self.get_stage_display(), day=day)
        return _("{stage} ← {from_stage}, {day}").format(
            stage=self.get_stage_display(), from_stage=self.get_from_stage_display(), day=day
        )


class TouchpointChannel(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    DOCUMENT = "document", _("Document")
    SITE_VISIT = "site_visit", _("Site visit")
    PROGRESS_UPDATE = "progress_update", _("Progress update")
    FOLLOW_UP_VISIT = "follow_up_visit", _("Follow-up visit")
    CLIENT_CONCERN = "client_concern", _("Concern raised by the client")
    SURVEY_FOLLOW_UP = "survey_follow_up", _("Survey follow-up")


# Channels the product records where they happen (a concern the client raised from their page, a
# survey response's follow-up): a person does not log them by hand.
RECORDED_CHANNELS = (TouchpointChannel.CLIENT_CONCERN, TouchpointChannel.SURVEY_FOLLOW_UP)


class Touchpoint(models.Model):
    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    channel = models.CharField(_("channel"), max_length=32, choices=TouchpointChannel.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    summary = models.TextField(_("summary"), validators=[MaxLengthValidator(NOTE_MAX_CHARS)])
    is_client_update = models.BooleanField(_("keeps the client informed"), default=False)
    shareable = models.BooleanField(_("shown on the client status page"), default=False)
    needs_attention = models.BooleanField(_("flagged for the relationship manager"), default=False)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-occurred_at"], name="touchpoint_project_time"),
            models.Index(
                fields=["project", "-occurred_at"],
                name="touchpoint_client_update",
                condition=Q(is_client_update=True),
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"


class CommitmentKind(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    PRICING = "pricing", _("Pricing / rate")
    DOCUMENT = "document", _("Document")
    RESPONSE = "response", _("Response")
    OTHER = "other", _("Other")


class CommitmentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("commitment status", "Open")
    FULFILLED = "fulfilled", _("Fulfilled")
    RENEGOTIATED = "renegotiated", _("Renegotiated")
    CANCELLED = "cancelled", _("Cancelled")


# Broken schedule and pricing promises hurt the client most (DESIGN §1): a missed one is critical.
CRITICAL_COMMITMENT_KINDS = (CommitmentKind.SCHEDULE.value, CommitmentKind.PRICING.value)


class Commitment(ScanOwnedFields, models.Model):
    """A promise made to a client. Renegotiating closes this row as `renegotiated` and opens its
    successor with the new date (`renegotiated_from`), so the chain is the due-date history and
    "missed" stays exactly "open and past due"."""

    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="commitments"
    )
    title = models.CharField(_("title"), max_length=240)
    description = models.TextField(
        _("description"), blank=True, validators=[MaxLengthValidator(NOTE_MAX_CHARS)]
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=CommitmentKind.choices, default=CommitmentKind.OTHER
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_commitments",
    )
    department = models.CharField(_("department"), max_length=32, choices=Department.choices, blank=True)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=16, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason"), blank=True, validators=[MaxLengthValidator(NOTE_MAX_CHARS)])
    renegotiated_from = models.OneToOneField(
        "self",
        verbose_name=_("renegotiated from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renegotiated_to",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The severities of the open due-soon and missed alerts about this commitment
    # (scans.commitment_due_soon, scans.commitment_missed).
    due_soon_alert_severity = alert_severity_field(_("due-soon alert severity"))
    missed_alert_severity = alert_severity_field(_("missed alert severity"))
    history = HistoricalRecords(excluded_fields=["due_soon_alert_severity", "missed_alert_severity"])

    scan_owned_fields = frozenset({"due_soon_alert_severity", "missed_alert_severity"})

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="fulfilled") & Q(fulfilled_at__isnull=False))
                | (~Q(status="fulfilled") & Q(fulfilled_at__isnull=True)),
                name="commitment_fulfilled_iff_fulfilled_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CommitmentStatus.values), name="commitment_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="commitment_open_due", condition=Q(status="open")),
            models.Index(fields=["project", "status"], name="commitment_project_status"),
            # Covers the per-project promise-kept KPI (an index-only scan on PostgreSQL).
            models.Index(
                fields=["project", "due_at"],
                include=["status", "fulfilled_at", "closed_at"],
                name="commitment_project_due",
            ),
            models.Index(fields=["owner", "status"], name="commitment_owner_status"),
            # The two commitment scans' no-change checks (see scans.commitment_due_soon and
            # scans.commitment_missed): each range is empty when the stored severities still match.
            models.Index(
                fields=["due_at"],
                name="commitment_due_soon_unalerted",
                condition=Q(status="open", due_soon_alert_severity=""),
            ),
            models.Index(
                fields=["due_soon_alert_severity", "due_at"],
                name="commitment_due_soon_alerted",
                condition=~Q(due_soon_alert_severity=""),
            ),
            models.Index(
                fields=["due_at"],
                name="commitment_missed_unalerted",
                condition=Q(status="open", missed_alert_severity=""),
            ),
            models.Index(
                fields=["missed_alert_severity", "due_at"],
                name="commitment_missed_alerted",
                condition=~Q(missed_alert_severity=""),
            ),
            models.Index(
                fields=["id"],
                name="commitment_alerted_closed",
                condition=(~Q(due_soon_alert_severity="") | ~Q(missed_alert_severity="")) & ~Q(status="open"),
            ),
            models.Index(
                fields=["id"],
                name="commitment_missed_kind_moved",
                condition=(Q(missed_alert_severity="critical") & ~Q(kind__in=CRITICAL_COMMITMENT_KINDS))
                | (Q(missed_alert_severity="warning") & Q(kind__in=CRITICAL_COMMITMENT_KINDS)),
            ),
        ]

    def __str__(self):
        return self.title

    def is_missed(self, *, at: datetime | None = None) -> bool:
        return self.status == CommitmentStatus.OPEN and self.due_at < (at or timezone.now())

    def successor(self, *, due_at: datetime, created_by_id: int | None, created_at: datetime) -> "Commitment":
        """The same promise with a renegotiated due date (unsaved); this row becomes its history."""
        return Commitment(
            project_id=self.project_id,
            title=self.title,
            description=self.description,
            kind=self.kind,
            owner_id=self.owner_id,
            department=self.department,
            due_at=due_at,
            renegotiated_from=self,
            created_by_id=created_by_id,
            created_at=created_at,
        )

    def due_date_history(self) -> list["Commitment"]:
        """This commitment and every earlier version of it, oldest first (one query per step)."""
        chain = [self]
        while chain[0].renegotiated_from_id:
            chain.insert(0, chain[0].renegotiated_from)
        return chain


class AlertKind(models.TextChoices):
    UPDATE_OVERDUE = "update_overdue", _("Client update overdue")
    COMMITMENT_DUE_SOON = "commitment_due_soon", _("Commitment due soon")
    COMMITMENT_MISSED = "commitment_missed", _("Commitment missed")
    STAGE_OVERRUN = "stage_overrun", _("Stage running late")
    COMPLAINT_ACK_OVERDUE = "complaint_ack_overdue", _("Complaint acknowledgement overdue")
    COMPLAINT_RESOLUTION_OVERDUE = "complaint_resolution_overdue", _("Complaint resolution overdue")
    FOLLOWUP_OVERDUE = "followup_overdue", _("Follow-up overdue")
    DETRACTOR_RESPONSE = "detractor_response", _("Detractor survey response")
    CONTACT_REQUEST = "contact_request", _("Client asked to be contacted")


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


# The order of urgency: a raise never lowers a severity, and lists sort by it.
SEVERITY_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


class Alert(models.Model):
    """Something the relationship manager should act on before the client complains.

    `subject_type`/`subject_id` name what it is about (a commitment, a complaint, a survey
    response, a project's stage...). At most one open alert per (kind, subject) is enforced by
    the database, which is what keeps concurrent scans from raising duplicates.
    """

    kind = models.CharField(_("kind"), max_length=40, choices=AlertKind.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="alerts"
    )
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.BigIntegerField(_("subject id"))
    # Names its subject (codes, names, titles: bounded fields); bounded itself so that the
    # covering open-alert index (migration 0007) can always hold it.
    message = models.CharField(_("message"), max_length=500)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # see `alert_acknowledged_by`
    )
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_alerts",
        db_index=False,  # see `alert_open_assignee`
    )
    # Outbox markers: set by the claim that sends the email, never twice.
    # When the alert last became critical (None while it is not): the escalation's clock.
    critical_since = models.DateTimeField(_("critical since"), null=True, blank=True)
    notified_at = models.DateTimeField(_("emailed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_seen_at"])

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(resolved_at__isnull=True),
                # On PostgreSQL the index also covers severity and message (migration 0007).
                name="one_open_alert_per_subject",
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            models.CheckConstraint(
                condition=Q(severity__in=AlertSeverity.values), name="alert_severity_valid"
            ),
        ]
        # Every index here is paid for by each alert a scan opens, so there are few, and the
        # ones only people fill are partial over the filled rows. Reads by project (page,
        # health, digests) use the project foreign key's index: a project has few alerts.
        indexes = [
            # "My open alerts" on the dashboard. Deleting a user (rare: people are deactivated)
            # clears the assignee of their resolved alerts with a table scan.
            models.Index(
                fields=["assignee", "severity"],
                name="alert_open_assignee",
                condition=Q(resolved_at__isnull=True),
            ),
            # Only for clearing `acknowledged_by` when a user is deleted; scans never fill it.
            models.Index(
                fields=["acknowledged_by"],
                name="alert_acknowledged_by",
                condition=Q(acknowledged_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def subject(self) -> dict:
        return {"type": self.subject_type, "id": self.subject_id}


class ScanRun(models.Model):
    """When each registered scan last ran to the end. Every alert of its kind still open held at
    that moment (the run resolves the others), so that is when the alert was last seen: a run
    records it here once instead of rewriting every open alert's `last_seen_at`."""

    name = models.CharField(_("scan"), max_length=64, primary_key=True)
    ran_at = models.DateTimeField(_("ran at"))

    class Meta:
        verbose_name = _("scan run")
        verbose_name_plural = _("scan runs")

    def __str__(self):
        return self.name


class ClientLink(models.Model):
    """A client's personal link (no login). Only the token's SHA-256 is stored; the token itself
    is shown at creation (and again to a status-link form sent twice: `status_link_create`).
    Unknown, expired and revoked links look the same to a visitor."""

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_viewed_at = models.DateTimeField(_("last viewed at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def is_usable(self, *, at: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (at or timezone.now())


class ProjectStatusLink(ClientLink):
    """A contact's personal link to the client status page `/p/<token>/`."""

    project = models.ForeignKey(
        FinancingProject, verbose_name=_("project"), on_delete=models.CASCADE, related_name="status_links"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="status_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(ClientLink.Meta):
        verbose_name = _("client status link")
        verbose_name_plural = _("client status links")

    def __str__(self):
        return f"{self.project} / {self.contact.name}"


class ImportKind(models.TextChoices):
    CLIENTS = "clients", _("Clients")
    CONTACTS = "contacts", _("Contacts")
    PROJECTS = "projects", _("Projects")
    COMMITMENTS = "commitments", _("Commitments")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    REJECTED = "rejected", _("Rejected: nothing imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One bulk import of a CSV/XLSX file: its progress, outcome and every row-level error.

    `errors` holds one entry per problem, `{"line": 7, "column": "amount", "message": "..."}`,
    where `line` is the line the user sees in the file (the header is line 1). The uploaded
    bytes are kept only until the job ends. `language` is the uploader's at upload: the errors
    are written in it whether the request or a background worker runs the job.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default="queued")
    filename = models.CharField(_("file name"), max_length=255)
    source = models.BinaryField(_("uploaded file"), blank=True, default=bytes)
    import_valid_rows = models.BooleanField(_("import the good rows, skip the bad ones"), default=False)
    language = models.CharField(
        _("language"), max_length=16, choices=settings.LANGUAGES, blank=True, default=""
    )
    total = models.PositiveIntegerField(_("rows in the file"), default=0)
    processed = models.PositiveIntegerField(_("rows checked"), default=0)
    imported = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="import_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_status_valid"),
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")), name="import_processed_le_total"
            ),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_by_user")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.is_finished else 0)
