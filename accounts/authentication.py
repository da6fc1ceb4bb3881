"""API authentication that treats a token caller like a signed-in browser user."""

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication


class UserZoneTokenAuthentication(TokenAuthentication):
    """Token authentication that also activates the caller's time zone.

    `UserTimeZoneMiddleware` does this for browser sessions, but a token is only read inside
    the API view, after the middleware ran: without this, a token caller's times were shown,
    and their offset-less input read, in the site's zone. The middleware deactivates it after
    the response.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            timezone.activate(result[0].zone)
        return result
