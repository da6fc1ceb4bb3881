"""Keeps client-link tokens, API keys and passwords out of log lines, and refusals (403, 404)
down to their one line."""

import logging
import re

_SECRET_PATTERNS = [
    (re.compile(r"(/[spc]/)[A-Za-z0-9_\-]{16,}"), r"\1[redacted]"),
    (re.compile(r"(Token\s+)[0-9a-f]{20,}", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(password['\"]?\s*[:=]\s*['\"]?)[^'\"&\s]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(token['\"]?\s*[:=]\s*['\"]?)[^'\"&\s]+", re.IGNORECASE), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RefusalsWithoutTracebackFilter(logging.Filter):
    """Django logs a refused request (403 PermissionDenied, 404) with the exception's traceback;
    a refusal is the product working, so one line says it. A 5xx keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info, record.exc_text = None, None
        return True
