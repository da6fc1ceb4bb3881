"""What every app's admin shares: the date-time and date fields of `cem.form_fields` behind the
admin's own calendar and clock widgets, so the back office refuses a moment near Python's date
limits (year 1, year 9999) as bad input, like the pages and the API, instead of answering 500 or
storing a moment that breaks every page showing it in another time zone.

Not an app: nothing here is registered. Every app's ModelAdmin and inline names
`DateRangeAdminMixin` first among its bases (tests/security/test_far_out_dates_in_admin.py checks).
"""

from django.contrib.admin import widgets
from django.db import models

from cem.form_fields import DateField, SplitDateTimeField

# Merged by the admin over its own defaults (options.FORMFIELD_FOR_DBFIELD_DEFAULTS), keyed by
# the model field's class and found along its MRO: `DateTimeField` before `DateField`, its base.
# Fields with choices, read-only fields and `formfield_for_dbfield` kwargs are left as Django has them.
FORMFIELD_OVERRIDES = {
    models.DateTimeField: {"form_class": SplitDateTimeField, "widget": widgets.AdminSplitDateTime},
    models.DateField: {"form_class": DateField, "widget": widgets.AdminDateWidget},
}


class DateRangeAdminMixin:
    """Date-times and dates read through the range-checking fields; for any ModelAdmin or inline."""

    formfield_overrides = FORMFIELD_OVERRIDES
