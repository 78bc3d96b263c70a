"""Turn a judge's free-form answer into a verdict: forgiving in form, strict in meaning.

Judges (LLMs) wrap JSON in code fences, surround it with prose, rename keys and write
labels as "Candidate B", "(b)" or "2". All of that is accepted. What is never accepted is
a verdict whose pick does not resolve to exactly one known candidate: an unknown label,
a missing pick, a tie in a scores-only answer or two verdicts that disagree all raise
`JudgeParseError`, whose message is one sentence the caller can show the user or send
back to the judge in the repair prompt.

A thinking judge behind a server that does not split its thinking out answers
``<think>...</think>{verdict}``. The thinking often holds draft verdicts ("maybe
{"best": "B"}..."), so it is cut off first (`split_thinking`) and only the answer after
it is read: a JSON object inside the thinking is never taken as the verdict.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from scillm_tui.core.judge_prompt import MAX_LABELS, labels_for

PICK_KEYS = (
    "best_id",
    "best",
    "winner",
    "choice",
    "best_candidate",
    "selected",
    "answer",
    "best_label",
    "best_variant",
    "winner_id",
    "pick",
    "chosen",
)
REASON_KEYS = (
    "reason",
    "rationale",
    "why",
    "explanation",
    "justification",
    "reasoning",
)
SCORES_KEYS = ("scores", "score", "ratings", "rating")

SCORE_MIN = 1.0
SCORE_MAX = 10.0

_MAX_VERDICTS = 20  # verdict-looking objects examined before giving up on more
_MAX_LENIENT_CHARS = 10_000  # longest object the non-JSON fallback will try
_MAX_LENIENT_TRIES = 20
_MAX_STRICT_TRIES = 1000  # failed JSON parses cost O(position) each (error line numbers)

# Where an object can start: "{" then a key (quoted) or "}". Cheap filter before parsing.
_STRICT_START = re.compile(r'\{\s*["}]')
_LENIENT_START = re.compile(r"""\{\s*["'}]""")

_LABEL_PREFIX = re.compile(
    r"^(?:candidate|variant|option|response|answer|label|id)(?![a-z])[\s:_#\-]*", re.IGNORECASE
)
_WRAPPERS = {"(": ")", "[": "]", "{": "}", "<": ">", '"': '"', "'": "'", "`": "`", "*": "*"}
_TRAILING_PUNCT = ".,;:!?"
_NUMBER = re.compile(r"#?\s*(\d{1,6})")
_SCORE_TEXT = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(?:(?:/|out\s+of)\s*10(?:\.0+)?)?", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_THINK_OPEN = re.compile(r"\s*<(think|thinking)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(think|thinking)>", re.IGNORECASE)


class JudgeParseError(ValueError):
    """The judge's answer cannot be turned into a verdict.

    `kind` says why ("no_json", "no_pick", "bad_pick", "unknown_label", "tie",
    "conflict"); `picked` is the judge's raw pick when there was one; `labels` are the
    candidate labels that were allowed; `keys` are the keys of the JSON object examined.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "invalid",
        picked: str | None = None,
        labels: Sequence[str] = (),
        keys: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.picked = picked
        self.labels = tuple(labels)
        self.keys = tuple(keys)


class JudgePick(BaseModel):
    """A usable verdict: the winning `label`, the judge's `reason` and its 1-10 `scores`."""

    model_config = ConfigDict(frozen=True)

    label: str
    reason: str
    scores: dict[str, float]


# ---- finding JSON objects in prose -------------------------------------------------------------


_SPECIAL = re.compile(r"""[{}"'\\]""")


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the `}` closing the `{` at `start`, skipping quoted strings.

    Gives up (None) after _MAX_LENIENT_CHARS so the fallback stays cheap on huge answers.
    """
    depth = 0
    quote: str | None = None
    skip_until = 0  # the character after a backslash inside a string
    limit = min(len(text), start + _MAX_LENIENT_CHARS)
    for match in _SPECIAL.finditer(text, start, limit):
        i = match.start()
        if i < skip_until:
            continue
        ch = text[i]
        if quote is not None:
            if ch == "\\":
                skip_until = i + 2
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _lenient_load(snippet: str) -> Any:
    """Parse near-JSON: trailing commas, or a Python-style dict with single quotes."""
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", snippet))
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(snippet)
    except Exception:  # literal_eval raises many types on garbage; all mean "not a dict"
        return None


def _iter_objects(text: str, *, lenient: bool) -> Iterator[dict[Any, Any]]:
    """Yield the JSON objects in `text`, in order of their opening brace.

    Every `{` followed by a quote or `}` is a possible start (up to a budget of tries), so
    an object wrapped in another one, or preceded by a stray brace in prose, is still
    found. Strict mode uses the JSON decoder (which skips braces inside strings); lenient
    mode finds the balanced span first (string-aware) and tries the near-JSON forms.
    Objects nested inside a verdict are not yielded separately.
    """
    decoder = json.JSONDecoder()
    start = _LENIENT_START if lenient else _STRICT_START
    budget = _MAX_LENIENT_TRIES if lenient else _MAX_STRICT_TRIES
    match = start.search(text)
    while match is not None and budget > 0:
        budget -= 1
        pos = match.start()
        obj: Any = None
        end = pos + 1
        if not lenient:
            try:
                obj, end = decoder.raw_decode(text, pos)
            except (ValueError, RecursionError):
                obj = None
        else:
            span_end = _balanced_end(text, pos)
            if span_end is not None:
                obj = _lenient_load(text[pos:span_end])
                end = span_end
        next_from = pos + 1
        if isinstance(obj, dict):
            yield obj
            if _looks_like_verdict(obj):
                # Its nested objects (the scores) are part of it, not verdicts of their own.
                next_from = end
        match = start.search(text, next_from)


# ---- reading one object --------------------------------------------------------------------------


def _norm_key(key: Any) -> str:
    """Compare keys loosely: "Best ID", "best-id", "bestId" and "best_id" all give "bestid"."""
    return re.sub(r"[\s_\-]+", "", str(key)).casefold()


def _lookup(obj: Mapping[Any, Any], names: Sequence[str]) -> tuple[str, Any] | None:
    """The first of `names` present in `obj`; keys compare ignoring case, spaces, `_` and `-`."""
    normalised: dict[str, tuple[str, Any]] = {}
    for key, value in obj.items():
        normalised.setdefault(_norm_key(key), (str(key), value))
    for name in names:
        found = normalised.get(_norm_key(name))
        if found is not None:
            return found
    return None


def _looks_like_verdict(obj: Mapping[Any, Any]) -> bool:
    return _lookup(obj, PICK_KEYS) is not None or _lookup(obj, SCORES_KEYS) is not None


def _strip_decoration(value: str) -> str:
    """Peel "Candidate", brackets, quotes, markdown stars and trailing punctuation off a pick."""
    s = value.strip()
    for _ in range(8):
        before = s
        s = s.rstrip(_TRAILING_PUNCT).strip()
        if s.endswith(")") and "(" not in s:  # list style "B)"
            s = s[:-1].strip()
        if len(s) >= 2 and _WRAPPERS.get(s[0]) == s[-1]:
            s = s[1:-1].strip()
        s = _LABEL_PREFIX.sub("", s, count=1).strip()
        if s == before:
            break
    return s


def resolve_label(value: Any, labels: Sequence[str]) -> str | None:
    """The label `value` names, or None: "B", "b", "Candidate B", "(B)", "B.", "2", 2, "#2"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int):
        return labels[value - 1] if 1 <= value <= len(labels) else None
    if not isinstance(value, str):
        return None
    raw = value.strip()
    for candidate in (raw, _strip_decoration(raw)):
        for label in labels:
            if candidate.casefold() == label.casefold():
                return label
    core = _strip_decoration(raw)
    match = _NUMBER.fullmatch(core)
    if match:
        number = int(match.group(1))
        return labels[number - 1] if 1 <= number <= len(labels) else None
    return None


def _score_value(value: Any) -> float | None:
    """8, 8.5, "8", "8/10", "8 out of 10" -> a float clamped to 1..10; anything else -> None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = _SCORE_TEXT.fullmatch(value.strip())
        if not match:
            return None
        number = float(match.group(1))
    else:
        return None
    if not math.isfinite(number):
        return None
    return min(SCORE_MAX, max(SCORE_MIN, number))


def _read_scores(value: Any, labels: Sequence[str]) -> dict[str, float]:
    """Scores keyed by canonical label; unknown labels and non-numeric values are dropped."""
    scores: dict[str, float] = {}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        pairs = []
        for item in value:
            who = _lookup(item, ("id", "label", "candidate", "variant", "name"))
            rated = _lookup(item, ("score", "rating", "points", "value"))
            if who is not None and rated is not None:
                pairs.append((who[1], rated[1]))
    elif isinstance(value, list) and len(value) == len(labels):
        pairs = list(zip(labels, value, strict=True))
    else:
        return scores
    for key, raw_score in pairs:
        label = resolve_label(key, labels)
        score = _score_value(raw_score)
        if label is not None and score is not None:
            scores.setdefault(label, score)
    return scores


def _read_reason(obj: Mapping[Any, Any]) -> str:
    found = _lookup(obj, REASON_KEYS)
    if found is None:
        return ""
    value = found[1]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(v.strip() for v in value).strip()
    return ""


def _show(value: Any) -> str:
    """A short rendering of the judge's pick for an error message."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str)
        except (ValueError, TypeError, RecursionError):
            text = f"a {type(value).__name__}"
    if len(text) > 40:
        text = text[:40] + "..."
    return repr(text) if isinstance(value, str) else text


def _format_labels(labels: Sequence[str], describe: Callable[[str], str] | None) -> str:
    """ "A..D" for the usual consecutive labels, else a list (in the caller's names if given)."""
    if describe is not None:
        return ", ".join(describe(label) for label in labels)
    n = len(labels)
    if 3 <= n <= MAX_LABELS and list(labels) == labels_for(n):
        return f"{labels[0]}..{labels[-1]}"
    return ", ".join(labels)


def _verdict_from(
    obj: Mapping[Any, Any], labels: Sequence[str], describe: Callable[[str], str] | None
) -> JudgePick:
    keys = [str(k) for k in obj]
    scores_entry = _lookup(obj, SCORES_KEYS)
    scores = _read_scores(scores_entry[1], labels) if scores_entry is not None else {}
    reason = _read_reason(obj)
    pick_entry = _lookup(obj, PICK_KEYS)
    name = describe or (lambda label: label)
    allowed = _format_labels(labels, describe)

    picked = pick_entry[1] if pick_entry is not None else None
    if isinstance(picked, list) and len(picked) == 1:
        picked = picked[0]
    if isinstance(picked, Mapping):  # {"best": {"id": "B"}}
        inner = _lookup(picked, ("id", "label", "candidate", "variant", "name"))
        picked = inner[1] if inner is not None else picked
    if picked is None or (isinstance(picked, str) and not picked.strip()):
        if scores:
            best = max(scores.values())
            top = [label for label, score in scores.items() if score == best]
            if len(top) == 1:
                return JudgePick(label=top[0], reason=reason, scores=scores)
            tied = " and ".join(name(label) for label in top)
            raise JudgeParseError(
                f"the judge gave no pick and its top score is shared by {tied}",
                kind="tie",
                labels=labels,
                keys=keys,
            )
        shown = ", ".join(f'"{k}"' for k in keys[:10]) or "none"
        if len(keys) > 10:
            shown += ", ..."
        raise JudgeParseError(
            f'the judge\'s JSON has no pick (expected "best_id" naming one of {allowed}); '
            f"its keys were: {shown}",
            kind="no_pick",
            labels=labels,
            keys=keys,
        )
    label = resolve_label(picked, labels)
    if label is None:
        kind = "unknown_label" if isinstance(picked, str | int | float) else "bad_pick"
        raise JudgeParseError(
            f"the judge chose {_show(picked)}, which is not one of {allowed}",
            kind=kind,
            picked=picked if isinstance(picked, str) else _show(picked),
            labels=labels,
            keys=keys,
        )
    return JudgePick(label=label, reason=reason, scores=scores)


# ---- thinking ------------------------------------------------------------------------------------


def split_thinking(text: str) -> tuple[str, str]:
    """`(thinking, answer)`: leading ``<think>...</think>`` blocks cut off the answer.

    Handles the literal tags only (``<think>`` or ``<thinking>``, any case): one or more
    blocks at the start, an unclosed block (all thinking, no answer yet), and a closing
    tag with no opening one (what the original R1 sends on some gateways: everything
    before it was thinking, unless that text starts like a verdict: ``{`` or a fence).
    A tag later in the answer is left alone: it is answer text. Several blocks' thinking
    is joined with a blank line; text without tags is all answer.
    """
    thoughts: list[str] = []
    rest = text
    while True:
        opened = _THINK_OPEN.match(rest)
        if opened is None:
            break
        closed = _THINK_CLOSE.search(rest, opened.end())
        if closed is None:  # cut while thinking: no answer
            thoughts.append(rest[opened.end() :].strip())
            return "\n\n".join(t for t in thoughts if t), ""
        thoughts.append(rest[opened.end() : closed.start()].strip())
        rest = rest[closed.end() :]
    if not thoughts:
        closed = _THINK_CLOSE.search(rest)
        before = rest[: closed.start()] if closed is not None else ""
        if (
            closed is not None
            and _THINK_OPEN.search(before) is None
            and not before.lstrip().startswith(("{", "`"))
        ):
            thoughts.append(rest[: closed.start()].strip())
            rest = rest[closed.end() :]
    if not thoughts:
        return "", text
    return "\n\n".join(t for t in thoughts if t), rest.strip()


# ---- entry point ---------------------------------------------------------------------------------


def parse_judge_output(
    text: str,
    labels: Sequence[str],
    *,
    describe: Callable[[str], str] | None = None,
) -> JudgePick:
    """The verdict in `text`, with the pick resolved to one of `labels`.

    A leading ``<think>`` block is ignored (see `split_thinking`). Raises
    `JudgeParseError` (and nothing else) for any text; `describe` maps a label to
    the name the user knows (a variant id) for the error message only.
    """
    labels = list(labels)
    if not labels:
        raise ValueError("parse_judge_output needs at least one candidate label")
    if len(set(labels)) != len(labels):
        raise ValueError(f"candidate labels must be unique, got {labels}")
    if not isinstance(text, str):
        raise JudgeParseError("the judge's answer is not text", kind="no_json", labels=labels)
    thinking, text = split_thinking(text)
    if thinking and not text.strip():
        raise JudgeParseError(
            "the judge's answer is only thinking, with no verdict after it",
            kind="no_json",
            labels=labels,
        )

    first_object: Mapping[Any, Any] | None = None
    verdicts: list[Mapping[Any, Any]] = []
    for lenient in (False, True):
        for obj in _iter_objects(text, lenient=lenient):
            if first_object is None:
                first_object = obj
            if _looks_like_verdict(obj):
                verdicts.append(obj)
                if len(verdicts) >= _MAX_VERDICTS:
                    break
        if verdicts:
            break

    if not verdicts:
        if first_object is None:
            raise JudgeParseError(
                "the judge's answer contains no JSON object", kind="no_json", labels=labels
            )
        return _verdict_from(first_object, labels, describe)  # raises the "no pick" error

    picks: list[JudgePick] = []
    first_error: JudgeParseError | None = None
    for verdict in verdicts:
        try:
            picks.append(_verdict_from(verdict, labels, describe))
        except JudgeParseError as exc:
            first_error = first_error or exc
    if not picks:
        assert first_error is not None
        raise first_error
    chosen = list(dict.fromkeys(pick.label for pick in picks))
    if len(chosen) > 1:
        name = describe or (lambda label: label)
        raise JudgeParseError(
            "the judge's answer contains conflicting verdicts ("
            + " and ".join(name(label) for label in chosen)
            + ")",
            kind="conflict",
            labels=labels,
        )
    return picks[0]


PAIRWISE_LABELS = ("A", "B")
TIE = "tie"  # the label of a pairwise tie in `JudgePick.label`
TIE_WORDS = frozenset({"tie", "draw", "equal", "neither", "both", "none", "same", "a=b"})


def parse_pairwise_output(text: str) -> JudgePick:
    """A pairwise verdict: `label` "A", "B", or `TIE` when the judge called a tie.

    Everything `parse_judge_output` forgives is forgiven here; a pick that names a tie
    ("tie", "Draw.", "neither"), or equal scores without a pick, is a tie. Anything else
    that is not A or B raises `JudgeParseError`.
    """
    try:
        return parse_judge_output(text, (*PAIRWISE_LABELS, TIE))
    except JudgeParseError as exc:
        if exc.kind == "tie":
            return JudgePick(label=TIE, reason="", scores={})
        picked = exc.picked
        if (
            exc.kind == "unknown_label"
            and isinstance(picked, str)
            and _strip_decoration(picked).casefold() in TIE_WORDS
        ):
            return JudgePick(label=TIE, reason="", scores={})
        raise
