import time

from django.conf import settings
from django.contrib.auth import logout


class SessionTimeoutMiddleware:
    """Logs a browser session out after `SESSION_IDLE_SECONDS` without a request.

    The absolute limit is the session cookie's age (`SESSION_COOKIE_AGE`), which is not
    extended by activity because `SESSION_SAVE_EVERY_REQUEST` stays off.
    """

    key = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last_seen = request.session.get(self.key)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
            else:
                # Write at most once a minute so every page view does not rewrite the session.
                if last_seen is None or now - last_seen >= 60:
                    request.session[self.key] = now
        return self.get_response(request)
