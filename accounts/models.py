from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cem.validators import validate_time_zone


class Role(models.TextChoices):
    RELATIONSHIP_MANAGER = "relationship_manager", _("Relationship manager")
    MANAGER = "manager", _("Manager")
    DEPARTMENT = "department", _("Department staff")
    ADMIN = "admin", _("Administrator")


class Department(models.TextChoices):
    BUSINESS = "business", _("Business")
    RISK = "risk", _("Risk")
    LEGAL = "legal", _("Legal")
    CREDIT = "credit", _("Credit approval")
    OPERATIONS = "operations", _("Operations")


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u3400" <= char <= "\u9fff" for char in text)


# Who may open the team page, as a query (`User.may_view_team`, the same people).
TEAM_VIEWERS = models.Q(role__in=[Role.MANAGER, Role.ADMIN]) | models.Q(is_superuser=True)


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
        # Who opens the team page: escalations are e-mailed to the manager with a link to it.
        limit_choices_to=TEAM_VIEWERS,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.RELATIONSHIP_MANAGER)
    department = models.CharField(
        _("department"), max_length=32, choices=Department.choices, default=Department.BUSINESS
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username

    def clean(self):
        super().clean()
        # A team's manager is e-mailed its escalations with a link to the team page.
        if self.pk and not self.may_view_team:
            managed = ", ".join(Team.objects.filter(manager_id=self.pk).values_list("name", flat=True))
            if managed:
                raise ValidationError(
                    {
                        "role": _("This user manages the team %(teams)s; name another manager for it first.")
                        % {"teams": managed}
                    }
                )

    def get_full_name(self) -> str:
        """Chinese names read family name first with no space (黄浩); others "Grace Ho"."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if _is_cjk(first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @property
    def greeting_name(self) -> str:
        """What the user is greeted by: the whole name in Chinese (黄浩, not 浩 alone, which reads
        as overly familiar), the given name otherwise (Grace); the username without either."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if _is_cjk(first + last):
            return self.get_full_name()
        return first or self.get_full_name() or self.username

    @property
    def zone(self) -> ZoneInfo:
        """The user's own time zone; the site's when theirs is empty or not a known zone."""
        try:
            return ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(settings.TIME_ZONE)

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def may_view_team(self) -> bool:
        """Whether the team page opens to them (`TEAM_VIEWERS`, the same people)."""
        return self.is_manager or self.is_admin_role

    @property
    def is_relationship_manager(self) -> bool:
        return self.role == Role.RELATIONSHIP_MANAGER

    @property
    def is_department_staff(self) -> bool:
        return self.role == Role.DEPARTMENT
