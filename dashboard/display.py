"""Display strings for the rows of a page, computed once per request rather than once per row.

Pages with long lists (portfolio, alerts, commitments, timeline) read plain `.values()` rows and
turn them into text here: links from a URL reversed once, choice labels translated once,
people's names built once per person, dates formatted in the active time zone.
"""

import html
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from accounts.models import User
from feedback.models import DETRACTOR_AT_OR_BELOW, TOP_BOX_FROM

from .health import factor_text

# An id no row has: it marks where the id goes in a reversed URL.
_MARK = 987654321987


def id_link(name: str, *after) -> Callable[[int], str]:
    """`id_link("dashboard:project")(7)` == `reverse("dashboard:project", args=[7])`, with one
    `reverse` for every id of the page."""
    head, _mark, tail = reverse(name, args=[_MARK, *after]).partition(str(_MARK))
    return lambda pk: f"{head}{pk}{tail}"


def choice_labels(choices: Iterable[tuple[str, object]]) -> dict[str, str]:
    """Value → label in the active language."""
    return {value: str(label) for value, label in choices}


class People:
    """Names of users from `first_name`, `last_name` and `username` columns, as `str(user)`."""

    def __init__(self):
        self._names: dict[tuple[str, str, str], str] = {}

    def name(self, first: str | None, last: str | None, username: str | None) -> str:
        if username is None:
            return ""
        key = (first or "", last or "", username)
        if key not in self._names:
            self._names[key] = str(User(first_name=key[0], last_name=key[1], username=username))
        return self._names[key]


def health_title(factors: Iterable[dict] | None) -> SafeString:
    """The tooltip of a health badge: one reason a line."""
    if not factors:
        return format_html("{}", _("No problems found"))
    return format_html_join("", "{}&#10;", ((factor_text(factor),) for factor in factors))


def is_low_score(kind: str, value: int | None) -> bool:
    """Whether this one score (`nps`, `csat` or `ces`) makes its response a detractor."""
    return value is not None and value <= DETRACTOR_AT_OR_BELOW[kind]


def score_tone(kind: str, value: int | None) -> str:
    """The colour of a survey score, the same on every page: at or below its detractor mark red
    (`sev-critical`), in the top box green (`ok`), amber (`sev-warning`) between; "" for None."""
    if value is None:
        return ""
    if is_low_score(kind, value):
        return "sev-critical"
    return "ok" if value >= TOP_BOX_FROM[kind] else "sev-warning"


# Date patterns of the pages that need no translation, as strftime patterns.
_NUMERIC = {"Y-m-d": "%Y-%m-%d", "Y-m-d H:i": "%Y-%m-%d %H:%M", "m-d H:i": "%m-%d %H:%M", "m-d": "%m-%d"}


def local(value: datetime | None, pattern: str) -> str:
    """`value|date:pattern` in the active time zone; "" for None."""
    if value is None:
        return ""
    value = timezone.localtime(value)
    numeric = _NUMERIC.get(pattern)
    if numeric:
        return value.strftime(numeric)
    if pattern.startswith("D ") and pattern[2:] in _NUMERIC:
        return f"{WEEKDAYS_ABBR[value.weekday()]} {value.strftime(_NUMERIC[pattern[2:]])}"
    return dateformat.format(value, pattern)


_LINE_BREAKS = re.compile(r"\r\n|\r")


def multiline(text: str) -> SafeString:
    """`text|linebreaksbr` of a plain string (escaped, line breaks as <br>), without the filter's
    checks for lazy and safe strings."""
    return mark_safe(html.escape(_LINE_BREAKS.sub("\n", text)).replace("\n", "<br>"))


def truncate(text: str | None, length: int) -> str:
    return Truncator(text or "").chars(length)


# Younger than this, an age reads "just now": `timesince` would say "0 minutes".
JUST_NOW = timedelta(minutes=1)


def opened_ago(opened_at: datetime | None, *, now: datetime) -> str:
    """ "opened 5 minutes ago" at `now`; "opened just now" under a minute; "" for None."""
    if opened_at is None:
        return ""
    if now - opened_at < JUST_NOW:
        return _("opened just now")
    return _("opened %(age)s ago") % {"age": timesince(opened_at, now)}
