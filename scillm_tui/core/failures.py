"""Turn HTTP statuses and transport exceptions into one clear sentence with a hint.

Messages never contain keys: server bodies pass through `redact` and are shortened.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx

from scillm_tui.core.endpoints import EndpointConfig
from scillm_tui.core.events import ErrorCategory
from scillm_tui.core.redact import redact
from scillm_tui.core.retry import is_retryable_status

_KEY_WORDS = re.compile(
    r"api[ _-]?key|invalid key|bad key|unauthori[sz]ed|authenticat|token|credential"
    r"|database|\bdb\b",
    re.IGNORECASE,
)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Failure:
    category: ErrorCategory
    message: str
    status_code: int | None = None
    retryable: bool = False


def server_message(body: bytes | str, limit: int = 200) -> str:
    """The `error.message` of an OpenAI-style body, or the body's first line, redacted."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("detail") or error)
        elif isinstance(error, str):
            message = error
        elif "detail" in data:
            message = str(data["detail"])
    message = redact(" ".join(_CONTROL.sub("", message).split()))  # mask before any cut
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message


def classify_status(
    status: int, body: bytes | str, endpoint: EndpointConfig, model: str | None = None
) -> Failure:
    """Classify an HTTP error status into a category and a message that says what to do."""
    detail = server_message(body)
    said = f": {detail}" if detail else ""
    where = endpoint.label
    if status in (401, 403) or (status == 400 and _KEY_WORDS.search(detail or "")):
        if endpoint.api_key is None:
            hint = f"set {endpoint.key_variable}"
        else:
            hint = f"check {endpoint.key_variable}"
        return Failure(
            "auth", f"key rejected by the {where} (HTTP {status}{said}) — {hint}", status
        )
    if 300 <= status < 400:
        return Failure(
            "protocol",
            f"the {where} answered with a redirect (HTTP {status}) — redirects are not "
            "followed, so the key is never sent to another host; check the base URL",
            status,
        )
    if status == 404:
        what = f"model {model!r} not found" if model else "not found"
        return Failure(
            "not_found",
            f"{what} on the {where} (HTTP 404{said}) — pick a model from /v1/models",
            status,
        )
    if status == 429:
        return Failure(
            "rate_limited", f"rate limited by the {where} (HTTP 429{said})", status, True
        )
    if status in (400, 422):
        return Failure(
            "bad_request", f"the {where} rejected the request (HTTP {status}{said})", status
        )
    if is_retryable_status(status):
        category: ErrorCategory = "server" if status >= 500 else "timeout"
        return Failure(category, f"the {where} failed (HTTP {status}{said})", status, True)
    return Failure("bad_request", f"the {where} answered HTTP {status}{said}", status)


def _exception_chain(exc: BaseException, limit: int = 8) -> list[BaseException]:
    """`exc` and its causes (`__cause__`, else `__context__`), at most `limit`, no cycles."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < limit and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify_exception(exc: BaseException, endpoint: EndpointConfig, *, streaming: bool) -> Failure:
    """Classify a transport exception. `streaming` means response headers had arrived."""
    where = endpoint.label
    host = endpoint.host
    text = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure(
            "timeout", f"could not connect to {host} in time (connect timeout)", None, True
        )
    if isinstance(exc, httpx.TimeoutException):
        if streaming:
            return Failure("idle_timeout", "the stream went silent (idle timeout)", None, True)
        return Failure("timeout", f"no answer from {host} in time (read timeout)", None, True)
    if isinstance(exc, httpx.ConnectError):
        # anyio reports "All connection attempts failed"; the cause is in the chain.
        chain = _exception_chain(exc)
        lowered = " ".join(redact(str(e)) for e in chain).lower()
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            lowered += " refused"
        if (
            "name or service not known" in lowered
            or "nodename nor servname" in lowered
            or ("temporary failure in name resolution" in lowered)
        ):
            # Not retried: a name that does not resolve will not resolve a second later.
            return Failure("connection", f"cannot resolve host {host.split(':')[0]!r}")
        if "refused" in lowered or "errno 111" in lowered:
            if endpoint.name == "sidecar":
                message = f"connection refused — is the sidecar running on {host}?"
            else:
                message = f"connection refused by {host}"
            # Not retried: nothing listens there, so the run fails fast with the reason.
            return Failure("connection", message)
        return Failure("connection", f"cannot connect to {host} ({text})", None, True)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        if streaming:
            return Failure("dropped", f"the {where} closed the connection mid-stream", None, True)
        return Failure("connection", f"the {where} closed the connection ({text})", None, True)
    if isinstance(exc, httpx.TransportError):
        return Failure("connection", f"network error talking to {host} ({text})", None, True)
    return Failure("protocol", f"unexpected error from the {where}: {type(exc).__name__}: {text}")
