"""Form fields shared by every app's browser forms; the counterpart of `cem.serializer_fields`.

Python's datetime ends at the years 1 and 9999. Django's own fields read `0001-01-01 00:00` typed
in Asia/Shanghai, or `9999-12-31 23:59` typed in New York, without complaint; SQLite's adapter
then raised OverflowError converting the moment to UTC, and a moment it could store (9999-12-31
15:00 in New York) broke every page that showed it to a reader east of Greenwich: a 500 either
way. The fields here refuse such input with Django's own translated "Enter a valid date/time."
(or "Enter a valid date."), next to the field, like any other bad input.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cem.serializer_fields import EARLIEST, LATEST, in_range

OUT_OF_RANGE = forms.DateTimeField.default_error_messages["invalid"]


class DateTimeField(forms.DateTimeField):
    """Django's date-time, refusing a moment that cannot be stored in UTC or shown in every zone."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and timezone.is_aware(moment) and not in_range(moment):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return moment


class DateField(forms.DateField):
    """Django's date, refusing the first and the last day Python holds: read in some time zone,
    their start or end is a moment outside the range (a period filter from 0001-01-01 in Asia/Shanghai
    starts before the year 1 in UTC)."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not EARLIEST.date() <= day <= LATEST.date():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return day


class SplitDateTimeField(forms.SplitDateTimeField):
    """Django's date-time in two boxes (the admin's calendar and clock), refusing what they read as
    a moment that cannot be stored in UTC or shown in every zone, with the message of the one-box
    `DateTimeField` above."""

    default_error_messages = {
        **forms.SplitDateTimeField.default_error_messages,
        "invalid_datetime": OUT_OF_RANGE,
    }

    def compress(self, data_list):
        moment = super().compress(data_list)  # aware, in the current zone, like `DateTimeField`'s
        if moment is not None and timezone.is_aware(moment) and not in_range(moment):
            raise ValidationError(self.error_messages["invalid_datetime"], code="invalid")
        return moment
