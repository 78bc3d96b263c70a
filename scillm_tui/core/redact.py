"""Keep secrets out of every string we show, log or write.

Keys are registered once when settings load; anything that may echo them (server error
bodies, debug logs, exception text) passes through `redact()` before it leaves the core.
"""

from __future__ import annotations

import logging
import threading

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact` masks it. Very short values are ignored (too noisy)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced by `***`."""
    if not _secrets or not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        return True
