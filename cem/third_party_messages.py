"""Strings the installed packages translate in the admin but whose Chinese their own catalogues
lack (django-axes ships none; django-celery-beat's is incomplete and in places wrong), and
Django's own where its Chinese reads wrongly on our pages.

Never imported: `makemessages` reads this module, so the project's catalogue (locale/, which
takes precedence over every app's) carries their Chinese. Each msgid is exactly as the package's
source writes it (axes/models.py, axes/admin.py; django_celery_beat/models.py, admin.py): one that
a package's upgrade changes shows in English again, until it is copied here anew.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

AXES = (
    # Models (axes/models.py).
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    # Fields (axes/models.py).
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    # The admin's filter, fieldsets and empty value (axes/admin.py).
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
)

CELERY_BEAT = (
    # Missing from the package's catalogue (django_celery_beat/admin.py, models.py).
    gettext_noop("Arguments"),
    gettext_noop("Execution Options"),
    gettext_noop("Periodic Tasks Using This Schedule"),
    gettext_noop('Cron Months (1-12) Of The Year to Run. Use "*" for "all". (Example: "1,12")'),
    gettext_noop(
        'Cron Days Of The Week to Run. Use "*" for "all", Sunday is 0 or 7, Monday is 1. (Example: "0,5")'
    ),
    ngettext_lazy("{0} task was successfully enabled", "{0} tasks were successfully enabled"),
    ngettext_lazy("{0} task was successfully disabled", "{0} tasks were successfully disabled"),
    ngettext_lazy("{0} task was successfully toggled", "{0} tasks were successfully toggled"),
    # Wrong in the package's catalogue: microseconds read as milliseconds, solar events as
    # calendar events, an example not the one the English gives.
    gettext_noop("Microsecond"),
    gettext_noop("Microseconds"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
    gettext_noop("Solar Event"),
    gettext_noop("Solar Schedule"),
    gettext_noop("The type of solar event when the job should run"),
    gettext_noop("Solar Schedule to run the task on.  Set only one schedule type, leave the others null."),
    gettext_noop('Cron Days Of The Month to Run. Use "*" for "all". (Example: "1,15")'),
)

DJANGO_TIMESINCE = (
    # Ages ("4 months, 2 weeks ago"; django/utils/timesince.py). Django's catalogue has
    # "%(num)d 月" for months, which reads as a month of the year ("4 月" is April).
    ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
)
