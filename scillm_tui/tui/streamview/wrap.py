"""Incremental hard-wrapping of streamed plain text into terminal display rows.

Pure Python (no Textual import) so it can be unit- and property-tested in isolation.
Widths come from ``rich.cells`` because Textual measures the segments it composites with
the same table; any disagreement between our row widths and Rich's would shift every
column to the right of the row.

Rules (deterministic per character, which is what makes appending in pieces produce
exactly the rows of wrapping the whole text at once):

* Rows are at most ``width`` cells. ``width`` below 1 is treated as 1.
* Word wrap at ASCII spaces: a non-space that does not fit moves the partial word after
  the last space on the row to a new row; a word longer than the row is hard-broken.
  Spaces that fit stay on the row (trailing); a space that does not fit ends the row and
  is dropped (display only -- :attr:`WrappedText.text` is lossless).
* Wide characters (CJK, emoji) take 2 cells and never straddle the right edge. At
  ``width == 1`` a wide character cannot fit at all and is shown as U+FFFD.
* Zero-width characters (combining marks, ZWSP, ...) stay attached to the preceding
  character on the row. With nothing to attach to (start of a line, after a dropped
  space) they get a dotted-circle base ``◌`` so they cannot combine with whatever the
  terminal drew to the left of the row.
* ZWJ (U+200D) and VS16 (U+FE0F) are dropped from the display: Rich and terminals
  disagree about how wide the joined glyphs are, and one disagreement misaligns the
  whole screen row. Emoji sequences therefore render as their component glyphs.
* Tabs expand to the next multiple of :data:`TAB_SIZE` (4: model output is mostly code
  and columns are narrow) counted from the start of the *row*, clipped at the right
  edge; a tab at a full row ends the row like an overflowing space.
* ``\\r\\n`` and lone ``\\r`` are line breaks (a pair split across two appends still
  counts once). U+2028/U+2029 are line breaks too (Rich gives them zero width).
* C0 controls (except ``\\n``/``\\t``) become Unicode control pictures (ESC -> ``␛``),
  DEL becomes ``␡``, C1 controls and lone surrogates become U+FFFD. ANSI/OSC sequences
  are thus visible, inert text: ``\\x1b[31m`` shows as ``␛[31m``.

Storage: a view keeps every row of a long answer (and the app one view per variant
column), so rows are stored compactly. Finished rows are sealed in blocks of
:data:`BLOCK_ROWS` rows; the newest finished rows wait as ``str`` in a short list until a
whole block is full, so an append stays O(new text) and the rows a following view shows
(the newest ones) are plain strings.

The text itself is the caller's: ``WrappedText(width, source=...)`` takes a callable
returning it (the app's views read the run's state, which keeps it anyway). A sealed block
holds no text at all, only its *resume point*: the offset in the text where wrapping from an
empty row gives the block's first row, and whether a ``\\n`` there belongs to a ``\\r``
before it (8 bytes a block). Storing the rows as well, even compactly, was a second copy of
every answer's text. ``row(i)`` of a sealed block re-wraps the text from that block's resume
point (to a little past the next block's) at the same width, which gives exactly its rows
because wrapping is deterministic per character and every row starts from its resume point
in the state the full pass had there (see ``WrappedText._end_row``). The rows of the last
:data:`CACHED_BLOCKS` blocks read are kept, so drawing a screen costs a re-wrap (a few ms)
per block it shows, not per row.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from rich.cells import get_character_cell_size

__all__ = [
    "BLOCK_ROWS",
    "CACHED_BLOCKS",
    "LONE_MARK_BASE",
    "PLACEHOLDER_CHARS",
    "REPLACEMENT",
    "TAB_SIZE",
    "TextBuffer",
    "WrappedText",
    "sanitize_char",
    "wrap",
]

TAB_SIZE = 4
"""Tab stops every 4 cells, counted from the start of the display row."""

_BLOCK_SHIFT = 7
BLOCK_ROWS = 1 << _BLOCK_SHIFT
"""Finished rows per storage block (a power of two, so a row's block is a shift away).

Small enough that the not-yet-encoded rows (a ``str`` each) stay a few KiB per view,
large enough that the per-block overhead (~40 bytes) is a fraction of a byte per row.
"""
_BLOCK_MASK = BLOCK_ROWS - 1

CACHED_BLOCKS = 4
"""Re-wrapped blocks of a WrappedText kept (as rows) for further reads."""

_LOOKAHEAD = 64  # characters read past a block at first when re-wrapping it (see _rebuild)

REPLACEMENT = "\ufffd"
"""Shown for C1 controls, lone surrogates and wide characters at width 1."""

LONE_MARK_BASE = "\u25cc"
"""Base glyph for a zero-width character that has nothing to attach to."""

DEL_PICTURE = "\u2421"

PLACEHOLDER_CHARS = frozenset(
    [chr(0x2400 + code) for code in range(0x20)] + [DEL_PICTURE, REPLACEMENT]
)
"""Every glyph this module substitutes for something unprintable (for styling them)."""

_DROPPED = frozenset("\u200d\ufe0f")
_LINE_BREAKS = frozenset("\n\u2028\u2029")

# Runs of printable ASCII (spaces included) take a fast path, a row at a time; everything
# else goes one character at a time.
_TOKENS = re.compile(r"[ -~]+|.", re.DOTALL)


def sanitize_char(char: str) -> str | None:
    """Return the visible stand-in for an unprintable character, or None if it is fine.

    Tab and newline are not handled here (they are layout, not glyphs).
    """
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return DEL_PICTURE
    if 0x80 <= code < 0xA0 or 0xD800 <= code <= 0xDFFF:
        return REPLACEMENT
    return None


class TextBuffer:
    """Text that no one else keeps, as a `WrappedText` source: appended pieces, joined
    when read. For views of text without an owner (the app's views read the run's state
    instead)."""

    __slots__ = ("_parts",)

    def __init__(self, text: str = "") -> None:
        self._parts = [text] if text else []

    def __call__(self) -> str:
        parts = self._parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def append(self, text: str) -> None:
        if text:
            self._parts.append(text)

    def clear(self) -> None:
        self._parts.clear()


class _Rows(Sequence[str]):
    """Read-only view of the display rows (finished rows plus the live last row)."""

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped: WrappedText) -> None:
        self._wrapped = wrapped

    def __len__(self) -> int:
        return self._wrapped.row_count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        wrapped = self._wrapped
        if isinstance(index, slice):
            return [wrapped.row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += wrapped.row_count
        return wrapped.row(index)

    def __iter__(self) -> Iterator[str]:
        wrapped = self._wrapped
        if wrapped._starts:
            text = wrapped._source()  # once for all the blocks
            cached = wrapped._cache
            for number in range(len(wrapped._starts)):
                yield from cached.get(number) or wrapped._rebuild(number, text)
        yield from wrapped._recent
        if wrapped._has_text:
            yield wrapped._cur


class WrappedText:
    """Plain text wrapped into display rows, extended cheaply as text streams in.

    Rows that have been emitted never change; only the last row (the live one) is
    edited by :meth:`append`, so an append costs O(new text) and the caller only has to
    redraw rows from ``row_count_before - 1`` onwards. :meth:`rewrap` re-wraps
    everything and is meant for resizes only.
    """

    def __init__(self, width: int, text: str = "", *, source: Callable[[], str]) -> None:
        """`source`: a callable returning the text, which the caller keeps anyway.

        No copy of the text and no finished rows are kept, only where each block of rows
        starts in the text: ``source()[:length]`` must be exactly what was appended (it
        may run on with text not appended yet) until :meth:`clear`. Reading a row of a
        finished block calls it; the newest rows are kept and never do.
        """
        self._width = max(1, width)
        self._source = source
        self._length = 0  # characters appended
        self._has_text = False
        self._reset_rows()
        if text:
            self.append(text)

    def _reset_rows(self) -> None:
        """Forget all rows and the line-state (not the original text)."""
        self._sealed = 0  # rows in blocks (a multiple of BLOCK_ROWS)
        # Per block the resume point (see `_end_row`) of its first row; and the rows of
        # the last few blocks read, least recently read first.
        self._starts = array("Q")
        self._cache: dict[int, list[str]] = {}
        self._recent: list[str] = []  # finished rows not in a block yet (< BLOCK_ROWS)
        self._recent_start = 0  # resume point of recent[0] (or of _cur if none)
        self._cur = ""  # the live (last) row, already sanitised
        self._cur_w = 0  # its width in cells
        self._brk_i = 0  # index in _cur just after the last space; 0 = no break point
        self._brk_w = 0  # width of _cur[:_brk_i]
        self._brk_pos = 0  # offset in the text just after the break point
        self._has_last = False  # _cur ends with a cluster a zero-width char can join
        self._last_repl = False  # ...and that cluster is a U+FFFD stand-in
        self._pending_cr = False  # last char was \r: a following \n is part of it

    # -- public API ---------------------------------------------------------------

    @property
    def width(self) -> int:
        """Maximum row width in cells."""
        return self._width

    @property
    def length(self) -> int:
        """Number of characters appended."""
        return self._length

    @property
    def text(self) -> str:
        """Everything appended, byte-for-byte (controls, \\r, tabs untouched)."""
        return self._source()[: self._length] if self._length else ""

    @property
    def row_count(self) -> int:
        """Number of display rows (0 only when no text has been appended)."""
        if not self._has_text:
            return 0
        return self._sealed + len(self._recent) + 1

    @property
    def rows(self) -> Sequence[str]:
        """The sanitised display rows; ``rows[-1]`` is the live row."""
        return _Rows(self)

    def row(self, index: int) -> str:
        """Row `index` (0-based, non-negative); cheaper than ``rows[index]``."""
        if 0 <= index < self._sealed:
            return self._block_rows(index >> _BLOCK_SHIFT)[index & _BLOCK_MASK]
        index -= self._sealed
        recent = self._recent
        if 0 <= index < len(recent):
            return recent[index]
        if index == len(recent) and self._has_text:
            return self._cur
        raise IndexError("row index out of range")

    def append(self, text: str) -> None:
        """Add text, wrapping only what the new text touches."""
        if not text:
            return
        self._length += len(text)
        self._has_text = True
        self._feed(text)

    def rewrap(self, width: int, text: str | None = None) -> None:
        """Re-wrap all text at a new width (full pass; call on resize only).

        `text`, if given, must be what was appended (saves reading the text back).
        """
        if text is None:
            text = self.text if self._has_text else ""
        elif len(text) != self._length:
            raise ValueError(f"rewrap got {len(text)} characters, {self._length} were appended")
        self._width = max(1, width)
        self._reset_rows()
        if text:
            self._feed(text)

    def clear(self) -> None:
        """Remove all text and rows."""
        self._length = 0
        self._has_text = False
        self._reset_rows()

    # -- storage -------------------------------------------------------------------

    def _store_block(self, next_start: int) -> None:
        """Seal the BLOCK_ROWS finished rows in `_recent` into one block; `next_start` is
        the resume point of the row after them."""
        recent = self._recent
        self._starts.append(self._recent_start)
        self._sealed += len(recent)
        self._recent_start = next_start
        recent.clear()

    def _block_rows(self, number: int) -> list[str]:
        """The rows of sealed block `number`, from the cache or re-wrapped."""
        cache = self._cache
        rows = cache.pop(number, None)
        if rows is None:
            rows = self._rebuild(number, self._source())
            if len(cache) >= CACHED_BLOCKS:
                del cache[next(iter(cache))]  # the least recently read
        cache[number] = rows
        return rows

    def _rebuild(self, number: int, text: str) -> list[str]:
        """Re-wrap sealed block `number` from `text` (the source's text).

        Wrapping is deterministic per character, and from its resume point a row starts
        in the state the full pass had there (see `_end_row`), so wrapping on from the
        block's resume point gives the rows of the block, and then those after it. That
        takes the text up to the next block's resume point and a little beyond: a
        character that does not fit can end two rows at once (the one before the break
        point, then the carried word's, if it does not fit with that either), so the
        block's last row may end only at a character after the next block's resume point.
        """
        length = self._length
        if len(text) < length:
            raise RuntimeError("the source no longer holds the text that was appended")
        starts = self._starts
        start = starts[number]
        end = starts[number + 1] if number + 1 < len(starts) else self._recent_start
        scratch = _BlockWrapper(self._width, bool(start & 1))
        rows = scratch._recent
        position, stop, step = start >> 1, end >> 1, _LOOKAHEAD
        while True:
            scratch.feed(text[position:stop])
            if len(rows) >= BLOCK_ROWS or stop >= length:
                break
            position, stop, step = stop, min(length, stop + step), 2 * step
        if len(rows) < BLOCK_ROWS:
            raise RuntimeError("the source's text does not wrap into the rows it did")
        del rows[BLOCK_ROWS:]
        return rows

    # -- the state machine ---------------------------------------------------------

    def _feed(self, text: str) -> None:
        """Run text (the last len(text) characters appended) through the wrapping state
        machine."""
        base = self._length - len(text)  # offsets of text in everything appended
        for match in _TOKENS.finditer(text):
            token = match.group()
            first = token[0]
            if self._pending_cr:
                self._pending_cr = False
                if first == "\n":
                    continue
            if " " <= first <= "~":
                self._add_ascii(token, base + match.start())
            else:
                self._add_char(first, base + match.start())

    def _add_ascii(self, text: str, pos: int) -> None:
        """Add printable ASCII, spaces included (from offset `pos`; every character one
        cell), a row at a time: what fits is added in one piece, then the first character
        that does not fit is handled as adding characters one at a time would (a space
        ends the row and is dropped; any other wraps at the last space, else breaks the
        word). Wrapping English text this way is ~8 x faster than a word at a time.
        """
        width = self._width
        length = len(text)
        done = 0  # characters of text handled
        while done < length:
            piece = text[done : done + width - self._cur_w]  # what fits (the whole text?)
            if piece:
                cur = self._cur
                space = piece.rfind(" ")
                if space >= 0:  # the last space added is the new break point
                    self._brk_i = len(cur) + space + 1
                    self._brk_w = self._cur_w + space + 1
                    self._brk_pos = pos + done + space + 1
                self._cur = cur + piece
                self._cur_w += len(piece)
                self._has_last = True
                self._last_repl = False
                done += len(piece)
                if done == length:
                    return
            # text[done] does not fit on the row.
            if text[done] == " ":
                done += 1
                self._end_row((pos + done) << 1)
            elif self._brk_i:
                self._wrap_at_break()
            else:
                self._end_row((pos + done) << 1)

    def _add_char(self, char: str, pos: int) -> None:
        """Handle one character (at offset `pos`) outside the printable-ASCII fast path."""
        if char in _LINE_BREAKS:
            self._end_row((pos + 1) << 1)
        elif char == "\r":
            self._end_row((pos + 1) << 1 | 1)
            self._pending_cr = True
        elif char == "\t":
            room = self._width - self._cur_w
            if room:
                self._add_ascii(" " * min(TAB_SIZE - self._cur_w % TAB_SIZE, room), pos)
                self._brk_pos = pos + 1  # the spaces are one character of the text
            else:
                self._end_row((pos + 1) << 1)
        elif (stand_in := sanitize_char(char)) is not None:
            self._add_cluster(stand_in, 1, pos)
        elif char in _DROPPED:
            pass
        elif (cells := get_character_cell_size(char)) == 0:
            self._add_mark(char, pos)
        else:
            self._add_cluster(char, cells, pos)

    def _end_row(self, start: int) -> None:
        """Finish the live row and start an empty one at resume point `start`.

        A resume point is ``offset << 1 | pending_cr``: the offset in the text where
        wrapping the next row's text from an empty row gives that row, and whether a
        ``\\n`` there ends the ``\\r`` before it. Each row ends at a character (a line
        break, a dropped space, a full row or the last break point), and the state after
        it is the empty row, or the empty row plus the characters after the break point
        (the carried partial word: glyphs and their marks, no spaces, no marks of their
        own to move), which is what those characters give from an empty row too.
        """
        recent = self._recent
        recent.append(self._cur)
        if len(recent) == BLOCK_ROWS:
            self._store_block(start)
        self._cur = ""
        self._cur_w = self._brk_i = self._brk_w = 0
        self._has_last = self._last_repl = False

    def _wrap_at_break(self) -> None:
        """Finish the row at the last space, carrying the partial word to a new row."""
        brk = self._brk_i
        cur = self._cur
        recent = self._recent
        recent.append(cur[:brk])
        if len(recent) == BLOCK_ROWS:
            self._store_block(self._brk_pos << 1)
        if brk == len(cur):
            self._has_last = self._last_repl = False
        self._cur = cur[brk:]
        self._cur_w -= self._brk_w
        self._brk_i = self._brk_w = 0

    def _add_cluster(self, glyph: str, cells: int, pos: int) -> None:
        """Add one non-space glyph of 1 or 2 cells (the character at offset `pos`)."""
        width = self._width
        repl = cells > width
        if repl:
            glyph, cells = REPLACEMENT, 1
        while True:
            if self._cur_w + cells <= width:
                self._cur += glyph
                self._cur_w += cells
                self._has_last = True
                self._last_repl = repl
                return
            if self._brk_i:
                self._wrap_at_break()
            else:
                self._end_row(pos << 1)

    def _add_mark(self, mark: str, pos: int) -> None:
        """Attach a zero-width character (at offset `pos`) to the glyph before it."""
        if not self._has_last:
            self._add_cluster(LONE_MARK_BASE + mark, 1, pos)
            return
        if self._last_repl:
            return  # the stand-in replaced the whole glyph, marks included
        at_break = self._brk_i == len(self._cur)
        self._cur += mark
        if at_break:
            # Keep the mark with its space so a wrap never starts a row with it.
            self._brk_i = len(self._cur)
            self._brk_pos = pos + 1


class _BlockWrapper(WrappedText):
    """Scratch wrapper for re-wrapping one sealed block: keeps all its rows unsealed."""

    def __init__(self, width: int, pending_cr: bool) -> None:
        self._width = width
        self._source = str  # never read: a scratch wrapper seals no blocks
        self._length = 0  # fed (offsets are counted from the resume point, and unused)
        self._reset_rows()
        self._pending_cr = pending_cr

    def feed(self, text: str) -> None:
        """Wrap more text, keeping no copy of it."""
        self._length += len(text)
        self._feed(text)

    def _store_block(self, next_start: int) -> None:
        pass  # _recent just grows


def wrap(text: str, width: int) -> list[str]:
    """Wrap a whole text at once (convenience for tests)."""
    return list(WrappedText(width, text, source=lambda: text).rows)
