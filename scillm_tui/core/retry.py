"""When to retry a request, and how long to wait.

Only failures that happen before any content arrived are retried: once text has been
received, retrying would duplicate it, so the variant fails and keeps its text instead.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import BaseModel, ConfigDict

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter, bounded in attempts and in wait."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = 4  # the first try plus three retries
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0  # a server asking for longer than this is capped
    jitter: float = 0.25  # +/- fraction of the computed delay

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay before attempt number `attempt + 1`, when the server gave no hint."""
        delay = min(self.max_delay_s, self.base_delay_s * (2.0 ** max(0, attempt - 1)))
        spread = delay * self.jitter
        return max(0.0, delay + (rng or random).uniform(-spread, spread))

    def wait_for(
        self, attempt: int, headers: httpx.Headers | None, rng: random.Random | None = None
    ) -> float:
        """The server's `retry-after-ms` / `Retry-After` (capped) if given, else backoff."""
        hinted = retry_after_seconds(headers) if headers is not None else None
        if hinted is not None:
            return min(hinted, self.max_retry_after_s)
        return self.backoff(attempt, rng)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Parse `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or 500 <= status < 600


class SharedBackoff:
    """One "not before" time shared by every request to an endpoint.

    A 429 says the endpoint is over its limit for everyone: each stream backing off on its
    own would keep hammering it (the next stream's first try gets its own 429). The client
    that sees one `hold`s the endpoint for the wait it was told; every request then `wait`s
    for that moment before it is sent.
    """

    def __init__(self) -> None:
        self.not_before = 0.0  # time.monotonic() seconds
        self.holds = 0  # how many times a 429 held the endpoint (for tests and progress)

    def hold(self, seconds: float) -> None:
        """No request before `seconds` from now (a later hold already set stays)."""
        self.holds += 1
        self.not_before = max(self.not_before, time.monotonic() + max(0.0, seconds))

    def remaining(self) -> float:
        return max(0.0, self.not_before - time.monotonic())

    async def wait(self) -> None:
        """Return once no hold is in force (a hold set while waiting is honoured too)."""
        while (left := self.remaining()) > 0:
            await asyncio.sleep(left)
