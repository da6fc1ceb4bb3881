"""Serializer fields shared by every app's API.

The product takes moments from 2000 to the end of 2099 (`FIRST_DAY`, `LAST_DAY`): far enough
for any deal's history and plans. A typo such as year 1, 1900 or 9999 is refused on its field
("Choose a date between 2000-01-01 and 2099-12-31.") instead of being stored, where it raised
alerts and e-mailed clients (a touchpoint of year 1 made its project's next update overdue), read
in Asia/Shanghai before 1901 as local mean time (+08:05:43, an offset ISO 8601 cannot write), or
near Python's own limits failed to convert to UTC or to a reader's zone (a 500).
`ModelSerializer` uses `DateTimeField` for the model's date-times; the browser forms, the admin
and the import use the same bounds (`cem.form_fields`).
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
# Every UTC offset is less than a day: with a day to spare, either end day is taken in any zone.
EARLIEST = datetime.combine(FIRST_DAY, time.min, tzinfo=UTC) - timedelta(days=1)
LATEST = datetime.combine(LAST_DAY, time.max, tzinfo=UTC) + timedelta(days=1)

OUT_OF_RANGE = format_lazy(_("Choose a date between {first} and {last}."), first=FIRST_DAY, last=LAST_DAY)


def in_range(moment: datetime) -> bool:
    """Whether an aware `moment` falls on a day the product takes, in the current time zone (the
    reader's): the bounds with a day to spare first, so the conversion cannot overflow."""
    return EARLIEST <= moment <= LATEST and FIRST_DAY <= timezone.localtime(moment).date() <= LAST_DAY


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time, refusing a moment outside the years the product takes."""

    default_error_messages = {**serializers.DateTimeField.default_error_messages, "overflow": OUT_OF_RANGE}

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except OverflowError:  # DRF checks a naive moment for ambiguity through UTC
            self.fail("overflow")
        if timezone.is_aware(moment) and not in_range(moment):
            self.fail("overflow")
        return moment


# What DRF's browsable API posts beside the fields: not data.
FORM_TRANSPORT_KEYS = frozenset({"csrfmiddlewaretoken", "_method", "_content", "_content_type"})


# DRF's, with the model's date-times read through the `DateTimeField` above, and a body naming
# a field the serializer does not have (a typo, a field of another resource), or setting on
# create or PATCH one the server keeps, refused on that field instead of quietly ignored: the
# caller would think it was stored. A PUT may send read-only fields back as it read them. No
# docstring: drf-spectacular would show it as the description of every serializer built on this.
class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refused = self._fields_refused(data)
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)

    def _fields_refused(self, data: Mapping) -> dict[str, list[str]]:
        setting_only_writable = self.instance is None or self.partial
        refused = {}
        for name in data:
            if name in FORM_TRANSPORT_KEYS:
                continue
            field = self.fields.get(name)
            if field is None:
                refused[name] = [_("Unknown field.")]
            elif field.read_only and setting_only_writable:
                refused[name] = [_("This field is set by the system and cannot be sent.")]
        return refused
