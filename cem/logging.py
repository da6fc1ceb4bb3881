"""Keeps client-link tokens, API keys and passwords out of log lines."""

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
