"""Ages in Chinese read as durations: Django's own catalogue gives "%(num)d 月" for months,
which reads as a month of the year ("4 月，2 周前" is "April, 2 weeks ago"). The project's
catalogue, consulted first, says "个月" and carries the other units with them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.timesince import timesince

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def age(then, now=None, **options) -> str:
    """`timesince` with its non-breaking spaces read as spaces."""
    return timesince(then, now or NOW, **options).replace("\xa0", " ")


def test_an_age_of_four_months_and_two_weeks_reads_as_months_in_chinese():
    then = datetime(2026, 2, 6, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    with translation.override("zh-hans"):
        shown = age(then)

    assert shown == "4 个月，2 周"
    assert "4 月" not in shown


def test_every_unit_of_an_age_reads_naturally_in_chinese():
    with translation.override("zh-hans"):
        ages = [
            age(NOW - delta, depth=1)
            for delta in (timedelta(days=800), timedelta(days=3), timedelta(hours=5), timedelta(minutes=7))
        ]

    assert ages == ["2 年", "3 天", "5 小时", "7 分钟"]


def test_an_age_still_reads_in_english():
    then = datetime(2026, 2, 6, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    with translation.override("en"):
        assert age(then) == "4 months, 2 weeks"
