"""ISO weeks in a recipient's own time zone: parsing `YYYY-Www`, a week's bounds, and which
week's digest is due at a given moment (Monday 08:00 local time)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SEND_HOUR = 8
MIN_YEAR, MAX_YEAR = 1900, 9998
_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def of(cls, day: date) -> "IsoWeek":
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shift(self, weeks: int) -> "IsoWeek":
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """`[Monday 00:00, next Monday 00:00)` in `tz`; 167 or 169 hours long across a DST switch."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(weeks=1), time(0), tzinfo=tz)
        return start, end

    def send_at(self, tz: ZoneInfo) -> datetime:
        """When this week's digest is due: the following Monday at 08:00 in `tz`."""
        return datetime.combine(self.monday + timedelta(weeks=1), time(SEND_HOUR), tzinfo=tz)


def parse_week(value: str, *, field: str = "week") -> IsoWeek:
    """`2025-W09` (or `2025W09`) → IsoWeek; a ValidationError keyed by `field` otherwise."""
    match = _WEEK_RE.match((value or "").strip())
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            # The week before and after (the page's navigation, the send time) must be dates too.
            if MIN_YEAR <= year <= MAX_YEAR:
                return IsoWeek(year, week)
    raise ValidationError(
        {field: _("Enter an ISO week like 2025-W09 (year, then W and the week number 01-53).")},
        code="invalid",
    )


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or the site's default when the name is empty or unknown."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def due_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The latest week whose digest is due at `now` in `tz`: last week once this Monday's 08:00
    has passed, the week before until then (so a missed beat still catches up)."""
    local = now.astimezone(tz)
    return IsoWeek.of((local - timedelta(hours=SEND_HOUR)).date()).shift(-1)


def current_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The week `now` falls in, in `tz`."""
    return IsoWeek.of(now.astimezone(tz).date())


def last_complete_week(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The most recent week that has fully ended in `tz`."""
    return current_week(now, tz).shift(-1)
