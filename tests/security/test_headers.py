"""Security headers on every HTML page (a Content Security Policy without inline scripts,
no framing, a referrer policy), the production settings that `check --deploy` wants, and the
mandatory production secret."""

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (chunk.strip() for chunk in header.split(";")) if part
    }


def assert_hardened(response):
    directives = csp_directives(response)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not INLINE_SCRIPT.search(response.content.decode()), "an inline <script> would be blocked"


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_anonymous_pages_carry_a_strict_policy(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.parametrize("url", ["/admin/", "/imports/", "/api/docs/"])
def test_signed_in_pages_carry_a_strict_policy(client, admin_user, url):
    client.force_login(admin_user)

    response = client.get(url)

    assert response.status_code == 200
    assert_hardened(response)


def test_the_api_docs_inline_style_is_allowed_by_its_hash_and_nothing_else(client, owner):
    client.force_login(owner)

    response = client.get("/api/docs/")

    styles = re.findall(r"<style>(.*?)</style>", response.content.decode(), flags=re.DOTALL)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles}
    style_src = csp_directives(response)["style-src"]
    assert hashes and hashes <= set(style_src)
    assert "'unsafe-inline'" not in style_src
    # Swagger UI's start-up script is a same-origin file, not inline.
    script = re.search(r'<script src="([^"]*script[^"]*)"', response.content.decode()).group(1)
    assert (
        client.get(script.replace("&amp;", "&")).headers["Content-Type"].startswith("application/javascript")
    )


def test_other_pages_do_not_inherit_the_api_docs_style_exception(client, db):
    assert csp_directives(client.get("/accounts/login/"))["style-src"] == ["'self'"]


def test_https_pages_send_hsts_and_secure_cookies_under_production_values(client, owner, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True

    response = client.post(
        "/accounts/login/", {"username": "owner", "password": "pass-word-123"}, secure=True
    )

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"


# --- production configuration, checked in a fresh interpreter ------------------------------


def production_env(**overrides) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="cem.settings",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="cem.bank.example",
    )
    env.update(overrides)
    return env


def run_python(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_notices_a_weak_secret_key():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(SECRET_KEY="short")
    )

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(["manage.py", "check"], production_env(SECRET_KEY=""))

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_turns_on_https_only_protections():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps("
        "[s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS]))"
    )
    result = run_python(["-c", code], production_env())

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        False,
        True,
        31536000,
        True,
        True,
        True,
        "DENY",
    ]
