"""The user's kept choices: theme, the run form's last values, and key rebindings.

A small TOML file in the XDG config dir (`$XDG_CONFIG_HOME/scillm-tui/config.toml`,
default `~/.config/scillm-tui/config.toml`), read with the stdlib `tomllib` and written
atomically. Reading never raises: a broken file gives the defaults and one sentence
saying what is wrong (the app shows it once), and a broken file is never overwritten.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args

from scillm_tui.core.atomic import atomic_write_text
from scillm_tui.core.judge import JudgeMode

__all__ = [
    "FormChoices",
    "UserConfig",
    "config_path",
    "form_choices",
    "load_user_config",
    "save_user_config",
]

FILE_NAME = "config.toml"


def config_path() -> Path:
    """Where the config file lives (XDG config dir)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "scillm-tui" / FILE_NAME


@dataclass(frozen=True)
class FormChoices:
    """The run form's last values; None: not saved (the form's default applies)."""

    models: str | None = None  # as typed: comma-separated
    n: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    judge_model: str | None = None
    judge_rounds: int | None = None
    judge_mode: str | None = None  # one of JUDGE_MODE_CHOICES


@dataclass(frozen=True)
class UserConfig:
    theme: str | None = None
    form: FormChoices = field(default_factory=FormChoices)
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> key(s)


# field -> (type, low, high); ranges as the form accepts them
_FORM_FIELDS: dict[str, tuple[type, float | None, float | None]] = {
    "models": (str, None, None),
    "n": (int, 1, 64),
    "temperature": (float, 0, 2),
    "max_tokens": (int, 1, None),
    "judge_model": (str, None, None),
    "judge_rounds": (int, 1, 9),
    "judge_mode": (str, None, None),
}
# fields whose text must be one of a few words
_FORM_CHOICES: dict[str, tuple[str, ...]] = {"judge_mode": get_args(JudgeMode)}


_KIND_WORDS = {str: "text", int: "a whole number", float: "a number"}


class _Invalid(ValueError):
    pass


def load_user_config(path: Path | None = None) -> tuple[UserConfig, str | None]:
    """The saved config (defaults when there is no file) and, if the file is unusable,
    one sentence saying why (then everything is the default)."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UserConfig(), None
    except OSError as exc:
        return UserConfig(), f"cannot read {path}: {exc.strerror or exc}"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        return _parse(data), None
    except UnicodeDecodeError:
        return UserConfig(), f"{path} is not UTF-8 text; using the defaults"
    except tomllib.TOMLDecodeError as exc:
        return UserConfig(), f"{path} is not valid TOML ({exc}); using the defaults"
    except _Invalid as exc:
        return UserConfig(), f"{path}: {exc}; using the defaults"


def _parse(data: dict[str, Any]) -> UserConfig:
    unknown = set(data) - {"theme", "form", "keys"}
    if unknown:
        raise _Invalid(f"unknown setting {sorted(unknown)[0]!r}")
    theme = data.get("theme")
    if theme is not None and (not isinstance(theme, str) or not theme.strip()):
        raise _Invalid("theme must be a theme name")
    form_data = _table(data, "form")
    form: dict[str, Any] = {}
    for name, value in form_data.items():
        if name not in _FORM_FIELDS:
            raise _Invalid(f"unknown form setting {name!r}")
        form[name] = _choice(name, _checked(f"form.{name}", value, *_FORM_FIELDS[name]))
    keys: dict[str, str] = {}
    for binding_id, value in _table(data, "keys").items():
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(f'keys.{binding_id} must be a key such as "f3" or "ctrl+k"')
        keys[binding_id] = value.strip()
    return UserConfig(theme=theme, form=FormChoices(**form), keys=keys)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise _Invalid(f"[{name}] must be a table")
    return value


def _checked(name: str, value: object, kind: type, low: float | None, high: float | None) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Invalid(f"{name} must be {_KIND_WORDS[kind]}")
    if kind is str:
        assert isinstance(value, str)
        if not value.strip():
            raise _Invalid(f"{name} is empty")
        return value.strip()
    number = float(value)  # type: ignore[arg-type]
    if (
        (low is not None and number < low)
        or (high is not None and number > high)
        or (number != number)
    ):
        span = f"from {low:g}" + (f" to {high:g}" if high is not None else " up")
        raise _Invalid(f"{name} must be {span} (got {value!r})")
    return value


def _choice(name: str, value: Any) -> Any:
    choices = _FORM_CHOICES.get(name)
    if choices is not None and value not in choices:
        raise _Invalid(f"form.{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def form_choices(texts: dict[str, str], previous: FormChoices) -> FormChoices:
    """The form's fields as typed (`texts`: field name -> text) as choices to keep. An
    unusable field keeps its `previous` value; an empty one is not kept (its default)."""
    kept: dict[str, Any] = {}
    for f in fields(previous):
        text = texts.get(f.name)
        if text is None:
            kept[f.name] = getattr(previous, f.name)
            continue
        text = text.strip()
        if not text:
            kept[f.name] = None
            continue
        kind, low, high = _FORM_FIELDS[f.name]
        try:
            value = text if kind is str else kind(text)
            kept[f.name] = _choice(f.name, _checked(f.name, value, kind, low, high))
        except ValueError:  # _Invalid too
            kept[f.name] = getattr(previous, f.name)
    return FormChoices(**kept)


def dumps(config: UserConfig) -> str:
    """`config` as TOML (only what is set)."""
    lines = ["# scillm-tui's kept choices; rewritten when the app exits.", ""]
    if config.theme is not None:
        lines += [f"theme = {_string(config.theme)}", ""]
    form = [
        f"{f.name} = {_value(getattr(config.form, f.name))}"
        for f in fields(config.form)
        if getattr(config.form, f.name) is not None
    ]
    if form:
        lines += ["[form]", *form, ""]
    lines += [
        '# Rebind keys by binding id, e.g. run = "ctrl+g", zoom = "f3"',
        "[keys]",
        *(f"{_string(k)} = {_string(v)}" for k, v in config.keys.items()),
    ]
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    return _string(value) if isinstance(value, str) else repr(value)


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but TOML also forbids DEL)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def save_user_config(config: UserConfig, path: Path | None = None) -> None:
    """Write `config` atomically (never a half-written file). Blocking: call it off the
    event loop."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, dumps(config))
