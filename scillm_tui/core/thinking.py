"""Inline `<think>…</think>` in a model's `content`, split from the answer.

Pure and incremental, so the client can split a stream read by read. Two shapes:

- `<think>` opens the content (leading whitespace allowed): text up to `</think>` is
  thinking, the rest is the answer.
- no opening tag (the original R1 behind some gateways): the content is the answer as it
  arrives; if `</think>` comes, everything before it was thinking (`RETHINK`), and the
  text after it is the answer. A stream with neither tag is all answer.

After the answer has started behind a `</think>`, later tags are literal text. The tags
themselves, whitespace before `<think>` and whitespace right after `</think>` are
dropped; every other character ends up in the thinking or in the answer. Only a possible
partial tag (e.g. `"<thi"`) is held back, and `flush` gives it back at the end.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["CLOSE", "OPEN", "RETHINK", "Piece", "ThinkingSplitter", "split_thinking"]

OPEN: Final = "<think>"
CLOSE: Final = "</think>"

# A piece of split content: ("answer", text), ("reasoning", text), or RETHINK ("all the
# answer so far was thinking").
Piece = tuple[Literal["answer", "reasoning", "rethink"], str]
RETHINK: Final[Piece] = ("rethink", "")

_START = 0  # nothing but whitespace and maybe part of "<think>" so far
_THINKING = 1  # inside <think>
_MAYBE = 2  # answer with no opening tag: a "</think>" would make it thinking
_AFTER = 3  # just after </think>: leading whitespace is dropped
_ANSWER = 4  # the answer; tags are literal text


def _partial_tag_at(text: str, tag: str) -> int:
    """Where a suffix of `text` that is a proper prefix of `tag` starts (len(text) if none)."""
    start = text.rfind("<", max(0, len(text) - len(tag) + 1))
    if start >= 0 and tag.startswith(text[start:]):
        return start
    return len(text)


class ThinkingSplitter:
    """Splits a stream's `content` into thinking and answer pieces, read by read."""

    __slots__ = ("_held", "_state", "answered")

    def __init__(self) -> None:
        self._state = _START
        self._held = ""
        self.answered = False  # some answer text was given out (a RETHINK can follow)

    @property
    def plain(self) -> bool:
        """True once everything that follows is answer: `feed` returns it unchanged."""
        return self._state == _ANSWER

    def literal(self) -> list[Piece]:
        """From now on all content is answer (the server sends thinking in its own field);
        returns what was held back, as answer."""
        pieces = self.flush()
        self._state = _ANSWER
        return pieces

    def feed(self, text: str) -> list[Piece]:
        """The pieces `text` completes, in order; a possible partial tag is held back."""
        state = self._state
        if state == _ANSWER:
            return [("answer", text)] if text else []
        if state == _MAYBE and not self._held and "<" not in text:
            self.answered = True  # the common case: plain text, no tag in sight
            return [("answer", text)] if text else []
        text = self._held + text
        self._held = ""
        out: list[Piece] = []
        while text:
            state = self._state
            if state == _START:
                rest = text.lstrip()
                if rest.startswith(OPEN):
                    self._state = _THINKING
                    text = rest[len(OPEN) :]
                elif not rest or OPEN.startswith(rest):
                    self._held = text  # whitespace, or "<thi": not decided yet
                    return out
                else:
                    self._state = _MAYBE
            elif state == _THINKING:
                end = text.find(CLOSE)
                if end >= 0:
                    if end:
                        out.append(("reasoning", text[:end]))
                    self._state = _AFTER
                    text = text[end + len(CLOSE) :]
                    continue
                cut = _partial_tag_at(text, CLOSE)
                if cut:
                    out.append(("reasoning", text[:cut]))
                self._held = text[cut:]
                return out
            elif state == _MAYBE:
                end = text.find(CLOSE)
                if end >= 0:
                    if self.answered:
                        out.append(RETHINK)
                        self.answered = False
                    if end:
                        out.append(("reasoning", text[:end]))
                    self._state = _AFTER
                    text = text[end + len(CLOSE) :]
                    continue
                cut = _partial_tag_at(text, CLOSE)
                if cut:
                    out.append(("answer", text[:cut]))
                    self.answered = True
                self._held = text[cut:]
                return out
            elif state == _AFTER:
                text = text.lstrip()
                if text:
                    self._state = _ANSWER
            else:
                out.append(("answer", text))
                self.answered = True
                return out
        return out

    def flush(self) -> list[Piece]:
        """What was held back, at the end of the stream (or when it failed)."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state == _THINKING:
            return [("reasoning", held)]
        self.answered = True
        return [("answer", held)]


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) of a whole content string, as `ThinkingSplitter` splits it."""
    rest = text.lstrip()
    if rest.startswith(OPEN):
        body = rest[len(OPEN) :]
        end = body.find(CLOSE)
        if end < 0:
            return body, ""
        return body[:end], body[end + len(CLOSE) :].lstrip()
    end = text.find(CLOSE)
    if end < 0:
        return "", text
    return text[:end], text[end + len(CLOSE) :].lstrip()
