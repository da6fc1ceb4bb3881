"""Beat schedule rows in django-celery-beat, created once after `migrate` and then owned by
the admin: an operator's change of interval or an `enabled = False` is never overwritten."""

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


def ensure_interval_task(*, name: str, task: str, every_seconds: int) -> PeriodicTask:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=every_seconds, period=IntervalSchedule.SECONDS)
    periodic, _ = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": schedule})
    return periodic


def ensure_crontab_task(
    *, name: str, task: str, minute: str = "0", hour: str = "*", day_of_week: str = "*", timezone: str = "UTC"
) -> PeriodicTask:
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week=day_of_week,
        day_of_month="*",
        month_of_year="*",
        timezone=timezone,
    )
    periodic, _ = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": schedule})
    return periodic
