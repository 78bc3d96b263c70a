"""Exceptions of the service layer. Messages are meant for users: one clear line, never a key."""

from __future__ import annotations


class ScillmError(Exception):
    """Base class for every error scillm-tui raises on purpose."""


class ConfigError(ScillmError):
    """A setting or flag is invalid; the message names the variable or flag."""


class EndpointError(ScillmError):
    """A request to an endpoint failed in a way the caller must handle (non-streaming calls)."""

    def __init__(self, message: str, *, category: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.status_code = status_code


def first_problem(exc: Exception) -> str:
    """One line for the first problem of a pydantic `ValidationError` (or any error)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
        except (IndexError, TypeError):
            first = None
        if isinstance(first, dict):
            field = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
            message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
            return f"{field}: {message}" if field else message
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
