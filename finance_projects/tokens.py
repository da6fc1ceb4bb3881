"""Client link tokens, URL-safe, of which only the SHA-256 is ever stored: 256 random bits, or,
for a link created from a form, an HMAC (keyed by the SECRET_KEY) of the form's 128-bit random
request key, so a form sent twice names the same link."""

import base64
import hashlib
import secrets

from django.utils.crypto import salted_hmac


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_for_request(purpose: str, request_key: str) -> str:
    """The token a form's one-time `request_key` stands for: the same key (a reload, a double
    click) gives the same token, and without the SECRET_KEY the key tells nothing of it."""
    digest = salted_hmac(f"cem.tokens.{purpose}", request_key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_request_key() -> str:
    return secrets.token_urlsafe(16)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
