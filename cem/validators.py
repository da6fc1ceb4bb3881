"""Validators shared by the apps' models (the project package sits below every app)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    """Deadlines and "this week" are computed in this zone: an unknown one broke every new
    complaint of a policy, and made a user's pages fall back silently to the site's zone."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("Not a known time zone; use a name such as Asia/Shanghai or Europe/London."), code="invalid"
        ) from error
