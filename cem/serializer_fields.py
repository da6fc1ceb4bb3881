"""Serializer fields shared by every app's API.

Python's datetime ends at the years 1 and 9999, so a moment near either end may not convert to
UTC (as SQLite's adapter does for every write and comparison) or into a zone on the far side of
Greenwich (as every answer and page does for its reader). DRF's own field let such a moment
through, or raised OverflowError while checking it (year 1 without an offset, read in
Asia/Shanghai): a 500. `DateTimeField` here answers DRF's translated "Datetime value out of
range." on the field instead, like any other bad input; `ModelSerializer` uses it for the model's
date-times.
"""

from datetime import UTC, datetime, timedelta

from django.db import models
from django.utils import timezone
from rest_framework import serializers

# Every UTC offset is less than a day: a moment a day inside Python's range shows in any zone.
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)

OUT_OF_RANGE = serializers.DateTimeField.default_error_messages["overflow"]


def in_range(moment: datetime) -> bool:
    """Whether an aware `moment` converts to UTC and to every time zone (comparing converts none)."""
    return EARLIEST <= moment <= LATEST


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time, refusing a moment that cannot be stored in UTC or shown in every zone."""

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except OverflowError:  # DRF checks a naive moment for ambiguity through UTC
            self.fail("overflow")
        if timezone.is_aware(moment) and not in_range(moment):
            self.fail("overflow")
        return moment


# DRF's, with the model's date-times read through the `DateTimeField` above. No docstring:
# drf-spectacular would show it as the description of every serializer built on this one.
class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }
