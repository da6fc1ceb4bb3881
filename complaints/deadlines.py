"""Deadline arithmetic on the regulator's clock. Pure functions, no database.

Days are counted the way the rules count them: the day of receipt is not counted, a deadline
ends at the close of its last day in the policy's time zone, "business days" skip weekends and
public holidays (and, in China, count the make-up working days, 调休), and where the Chinese rule
says so a period whose last day is a holiday ends on the next working day (民法典 第二百零三条).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

CALENDAR_CHINA = "cn"
CALENDAR_UK = "uk"


@dataclass(frozen=True)
class Rules:
    """What a policy says about the clock (a plain copy of the SLA policy's fields)."""

    calendar: str
    timezone: str
    ack_business_days: int
    resolve_days: int
    resolve_in_business_days: bool = False
    roll_past_holidays: bool = False
    summary_business_days: int | None = None
    warn_fraction: float = 0.8


@lru_cache(maxsize=64)
def _fallback_holidays(calendar: str, year: int) -> frozenset[date]:
    if calendar == CALENDAR_CHINA:
        return frozenset(holidays.China(years=year))
    return frozenset(holidays.UK(subdiv="ENG", years=year))


# The years the State Council's published schedule covers in the installed `chinesecalendar`.
_CHINA_SCHEDULE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def _china_knows(day: date) -> bool:
    return day.year in _CHINA_SCHEDULE_YEARS


def is_business_day(day: date, calendar: str) -> bool:
    """A working day: in China per the State Council's schedule (holidays and make-up working
    days) where `chinesecalendar` knows the year, else weekdays that are not statutory holidays."""
    if calendar == CALENDAR_CHINA and _china_knows(day):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and day not in _fallback_holidays(calendar, day.year)


def add_business_days(day: date, count: int, calendar: str) -> date:
    """The `count`-th business day after `day` (`day` itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, calendar):
            remaining -= 1
    return current


def next_business_day_on_or_after(day: date, calendar: str) -> date:
    while not is_business_day(day, calendar):
        day += timedelta(days=1)
    return day


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def close_of(day: date, tz: str) -> datetime:
    """The last second of `day` in the time zone, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))


def ack_due(received_at: datetime, rules: Rules) -> datetime:
    """Close of the n-th business day after the day of receipt."""
    day = add_business_days(local_date(received_at, rules.timezone), rules.ack_business_days, rules.calendar)
    return close_of(day, rules.timezone)


def resolve_due(
    received_at: datetime,
    rules: Rules,
    *,
    allowed_days: int | None = None,
    paused: timedelta = timedelta(0),
) -> datetime:
    """When the decision is due: `allowed_days` (the policy's days plus any extension) after the
    day of receipt, rolled past a closing holiday where the rule says so, plus time spent paused."""
    days = rules.resolve_days if allowed_days is None else allowed_days
    received = local_date(received_at, rules.timezone)
    if rules.resolve_in_business_days:
        last = add_business_days(received, days, rules.calendar)
    else:
        last = received + timedelta(days=days)
        if rules.roll_past_holidays:
            last = next_business_day_on_or_after(last, rules.calendar)
    return close_of(last, rules.timezone) + paused


def summary_resolution_due(received_at: datetime, rules: Rules) -> datetime | None:
    """UK DISP: a complaint settled by the close of the third business day after receipt may be
    answered with a summary resolution communication instead of a final response."""
    if not rules.summary_business_days:
        return None
    day = add_business_days(
        local_date(received_at, rules.timezone), rules.summary_business_days, rules.calendar
    )
    return close_of(day, rules.timezone)


def warn_at(received_at: datetime, due_at: datetime, fraction: float = 0.8) -> datetime:
    """The moment `fraction` of the time allowed between receipt and the deadline is used."""
    return received_at + (due_at - received_at) * fraction
