from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from digests.weeks import IsoWeek, due_week, parse_week

from .conftest import LONDON, NEW_YORK, SHANGHAI, at


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (Python subtracts wall clocks within one zone)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def test_an_iso_week_is_parsed_with_or_without_the_dash():
    assert parse_week("2025-W09") == IsoWeek(2025, 9)
    assert parse_week("2025w09") == IsoWeek(2025, 9)
    assert str(IsoWeek(2025, 9)) == "2025-W09"


@pytest.mark.parametrize("value", ["", "2025-09", "2025-W00", "2025-W54", "2021-W53", "next week"])
def test_a_malformed_or_impossible_week_is_an_error_on_the_week_field(value):
    with pytest.raises(ValidationError) as error:
        parse_week(value)
    assert "week" in error.value.message_dict


def test_a_week_runs_monday_midnight_to_monday_midnight_in_shanghai():
    start, end = IsoWeek(2025, 10).bounds(SHANGHAI)
    assert start == at(2025, 3, 3, 0)
    assert start.astimezone(UTC) == datetime(2025, 3, 2, 16, tzinfo=UTC)
    assert elapsed(start, end) == timedelta(hours=168)


def test_the_week_holding_the_spring_dst_switch_is_an_hour_short_in_london():
    start, end = IsoWeek(2025, 13).bounds(LONDON)  # clocks go forward on Sunday 30 March
    assert start.astimezone(UTC) == datetime(2025, 3, 24, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2025, 3, 30, 23, tzinfo=UTC)
    assert elapsed(start, end) == timedelta(hours=167)


def test_the_week_holding_the_autumn_dst_switch_is_an_hour_long_in_new_york():
    start, end = IsoWeek(2025, 44).bounds(NEW_YORK)  # clocks go back on Sunday 2 November
    assert elapsed(start, end) == timedelta(hours=169)


def test_the_digest_is_due_from_monday_0800_local_time():
    assert due_week(at(2025, 3, 10, 7, 59), SHANGHAI) == IsoWeek(2025, 9)
    assert due_week(at(2025, 3, 10, 8, 0), SHANGHAI) == IsoWeek(2025, 10)
    assert due_week(at(2025, 3, 16, 23, 59), SHANGHAI) == IsoWeek(2025, 10)


def test_new_york_reaches_monday_0800_twelve_hours_after_shanghai_across_its_dst_switch():
    shanghai_due = at(2025, 3, 10, 8)  # 00:00 UTC
    assert due_week(shanghai_due, NEW_YORK) == IsoWeek(2025, 9)
    new_york_due = datetime(2025, 3, 10, 8, tzinfo=NEW_YORK)  # EDT since Sunday: 12:00 UTC
    assert new_york_due.astimezone(UTC).hour == 12
    assert due_week(new_york_due - timedelta(minutes=1), NEW_YORK) == IsoWeek(2025, 9)
    assert due_week(new_york_due, NEW_YORK) == IsoWeek(2025, 10)
