"""Log-in hardening: brute-force lockout (browser and token endpoint), throttling, session key
rotation, and the idle and absolute session timeouts."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "pass-word-123"  # the factories' password
PAGE = "/imports/"  # any login-required page


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def fail_login(client, username, times):
    for _ in range(times):
        response = client.post(LOGIN, {"username": username, "password": "wrong-guess"})
        assert response.status_code in (200, 429)
    return response


def test_five_failed_logins_lock_the_account_out_with_a_clear_page(client, owner, axes_on):
    assert fail_login(client, "owner", 4).status_code == 200

    locked = fail_login(client, "owner", 1)

    assert locked.status_code == 429
    assert "registration/lockout.html" in [t.name for t in locked.templates]
    # Even the right password is refused during the cool-off.
    again = client.post(LOGIN, {"username": "owner", "password": PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_lifts_after_the_cool_off(client, owner, axes_on):
    fail_login(client, "owner", 5)

    with time_machine.travel(timezone.now() + django_settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        response = client.post(LOGIN, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302


def test_failed_token_requests_count_towards_the_same_lockout(client, api, owner, axes_on):
    for _ in range(5):
        assert api.post(TOKEN, {"username": "owner", "password": "wrong-guess"}).status_code == 400

    refused = api.post(TOKEN, {"username": "owner", "password": PASSWORD})
    browser = client.post(LOGIN, {"username": "owner", "password": PASSWORD})

    # Locked: even the right password gets no token (the endpoint answers as for bad credentials).
    assert refused.status_code == 400
    assert "token" not in refused.json()
    assert browser.status_code == 429


def test_the_token_endpoint_is_rate_limited(api, owner):
    answers = [api.post(TOKEN, {"username": "owner", "password": "wrong"}).status_code for _ in range(11)]

    assert answers[:10] == [400] * 10
    assert answers[10] == 429


def test_a_good_token_request_returns_a_token(api, owner):
    response = api.post(TOKEN, {"username": "owner", "password": PASSWORD})

    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


def test_logging_in_rotates_the_session_key(client, owner):
    session = client.session
    session["visited"] = True
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key

    client.post(LOGIN, {"username": "owner", "password": PASSWORD})

    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_an_idle_session_is_logged_out(client, owner, settings):
    settings.SESSION_IDLE_SECONDS = 1800
    with time_machine.travel("2026-05-01 09:00 +08:00") as clock:
        client.post(LOGIN, {"username": "owner", "password": PASSWORD})
        assert client.get(PAGE).status_code == 200

        clock.shift(timedelta(minutes=29))
        assert client.get(PAGE).status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.get(PAGE)

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_activity_does_not_stretch_a_session_past_its_absolute_limit(client, owner, settings):
    settings.SESSION_IDLE_SECONDS = 1800
    settings.SESSION_COOKIE_AGE = 3600
    # The clock stands still: the session stamps whole seconds, and a slow run crossed one.
    with time_machine.travel("2026-05-01 09:00 +08:00", tick=False) as clock:
        client.post(LOGIN, {"username": "owner", "password": PASSWORD})
        for _ in range(3):  # busy all along: at 20, 40 and 60 minutes
            clock.shift(timedelta(minutes=20))
            assert client.get(PAGE).status_code == 200
        clock.shift(timedelta(minutes=2))
        response = client.get(PAGE)

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
