import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils import timezone


class UserTimeZoneMiddleware:
    """Pages show times, and read the dates people type, in the signed-in user's time zone
    ("today" and "this week" are theirs); everyone else gets the site's zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SessionTimeoutMiddleware:
    """Ends a browser session after `SESSION_IDLE_SECONDS` without a request, and in any case
    `SESSION_COOKIE_AGE` seconds after the login (the absolute limit).

    The absolute limit cannot rest on the cookie's age alone: every write to the session (the
    idle stamp below included) re-issues the cookie with a fresh age. So the login time is kept
    in the session and checked here.
    """

    last_seen_key = "_last_seen"
    started_key = "_auth_started"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            session = request.session
            last_seen = session.get(self.last_seen_key)
            started = session.get(self.started_key)
            idle = last_seen is not None and now - last_seen > settings.SESSION_IDLE_SECONDS
            expired = started is not None and now - started > settings.SESSION_COOKIE_AGE
            if idle or expired:
                logout(request)
            elif last_seen is None or now - last_seen >= 60:
                # Written at most once a minute so every page view does not rewrite the session.
                session[self.last_seen_key] = now
        response = self.get_response(request)
        # The login request (or a session from before this rule): both clocks start now.
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(request, "session")
            and "_auth_user_id" in request.session  # a browser login, not an API token
            and self.started_key not in request.session
        ):
            now = int(time.time())
            request.session[self.started_key] = now
            request.session[self.last_seen_key] = now
        return response
