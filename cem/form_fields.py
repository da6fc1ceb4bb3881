"""Form fields shared by every app's browser forms; the counterpart of `cem.serializer_fields`.

They take the years the API takes (2000 to 2099) and refuse anything else next to the field, with
the same message. Django's own fields read `0001-01-01 00:00` typed in Asia/Shanghai, or
`9999-12-31 23:59` typed in New York, without complaint; SQLite's adapter then raised
OverflowError converting the moment to UTC, and a moment it could store broke every page that
showed it to a reader east of Greenwich: a 500 either way.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_noop

from cem.serializer_fields import FIRST_DAY, LAST_DAY, OUT_OF_RANGE, in_range

# Django ends a form label with gettext(":") unless it already ends with one of gettext(":?.!").
# Named here so the site's catalogue translates both: Chinese labels end with a full-width colon,
# and one ending in a full-width question mark gets none ("您担心什么？", not "您担心什么？:").
LABEL_PUNCTUATION = (gettext_noop(":"), gettext_noop(":?.!"))


class DateTimeField(forms.DateTimeField):
    """Django's date-time, refusing a moment outside the years the product takes."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and timezone.is_aware(moment) and not in_range(moment):
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return moment


class DateField(forms.DateField):
    """Django's date, refusing a day outside the years the product takes."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return day


class SplitDateTimeField(forms.SplitDateTimeField):
    """Django's date-time in two boxes (the admin's calendar and clock), refusing a moment outside
    the years the product takes, with the message of the one-box `DateTimeField` above."""

    default_error_messages = {
        **forms.SplitDateTimeField.default_error_messages,
        "invalid_datetime": OUT_OF_RANGE,
    }

    def compress(self, data_list):
        moment = super().compress(data_list)  # aware, in the current zone, like `DateTimeField`'s
        if moment is not None and timezone.is_aware(moment) and not in_range(moment):
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return moment


class ContactChoiceField(forms.ModelChoiceField):
    """Contacts told apart by their job title (their e-mail without one): a client may have two
    people of the same name."""

    def label_from_instance(self, obj):
        detail = obj.title or obj.email
        return f"{obj} · {detail}" if detail else str(obj)
