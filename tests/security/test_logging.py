"""Log hygiene: client-link tokens, API tokens and passwords never reach a log line."""

import io
import logging

import pytest
from django.core.cache import cache

from cem.logging import RedactSecretsFilter, redact
from finance_projects.tokens import new_token


@pytest.fixture
def log_output():
    """What the configured (redacting) console handler writes, captured."""
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    assert handlers, "the root logger has no redacting handler"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


@pytest.mark.parametrize("prefix", ["/s/", "/p/", "/c/"])
def test_a_request_log_line_for_a_client_link_does_not_show_the_token(client, db, log_output, prefix):
    token = new_token()

    client.get(f"{prefix}{token}/")  # an unknown link: logged as a 404 with its path
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 512', f"{prefix}{token}/")

    written = log_output.getvalue()
    assert prefix + "[redacted]" in written
    assert token not in written


def test_api_tokens_and_passwords_are_redacted():
    line = redact(
        'Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b password=hunter2x {"token": "abc"}'
    )

    assert "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b" not in line
    assert "hunter2x" not in line
    assert '"abc"' not in line


def test_failed_logins_never_log_the_password(client, api, owner, settings, caplog, log_output):
    settings.AXES_ENABLED = True
    cache.clear()
    secret = "Sup3r-Secret-Pa55word"
    caplog.set_level(logging.DEBUG)

    for _ in range(6):  # past the lockout too
        client.post("/accounts/login/", {"username": "owner", "password": secret})
        api.post("/api/v1/auth/token/", {"username": "owner", "password": secret})

    assert "login failed" in caplog.text  # the failures are logged...
    assert secret not in caplog.text  # ...without the password, even before redaction
    assert secret not in log_output.getvalue()


def test_a_refused_request_is_logged_in_one_line_without_a_traceback(client, owner, log_output):
    client.force_login(owner)

    assert client.get("/team/").status_code == 403

    written = log_output.getvalue()
    assert "Forbidden (Permission denied): /team/" in written
    assert "Traceback" not in written


def test_a_server_error_keeps_its_traceback(log_output):
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.error("Internal Server Error: /x/", exc_info=True, extra={"status_code": 500})

    assert "Traceback" in log_output.getvalue()
