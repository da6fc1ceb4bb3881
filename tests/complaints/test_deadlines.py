"""Deadline arithmetic: weekends, Chinese public holidays with make-up working days, the UK
bank holidays, the day of receipt not counted, and a period ending on a holiday rolled on."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from complaints import deadlines
from complaints.deadlines import Rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
CHINA = Rules(
    calendar="cn", timezone="Asia/Shanghai", ack_business_days=1, resolve_days=15, roll_past_holidays=True
)
UK = Rules(
    calendar="uk", timezone="Europe/London", ack_business_days=1, resolve_days=56, summary_business_days=3
)


def cn(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def close(y, m, d, tz=SHANGHAI):
    return datetime(y, m, d, 23, 59, 59, tzinfo=tz)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday make-up working day
        (date(2026, 9, 20), True),  # Sunday make-up working day
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 2, 14), True),  # Saturday make-up working day
        (date(2026, 2, 28), True),  # Saturday make-up working day
        (date(2026, 3, 7), False),  # an ordinary Saturday
    ],
)
def test_china_business_days_follow_the_state_council_schedule(day, expected):
    assert deadlines.is_business_day(day, "cn") is expected


def test_a_year_chinesecalendar_does_not_know_falls_back_to_weekdays_and_statutory_holidays():
    assert deadlines.is_business_day(date(2027, 1, 1), "cn") is False  # New Year's Day
    assert deadlines.is_business_day(date(2027, 1, 4), "cn") is True  # a Monday
    assert deadlines.is_business_day(date(2027, 1, 9), "cn") is False  # a Saturday


def test_acknowledgement_is_due_at_the_close_of_the_next_business_day():
    assert deadlines.ack_due(cn(2026, 3, 10), CHINA) == close(2026, 3, 11)


def test_acknowledgement_of_a_friday_complaint_is_due_on_monday():
    assert deadlines.ack_due(cn(2026, 3, 13), CHINA) == close(2026, 3, 16)


def test_acknowledgement_skips_national_day_week():
    assert deadlines.ack_due(cn(2026, 9, 30), CHINA) == close(2026, 10, 8)


def test_acknowledgement_counts_the_saturday_make_up_working_day():
    # Friday 9 October 2026 → Saturday 10 October is a working day (调休).
    assert deadlines.ack_due(cn(2026, 10, 9), CHINA) == close(2026, 10, 10)


def test_acknowledgement_across_spring_festival_uses_the_make_up_saturday():
    # Friday 13 February 2026 → Saturday 14 February is a make-up working day.
    assert deadlines.ack_due(cn(2026, 2, 13), CHINA) == close(2026, 2, 14)
    # Monday 16 February (holiday) → next working day is Tuesday 24 February.
    assert deadlines.ack_due(cn(2026, 2, 16), CHINA) == close(2026, 2, 24)


def test_receipt_time_is_read_in_the_policy_time_zone():
    # 17:00 UTC on 10 March is 01:00 on 11 March in Shanghai.
    received = datetime(2026, 3, 10, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert deadlines.ack_due(received, CHINA) == close(2026, 3, 12)


def test_decision_is_due_fifteen_calendar_days_after_the_day_of_receipt():
    assert deadlines.resolve_due(cn(2026, 3, 2), CHINA) == close(2026, 3, 17)


def test_decision_falling_on_a_weekend_rolls_to_the_next_working_day():
    # 4 March + 15 = Thursday 19 March (working) ; 7 March + 15 = Sunday 22 March → Monday 23.
    assert deadlines.resolve_due(cn(2026, 3, 4), CHINA) == close(2026, 3, 19)
    assert deadlines.resolve_due(cn(2026, 3, 7), CHINA) == close(2026, 3, 23)


def test_decision_falling_in_national_day_week_rolls_past_it():
    # 16 September + 15 = 1 October (holiday until 7 October) → 8 October.
    assert deadlines.resolve_due(cn(2026, 9, 16), CHINA) == close(2026, 10, 8)


def test_decision_landing_on_a_make_up_saturday_stays_there():
    # 25 September + 15 = Saturday 10 October, a working day.
    assert deadlines.resolve_due(cn(2026, 9, 25), CHINA) == close(2026, 10, 10)


def test_extended_decision_uses_the_allowed_days():
    assert deadlines.resolve_due(cn(2026, 3, 2), CHINA, allowed_days=30) == close(2026, 4, 1)
    assert deadlines.resolve_due(cn(2026, 3, 2), CHINA, allowed_days=60) == close(2026, 5, 6)  # 1 May → 6 May


def test_time_paused_moves_the_decision_deadline():
    paused = timedelta(days=4, hours=3)
    assert deadlines.resolve_due(cn(2026, 3, 2), CHINA, paused=paused) == close(2026, 3, 17) + paused


def test_uk_final_response_is_due_eight_weeks_after_receipt():
    received = datetime(2026, 3, 2, 9, tzinfo=LONDON)
    assert deadlines.resolve_due(received, UK) == close(2026, 4, 27, LONDON)


def test_uk_summary_resolution_is_due_by_close_of_the_third_business_day_skipping_easter():
    # Wednesday 1 April 2026 → Thu 2, (Good Friday 3, weekend, Easter Monday 6) Tue 7, Wed 8.
    received = datetime(2026, 4, 1, 11, tzinfo=LONDON)
    assert deadlines.summary_resolution_due(received, UK) == close(2026, 4, 8, LONDON)
    assert deadlines.summary_resolution_due(received, CHINA) is None


def test_uk_acknowledgement_skips_a_bank_holiday_weekend():
    received = datetime(2026, 5, 22, 15, tzinfo=LONDON)  # Friday before Spring Bank Holiday
    assert deadlines.ack_due(received, UK) == close(2026, 5, 26, LONDON)


def test_warning_starts_when_eighty_percent_of_the_time_is_used():
    received = cn(2026, 3, 1, 0)
    due = received + timedelta(days=10)
    assert deadlines.warn_at(received, due) == received + timedelta(days=8)
