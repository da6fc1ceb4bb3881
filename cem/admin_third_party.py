"""The admins of the installed packages, held to the project's rules: the beat's schedules
(django-celery-beat) and the login lockouts (django-axes).

The packages' own admins are registered again over theirs, with:
- `DateRangeAdminMixin` first, as every admin of the project: a clocked time, a task's start or
  expiry outside 2000–2099 (year 1 typed in Asia/Shanghai gave a 500) is refused on its field,
  and a change list's date drill-down into the year 1 or 9999 is the bad parameter it is.
- A periodic task's positional arguments a JSON list, its keyword arguments and its message
  headers JSON objects, refused on their field otherwise: `kwargs=[1]` was saved, then broke the
  beat's sending (and `headers=[1]` its loading of every task). An empty box is saved as none.
- An interval and a task's expiry no longer than the years the product covers: a longer one
  overflowed in the beat, on every tick.
- Translated labels and messages where the packages wrote plain English: column headers and a
  filter derived from method names or an untranslated verbose name (the task name), the axes
  status column and clean-up message, the axes section's title. The packages' own translated
  strings that their catalogues lack in Chinese are in `cem.third_party_messages`.
- The axes clean-up action working from the admin (it answered 500).

Registered once any app's admin imports `cem.admin` (every app's does), after the packages' own.
"""

from datetime import timedelta

from axes import admin as axes_admin
from axes.conf import settings as axes_settings
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from kombu.utils.json import loads

from cem.admin import DateRangeAdminMixin
from cem.serializer_fields import FIRST_DAY, LAST_DAY

# The longest wait the beat is given: the years the product covers. Far longer ones overflowed
# Python's dates (an interval of a billion days, an expiry past the year 9999).
LONGEST_WAIT = LAST_DAY - FIRST_DAY
TOO_LONG_AN_INTERVAL = format_lazy(_("Choose an interval of at most {days} days."), days=LONGEST_WAIT.days)
TOO_LONG_AN_EXPIRY = format_lazy(
    _("Choose at most {seconds} seconds."), seconds=int(LONGEST_WAIT.total_seconds())
)

# What the beat reads from each box of a periodic task (`ModelEntry`): the JSON type it needs,
# the empty value it stands in for an empty box, and the message naming both.
JSON_BOXES = {
    "args": (list, "[]", _('Enter the positional arguments as a JSON list, such as ["arg1", "arg2"].')),
    "kwargs": (
        dict,
        "{}",
        _('Enter the keyword arguments as a JSON object, such as {"argument": "value"}.'),
    ),
    "headers": (dict, "{}", _('Enter the message headers as a JSON object, such as {"header": "value"}.')),
}


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def _clean_json(self, field):
        kind, empty, message = JSON_BOXES[field]
        text = (self.cleaned_data.get(field) or "").strip()
        if not text:
            return empty
        try:
            value = loads(text)
        except ValueError:
            value = None
        if not isinstance(value, kind):
            raise forms.ValidationError(message, code="invalid")
        return text

    def clean_args(self):
        return self._clean_json("args")

    def clean_kwargs(self):
        return self._clean_json("kwargs")

    def clean_headers(self):
        return self._clean_json("headers")

    def clean_expire_seconds(self):
        seconds = self.cleaned_data.get("expire_seconds")
        if seconds is not None and seconds > LONGEST_WAIT.total_seconds():
            raise forms.ValidationError(TOO_LONG_AN_EXPIRY, code="max_value")
        return seconds


# The package's `PeriodicTask.task` has an untranslated verbose name ("Task Name").
TASK_NAME = pgettext_lazy("periodic task", "task name")


class TaskNameFilter(admin.AllValuesFieldListFilter):
    """The change list's filter by task, under a translated title."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = TASK_NAME


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """The tasks a schedule runs, on the schedule's page, with a translated task column."""

    fields = ("name", "task_name", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=TASK_NAME)
    def task_name(self, task):
        return task.task


class PeriodicTaskAdmin(DateRangeAdminMixin, beat_admin.PeriodicTaskAdmin):
    form = PeriodicTaskForm
    list_filter = ["enabled", "one_off", ("task", TaskNameFilter), "start_time", "last_run_at"]

    @admin.display(description=pgettext_lazy("periodic task", "schedule"))
    def scheduler(self, task):
        return task.scheduler

    @admin.display(description=pgettext_lazy("periodic task", "crontab in words"))
    def crontab_translation(self, task):
        return task.crontab.human_readable if task.crontab else ""


class IntervalScheduleForm(forms.ModelForm):
    class Meta:
        model = IntervalSchedule
        fields = ["every", "period"]

    def clean(self):
        data = super().clean()
        every, period = data.get("every"), data.get("period")
        if every is not None and period:
            try:
                too_long = timedelta(**{period: every}) > LONGEST_WAIT
            except (OverflowError, TypeError):  # past what `timedelta` holds; an unknown period
                too_long = True
            if too_long:
                self.add_error("every", forms.ValidationError(TOO_LONG_AN_INTERVAL, code="max_value"))
        return data


class IntervalScheduleAdmin(DateRangeAdminMixin, beat_admin.IntervalScheduleAdmin):
    form = IntervalScheduleForm
    inlines = [PeriodicTaskInline]


class ClockedScheduleAdmin(DateRangeAdminMixin, beat_admin.ClockedScheduleAdmin):
    inlines = [PeriodicTaskInline]


class CrontabScheduleAdmin(DateRangeAdminMixin, beat_admin.CrontabScheduleAdmin):
    inlines = [PeriodicTaskInline]

    @admin.display(description=pgettext_lazy("crontab", "schedule in words"))
    def human_readable(self, crontab):
        return crontab.human_readable


class SolarScheduleAdmin(DateRangeAdminMixin, beat_admin.SolarScheduleAdmin):
    inlines = [PeriodicTaskInline]


class AccessAttemptAdmin(DateRangeAdminMixin, axes_admin.AccessAttemptAdmin):
    @admin.display(description=_("Expires At"))
    def expiration(self, attempt):
        return super().expiration(attempt)

    @admin.display(description=pgettext_lazy("login lockout", "status"))
    def status(self, attempt):
        left = axes_settings.AXES_FAILURE_LIMIT - attempt.failures_since_start
        if left <= 0:
            return _("Locked Out")
        return ngettext("%(count)d attempt left", "%(count)d attempts left", left) % {"count": left}

    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # The handler reads the request's moment, which axes sets on login requests only: the
        # package's own action answered 500 from the admin.
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "Cleaned up %(count)d expired access attempt.",
                "Cleaned up %(count)d expired access attempts.",
                count,
            )
            % {"count": count},
        )


class AccessLogAdmin(DateRangeAdminMixin, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(DateRangeAdminMixin, axes_admin.AccessFailureLogAdmin):
    pass


ADMINS = {
    PeriodicTask: PeriodicTaskAdmin,
    IntervalSchedule: IntervalScheduleAdmin,
    ClockedSchedule: ClockedScheduleAdmin,
    CrontabSchedule: CrontabScheduleAdmin,
    SolarSchedule: SolarScheduleAdmin,
    AccessAttempt: AccessAttemptAdmin,
    AccessLog: AccessLogAdmin,
    AccessFailureLog: AccessFailureLogAdmin,
}


def register(site=admin.site):
    """Puts the admins above in place of the packages' own (those the package registered:
    axes registers none when `AXES_ENABLE_ADMIN` is off)."""
    for model, model_admin in ADMINS.items():
        if site.is_registered(model):
            site.unregister(model)
            site.register(model, model_admin)
    # The section's title: axes names none, so the admin showed its label, "Axes", untranslated.
    apps.get_app_config("axes").verbose_name = _("Login security")


register()
