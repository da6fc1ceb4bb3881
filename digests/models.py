"""Weekly digests: who wants one, which ones went out, and the weekly client-health snapshot
that lets a digest say whose health fell most."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DigestPreference(models.Model):
    """A user's choice about the weekly digest. Managers get it unless they switch it off;
    relationship managers get one for their own portfolio only when they switch it on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="digest_preference",
    )
    enabled = models.BooleanField(_("send me the weekly digest"), default=True)
    language = models.CharField(
        _("digest language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Leave empty to use your preferred language."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("digest preference")
        verbose_name_plural = _("digest preferences")

    def __str__(self):
        return str(self.user)


class DigestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class DigestRun(models.Model):
    """One recipient's digest for one ISO week. The unique constraint is what makes the digest go
    out at most once; the compare-and-set claim on `status`/`claimed_at` decides who sends it."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="digest_runs",
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    status = models.CharField(
        _("status"), max_length=16, choices=DigestStatus.choices, default=DigestStatus.PENDING
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("digest run")
        verbose_name_plural = _("digest runs")
        ordering = ["-iso_year", "-iso_week", "recipient_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "iso_year", "iso_week"], name="one_digest_per_recipient_week"
            ),
            models.CheckConstraint(condition=Q(status__in=DigestStatus.values), name="digest_status_valid"),
            models.CheckConstraint(
                condition=Q(iso_week__gte=1, iso_week__lte=53), name="digest_iso_week_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="digest_sent_has_sent_at"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "claimed_at"], name="digest_unsent", condition=~Q(status="sent")),
        ]

    def __str__(self):
        return f"{self.recipient} {self.week_label}"

    @property
    def week_label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"


class ClientHealthSnapshot(models.Model):
    """A client's health (the average of its active projects' scores) as it stood when the ISO
    week began; written once per client and week by `scans.snapshot_client_health`."""

    client = models.ForeignKey(
        "finance_projects.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="health_snapshots",
    )
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    health = models.PositiveSmallIntegerField(_("health score"))
    project_count = models.PositiveIntegerField(_("scored projects"))
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("client health snapshot")
        verbose_name_plural = _("client health snapshots")
        ordering = ["-iso_year", "-iso_week", "client_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "iso_year", "iso_week"], name="one_health_snapshot_per_client_week"
            ),
            models.CheckConstraint(condition=Q(health__lte=100), name="snapshot_health_0_100"),
        ]
        indexes = [models.Index(fields=["iso_year", "iso_week"], name="snapshot_week")]

    def __str__(self):
        return f"{self.client_id} {self.iso_year}-W{self.iso_week:02d}: {self.health}"
