"""Reading a batch's prompt file: `.txt`, `.jsonl` or `.csv`, checked before anything runs.

Every problem names its line, and one bad line rejects the whole file: a batch that
quietly skipped a prompt would rank models over a different set than the user meant.

Prompt ids: the `id` given in the file, else `p-` and the first 12 hex digits of the
SHA-256 of the system prompt and the prompt. A hash, not a line number, so `--resume`
still matches prompts after lines were added, removed or reordered; the same prompt twice
in one file is therefore an error (give each an `id` to run it twice).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = (".txt", ".jsonl", ".csv")
FIELDS = ("prompt", "system", "id", "tags")
_TAG_SPLIT = re.compile(r"[;,]")


class PromptFileError(ValueError):
    """The prompt file cannot be used; `line` is 1-based (None: the file as a whole)."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class BatchPrompt:
    id: str
    prompt: str
    system: str | None
    tags: tuple[str, ...]
    line: int


def prompt_id(prompt: str, system: str | None) -> str:
    """The default id: stable across runs and edits elsewhere in the file."""
    digest = hashlib.sha256(f"{system or ''}\0{prompt}".encode()).hexdigest()
    return f"p-{digest[:12]}"


def read_prompts(path: Path) -> list[BatchPrompt]:
    """Every prompt of `path`, in file order. Raises `PromptFileError`."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PromptFileError(
            path, f"unknown format {suffix or '(none)'!r}: use .txt, .jsonl or .csv"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PromptFileError(path, f"cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PromptFileError(path, "not UTF-8 text", line) from None
    if suffix == ".txt":
        rows = _txt(text)
    elif suffix == ".jsonl":
        rows = _jsonl(path, text)
    else:
        rows = _csv(path, text)
    prompts: list[BatchPrompt] = []
    seen: dict[str, int] = {}
    for line, fields in rows:
        prompt = _check(path, line, fields)
        if prompt.id in seen:
            raise PromptFileError(
                path, f"duplicate prompt id {prompt.id!r} (also on line {seen[prompt.id]})", line
            )
        seen[prompt.id] = line
        prompts.append(prompt)
    if not prompts:
        raise PromptFileError(path, "no prompts in it")
    return prompts


def _txt(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, {"prompt": line.rstrip()}


def _jsonl(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise PromptFileError(path, f"not JSON: {exc}", number) from None
        if not isinstance(obj, dict):
            raise PromptFileError(path, 'each line must be a JSON object {"prompt": ...}', number)
        yield number, obj


def _csv(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise PromptFileError(path, f"bad CSV: {exc}", 1) from None
    if not header or "prompt" not in header:
        raise PromptFileError(path, "the header has no 'prompt' column", 1)
    _unknown(path, 1, header)
    try:
        for row in reader:
            if None in row:
                raise PromptFileError(path, "more fields than the header has", reader.line_num)
            yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}
    except csv.Error as exc:
        raise PromptFileError(path, f"bad CSV: {exc}", reader.line_num) from None


def _unknown(path: Path, line: int, keys: Iterable[str]) -> None:
    unknown = [k for k in keys if k not in FIELDS]
    if unknown:
        raise PromptFileError(
            path, f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})", line
        )


def _check(path: Path, line: int, fields: dict[str, Any]) -> BatchPrompt:
    _unknown(path, line, fields)
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise PromptFileError(path, "'prompt' is missing or empty", line)
    system = fields.get("system")
    if system is not None and not isinstance(system, str):
        raise PromptFileError(path, "'system' must be a string", line)
    given = fields.get("id")
    if given is not None and (isinstance(given, bool) or not isinstance(given, (str, int))):
        raise PromptFileError(path, "'id' must be a string or a number", line)
    if given is not None and not str(given).strip():
        raise PromptFileError(path, "'id' is empty", line)
    raw_tags = fields.get("tags", [])
    if isinstance(raw_tags, str):
        tags = tuple(t.strip() for t in _TAG_SPLIT.split(raw_tags) if t.strip())
    elif isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags):
        tags = tuple(t.strip() for t in raw_tags if t.strip())
    else:
        raise PromptFileError(path, "'tags' must be a list of strings or 'a;b'", line)
    pid = str(given).strip() if given is not None else prompt_id(prompt, system or None)
    return BatchPrompt(id=pid, prompt=prompt, system=system or None, tags=tags, line=line)
