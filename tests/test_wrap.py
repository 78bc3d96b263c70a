"""Unit and property tests for the incremental wrapper behind StreamView."""

from __future__ import annotations

import importlib
import random
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from scillm_tui.tui.streamview.wrap import (
    BLOCK_ROWS,
    CACHED_BLOCKS,
    LONE_MARK_BASE,
    REPLACEMENT,
    TAB_SIZE,
    TextBuffer,
    WrappedText,
    sanitize_char,
    wrap,
)

# The module itself (the package's `wrap` attribute is the function of that name).
wrap_module = importlib.import_module("scillm_tui.tui.streamview.wrap")


class Owned(WrappedText):
    """A WrappedText over a text it keeps itself (a `TextBuffer`), as a StreamView without
    a text source does; the app's views read the run's state instead."""

    def __init__(self, width: int, text: str = "") -> None:
        self.buffer = TextBuffer()
        super().__init__(width, text, source=self.buffer)  # appends `text` to the buffer

    def append(self, text: str) -> None:
        self.buffer.append(text)  # the owner has the text first, then the wrapper
        super().append(text)

    def clear(self) -> None:
        self.buffer.clear()
        super().clear()


# -- examples ------------------------------------------------------------------------


def test_empty_text_has_no_rows() -> None:
    wrapped = Owned(10)
    assert wrapped.row_count == 0
    assert list(wrapped.rows) == []
    wrapped.append("")
    assert wrapped.row_count == 0


def test_word_wrap_at_spaces_and_hard_break_of_long_words() -> None:
    assert wrap("hello world foo", 11) == ["hello world", "foo"]
    assert wrap("hello world", 8) == ["hello ", "world"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap("ab cdefghij", 4) == ["ab ", "cdef", "ghij"]


def test_space_that_does_not_fit_ends_the_row_and_is_dropped() -> None:
    assert wrap("abcd efgh", 4) == ["abcd", "efgh"]
    # Only display rows drop it; the text is kept as given.
    assert Owned(4, "abcd efgh").text == "abcd efgh"


def test_newlines_and_carriage_returns() -> None:
    assert wrap("a\nb", 10) == ["a", "b"]
    assert wrap("a\r\nb\rc", 10) == ["a", "b", "c"]
    assert wrap("a\n\nb\n", 10) == ["a", "", "b", ""]
    assert wrap("x\u2028y", 10) == ["x", "y"]


def test_crlf_split_across_appends_is_one_line_break() -> None:
    wrapped = Owned(10)
    wrapped.append("a\r")
    wrapped.append("\nb")
    assert list(wrapped.rows) == ["a", "b"]
    assert wrapped.text == "a\r\nb"


def test_tabs_expand_to_stops_counted_from_row_start() -> None:
    assert TAB_SIZE == 4
    assert wrap("\tx", 20) == ["    x"]
    assert wrap("ab\tc", 20) == ["ab  c"]
    assert wrap("abcd\te", 20) == ["abcd    e"]
    # Clipped at the right edge, and a tab at a full row ends it.
    assert wrap("abcde\tf", 6) == ["abcde ", "f"]
    assert wrap("abcdef\tg", 6) == ["abcdef", "g"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),
        ("\x1b]8;;http://x\x07link\x1b]8;;\x07", "␛]8;;http://x␇link␛]8;;␇"),
        ("a\x00b\x7fc", "a␀b␡c"),
        ("\x9b31m", REPLACEMENT + "31m"),  # C1 CSI
        ("\x85", REPLACEMENT),  # C1 NEL is a control, not a line break
        ("\ud800", REPLACEMENT),  # lone surrogate would break the terminal's encoder
        ("x\x0by\x0cz", "x␋y␌z"),
    ],
)
def test_control_characters_become_visible_and_inert(raw: str, shown: str) -> None:
    assert wrap(raw, 80) == [shown]


def test_sanitize_char_leaves_printable_characters_alone() -> None:
    assert sanitize_char("a") is None
    assert sanitize_char("你") is None
    assert sanitize_char("\x1b") == "␛"


def test_markup_is_just_text() -> None:
    text = "[bold red]x[/] [link=https://e.com]l[/] [@click=app.quit]q[/]"
    assert "".join(wrap(text, 200)) == text


def test_wide_characters_never_straddle_the_edge() -> None:
    assert wrap("abc你", 4) == ["abc", "你"]
    assert wrap("你好世界", 5) == ["你好", "世界"]
    assert wrap("😀😀😀", 4) == ["😀😀", "😀"]
    assert wrap("你好", 2) == ["你", "好"]


def test_wide_character_at_width_one_is_replaced() -> None:
    assert wrap("a你b", 1) == ["a", REPLACEMENT, "b"]
    assert wrap("你\u0301", 1) == [REPLACEMENT]


def test_width_below_one_is_treated_as_one() -> None:
    assert wrap("ab", 0) == ["a", "b"]
    assert Owned(-5).width == 1


def test_combining_marks_stay_with_their_base_character() -> None:
    assert wrap("abcde\u0301", 4) == ["abcd", "e\u0301"]
    assert wrap("ab cd\u0301e", 4) == ["ab ", "cd\u0301e"]
    wrapped = Owned(4)
    wrapped.append("abcde")
    wrapped.append("\u0301")
    assert list(wrapped.rows) == ["abcd", "e\u0301"]


def test_mark_with_nothing_to_attach_to_gets_a_visible_base() -> None:
    assert wrap("\u0301x", 10) == [LONE_MARK_BASE + "\u0301x"]
    assert wrap("a\n\u0301", 10) == ["a", LONE_MARK_BASE + "\u0301"]


def test_mark_after_space_moves_with_the_space() -> None:
    # The break point follows the mark, so no row starts with a bare combining mark.
    assert wrap("ab \u0301cd", 4) == ["ab \u0301", "cd"]


def test_zwj_and_vs16_are_dropped_from_display_only() -> None:
    family = "👨\u200d👩"
    assert wrap(family, 10) == ["👨👩"]
    assert wrap("❤\ufe0f", 10) == ["❤"]
    assert Owned(10, family).text == family


def test_rows_view_supports_negative_index_and_slices() -> None:
    wrapped = Owned(3, "abcdefg")
    assert wrapped.rows[-1] == "g"
    assert wrapped.rows[0:2] == ["abc", "def"]
    assert wrapped.row(1) == "def"
    with pytest.raises(IndexError):
        wrapped.rows[3]
    with pytest.raises(IndexError):
        wrapped.row(3)


def test_rewrap_and_clear() -> None:
    wrapped = Owned(4, "hello world")
    wrapped.rewrap(20)
    assert list(wrapped.rows) == ["hello world"]
    assert wrapped.width == 20
    wrapped.clear()
    assert wrapped.row_count == 0
    assert wrapped.text == ""


def test_append_only_touches_the_last_row() -> None:
    wrapped = Owned(6, "one two three")
    before = list(wrapped.rows)
    wrapped.append("four five")
    after = list(wrapped.rows)
    assert after[: len(before) - 1] == before[:-1]


def test_append_never_reprocesses_earlier_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Re-wrapping the whole unfinished line per append would be quadratic for a long
    # paragraph streamed in small chunks; only the new text may go through the wrapper.
    fed: list[str] = []
    original = WrappedText._feed

    def counting(self: WrappedText, text: str) -> None:
        fed.append(text)
        original(self, text)

    monkeypatch.setattr(WrappedText, "_feed", counting)
    wrapped = Owned(40)
    for _ in range(20_000):
        wrapped.append("x")
    assert sum(map(len, fed)) == 20_000
    assert wrapped.row_count == 500
    assert wrapped.row(499) == "x" * 40


# -- properties ------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [
        *"abc xyz  ",
        " ",
        "  ",
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\x1b",
        "\x07",
        "\x7f",
        "\x9b",
        "\ud800",
        "你",
        "好",
        "😀",
        "\u0301",
        "\u200d",
        "\ufe0f",
        "\u200b",
        "\u2028",
        LONE_MARK_BASE,
        REPLACEMENT,
        "[b]",
        "é",
    ]
)
_TEXTS = st.lists(_ALPHABET, max_size=60).map("".join)


@st.composite
def _text_and_cuts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A text and a split of it into consecutive pieces."""
    text = draw(st.one_of(_TEXTS, st.text(max_size=60)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=400, deadline=None)
@given(_text_and_cuts(), st.integers(1, 12))
def test_appending_in_pieces_equals_wrapping_at_once(
    text_and_pieces: tuple[str, list[str]], width: int
) -> None:
    text, pieces = text_and_pieces
    incremental = Owned(width)
    for piece in pieces:
        incremental.append(piece)
    assert list(incremental.rows) == wrap(text, width)
    assert incremental.text == text


@settings(max_examples=300, deadline=None)
@given(_text_and_cuts(), st.integers(1, 12))
def test_emitted_rows_never_change(text_and_pieces: tuple[str, list[str]], width: int) -> None:
    _text, pieces = text_and_pieces
    wrapped = Owned(width)
    previous: list[str] = []
    for piece in pieces:
        wrapped.append(piece)
        rows = list(wrapped.rows)
        assert len(rows) >= len(previous)
        assert rows[: max(0, len(previous) - 1)] == previous[:-1]
        previous = rows


@settings(max_examples=400, deadline=None)
@given(st.one_of(_TEXTS, st.text(max_size=80)), st.integers(1, 12))
def test_rows_fit_and_contain_no_control_characters(text: str, width: int) -> None:
    for row in wrap(text, width):
        assert cell_len(row) <= width
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in row)
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in row)
        row.encode("utf-8")  # the terminal driver's encoder must never fail


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXTS, st.text(max_size=80)), st.integers(2, 12), st.integers(1, 12))
def test_rewrap_equals_fresh_wrap(text: str, first: int, second: int) -> None:
    wrapped = Owned(first, text)
    wrapped.rewrap(second)
    assert list(wrapped.rows) == wrap(text, second)


def _visible_glyphs(text: str) -> str:
    """What must survive wrapping: everything except layout whitespace and dropped
    joiners, with controls mapped to their stand-ins."""
    out = []
    for char in text:
        if char in " \t\r\n\u2028\u2029\u200d\ufe0f":
            continue
        out.append(sanitize_char(char) or char)
    return "".join(out).replace(LONE_MARK_BASE, "")


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXTS, st.text(max_size=80)), st.integers(2, 12))
def test_wrapping_loses_and_duplicates_nothing_visible(text: str, width: int) -> None:
    shown = "".join(wrap(text, width)).replace(" ", "").replace(LONE_MARK_BASE, "")
    assert shown == _visible_glyphs(text)


def _reference_wrap(text: str, width: int) -> list[str]:
    """Independent character-at-a-time greedy wrap for letters, spaces, CJK, newlines."""
    rows: list[str] = []
    row = ""
    brk = 0
    for char in text:
        if char == "\n":
            rows.append(row)
            row, brk = "", 0
            continue
        cells = cell_len(char)
        if char == " ":
            if cell_len(row) + 1 > width:
                rows.append(row)
                row, brk = "", 0
            else:
                row += " "
                brk = len(row)
            continue
        while cell_len(row) + cells > width:
            if brk:
                rows.append(row[:brk])
                row, brk = row[brk:], 0
            else:
                rows.append(row)
                row = ""
        row += char
    return [*rows, row] if text else []


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"ab xy", "\n", "你", "  "]), max_size=60), st.integers(2, 9))
def test_matches_a_naive_reference(chars: list[str], width: int) -> None:
    text = "".join(chars)
    assert wrap(text, width) == _reference_wrap(text, width)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "word", "longerwords", "x" * 25, " ", "   ", "\n", "你"]),
        max_size=40,
    ),
    st.integers(2, 20),
    st.lists(st.integers(0, 600), max_size=8),
)
def test_runs_of_words_and_spaces_appended_in_pieces_match_the_reference(
    parts: list[str], width: int, cuts: list[int]
) -> None:
    """Printable ASCII is wrapped a row at a time: rows that fill exactly, words longer
    than the row, runs of spaces across the edge, pieces cut anywhere."""
    text = "".join(parts)
    bounds = [0, *sorted(min(cut, len(text)) for cut in cuts), len(text)]
    wrapped = Owned(width)
    for start, end in pairwise(bounds):
        wrapped.append(text[start:end])
    assert list(wrapped.rows) == _reference_wrap(text, width)


# -- storage ---------------------------------------------------------------------------


@contextmanager
def _small_storage(shift: int | None) -> Iterator[None]:
    """Seal finished rows in blocks of ``2**shift`` rows; None: rows never sealed (every
    row kept as a str: the reference for what sealed blocks re-wrap)."""
    with pytest.MonkeyPatch.context() as patch:
        if shift is None:
            patch.setattr(wrap_module, "BLOCK_ROWS", sys.maxsize)
        else:
            patch.setattr(wrap_module, "_BLOCK_SHIFT", shift)
            patch.setattr(wrap_module, "BLOCK_ROWS", 1 << shift)
            patch.setattr(wrap_module, "_BLOCK_MASK", (1 << shift) - 1)
        yield


def _append_in_pieces(wrapped: WrappedText, text: str, rng: random.Random, most: int) -> None:
    """Append `text` in random pieces of 1 to `most` characters, as a stream would."""
    position = 0
    while position < len(text):
        size = rng.randint(1, most)
        wrapped.append(text[position : position + size])
        position += size


def _all_rows_every_way(wrapped: WrappedText) -> list[str]:
    """The rows read through iteration, row(), rows[i], rows[-i] and a slice (all equal)."""
    rows = list(wrapped.rows)
    count = len(rows)
    assert wrapped.row_count == count
    assert [wrapped.row(i) for i in range(count)] == rows
    assert [wrapped.rows[i] for i in range(count)] == rows
    assert [wrapped.rows[i - count] for i in range(count)] == rows
    assert wrapped.rows[1::2] == rows[1::2]
    for bad in (count, -count - 1):
        with pytest.raises(IndexError):
            wrapped.rows[bad]
    with pytest.raises(IndexError):
        wrapped.row(count)
    return rows


@settings(max_examples=300, deadline=None)
@given(_text_and_cuts(), st.integers(1, 12), st.integers(0, 3), st.integers(1, 12))
def test_rows_stored_in_blocks_read_back_unchanged(
    text_and_pieces: tuple[str, list[str]], width: int, shift: int, new_width: int
) -> None:
    # Tiny blocks, so that short texts cross many block boundaries (row 0 of a block, the
    # rows not in a block yet, the live row), lone surrogates included.
    text, pieces = text_and_pieces
    with _small_storage(None):
        expected = list(Owned(width, text).rows)
        expected_rewrapped = list(Owned(new_width, text).rows)
    with _small_storage(shift):
        wrapped = Owned(width)
        done = ""
        for piece in pieces:
            wrapped.append(piece)
            done += piece
            if len(piece) % 3 == 0:  # a read in between
                assert wrapped.text == done
        assert _all_rows_every_way(wrapped) == expected
        wrapped.rewrap(new_width)
        assert _all_rows_every_way(wrapped) == expected_rewrapped
        assert wrapped.text == text


def test_many_rows_across_real_blocks_match_the_reference() -> None:
    rng = random.Random(5)
    ascii_part = "".join(rng.choice([*"ab xy", "\n", "  "]) for _ in range(3000))
    mixed_part = "".join(rng.choice([*"ab xy", "\n", "你", "  ", "é", "’"]) for _ in range(5000))
    text = ascii_part + mixed_part
    wrapped = Owned(7)
    _append_in_pieces(wrapped, text, rng, 80)
    assert wrapped.row_count > 5 * BLOCK_ROWS
    assert len(wrapped._starts) >= 5  # ASCII-only and mixed blocks, re-wrapped when read
    assert _all_rows_every_way(wrapped) == _reference_wrap(text, 7)
    wrapped.rewrap(9)
    assert _all_rows_every_way(wrapped) == _reference_wrap(text, 9)
    wrapped.clear()
    assert wrapped.row_count == 0
    assert list(wrapped.rows) == []
    wrapped.append("ab")
    assert list(wrapped.rows) == ["ab"]


def test_a_view_without_a_source_keeps_one_copy_of_its_text() -> None:
    # One str per row cost ~3.5x the text; sealed blocks keep only offsets, so a wrapper
    # over its own buffer (the caller's str, not a copy) holds little besides that text.
    rng = random.Random(9)
    words = ["the", "model", "streams", "tokens", "into", "each", "column", "while", "waits"]
    text = "".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(5, 20))) + "\n" for _ in range(4000)
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        wrapped = Owned(31, text)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert wrapped.row_count > 4 * BLOCK_ROWS
    assert held < 0.1 * len(text)
    assert wrapped.text == text


def test_with_a_source_rows_are_the_same_and_text_and_rewrap_read_the_source() -> None:
    text = "alpha beta\tgamma 中文 delta\r\nepsilon " * 20
    owned = [text, "not appended yet"]
    kept, sourced = Owned(13), WrappedText(13, source=lambda: "".join(owned))
    for start in range(0, len(text), 7):
        kept.append(text[start : start + 7])
        sourced.append(text[start : start + 7])
    assert list(sourced.rows) == list(kept.rows)
    assert sourced.length == len(text)
    assert sourced.text == text  # only as much as was appended
    with pytest.raises(ValueError):
        sourced.rewrap(20, text[:-1])  # not what was appended
    sourced.rewrap(20, text)
    kept.rewrap(20)
    assert list(sourced.rows) == list(kept.rows) == wrap(text, 20)
    sourced.rewrap(7)  # without the text: from the source
    assert list(sourced.rows) == wrap(text, 7)
    sourced.clear()
    owned[:] = ["new"]  # append-only between clears, so it may start over after one
    sourced.append("new")
    assert sourced.text == "new" and list(sourced.rows) == ["new"]


# -- rows re-wrapped from a source -------------------------------------------------------

_SOURCE_ALPHABET = st.one_of(
    # What wraps (words, spaces, wide characters) more often than the rest; a row that
    # starts with one space, so that a wide character can end it and the carried word's
    # row at once.
    st.sampled_from([*"ab xy", "  ", "ab", "abc", "\n", "\n ", "\n x", "你", "😀", "é", "é你"]),
    st.sampled_from(
        [
            "   ",
            "abcdefghijklmnopqrstuvwxyz0123456789",  # longer than most rows: hard breaks
            "[b]",
            "\r",
            "\r\n",
            "\t",
            "\u2028",
            "\u2029",
            "\x1b",
            "\x7f",
            "\x85",
            "\ud800",
            "\u0301",  # combining mark
            "\u200b",  # zero width space (a mark here)
            "\u200d",  # ZWJ
            "\ufe0f",  # VS16
            LONE_MARK_BASE,
            REPLACEMENT,
        ]
    ),
)


@st.composite
def _long_text_and_cuts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A text of many rows (every character class the wrapper handles) and a split."""
    text = "".join(draw(st.lists(_SOURCE_ALPHABET, max_size=150)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=20)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in pairwise(bounds)]


def _read_in_order(wrapped: WrappedText, order: list[int]) -> list[str]:
    """`row(i)` for each i of `order` (a permutation of the row numbers), in row order."""
    got = [""] * len(order)
    for index in order:
        got[index] = wrapped.row(index)
    return got


@settings(max_examples=400, deadline=None)
@given(
    _long_text_and_cuts(),
    st.one_of(st.integers(1, 6), st.integers(1, 40)),
    st.integers(0, 3),
    st.integers(1, 40),
    st.data(),
)
def test_rows_re_wrapped_from_the_source_equal_the_kept_rows(
    text_and_pieces: tuple[str, list[str]],
    width: int,
    shift: int,
    new_width: int,
    data: st.DataObject,
) -> None:
    # Tiny blocks (1 to 8 rows), so every kind of row start is some block's first row: a
    # carried partial word, after a dropped space, a hard break, a \r whose \n is in the
    # next block, a lone mark, a tab. The source runs on past what was appended.
    text, pieces = text_and_pieces
    with _small_storage(None):  # the reference: no row ever sealed
        expected, expected_rewrapped = wrap(text, width), wrap(text, new_width)
        done = ""
        kept = []  # the rows after each piece
        for piece in pieces:
            done += piece
            kept.append(wrap(done, width))
    with _small_storage(shift):
        source_text = text + "\n unflushed 你\r"
        sourced = WrappedText(width, source=lambda: source_text)
        for piece, rows in zip(pieces, kept, strict=True):
            sourced.append(piece)
            assert sourced.row_count == len(rows)
            # Reads between appends fill the cache with blocks sealed so far.
            if rows:
                some = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=5))
                assert [sourced.row(i) for i in some] == [rows[i] for i in some]
        assert sourced.length == len(text)
        order = data.draw(st.permutations(range(len(expected))))
        assert _read_in_order(sourced, order) == expected
        assert _all_rows_every_way(sourced) == expected
        if expected:
            start = data.draw(st.integers(-len(expected), len(expected)))
            assert sourced.rows[start:] == expected[start:]
        sourced.rewrap(new_width)
        order = data.draw(st.permutations(range(len(expected_rewrapped))))
        assert _read_in_order(sourced, order) == expected_rewrapped
        assert _all_rows_every_way(sourced) == expected_rewrapped
        sourced.rewrap(width, text)
        assert _all_rows_every_way(sourced) == expected


@pytest.mark.parametrize(
    ("pieces", "width"),
    [
        (["ab cdef gh"], 5),  # rows carried from a break point ("cdef" started as "cd")
        (["abcd efgh ijkl"], 4),  # rows after a dropped space
        (["abcdefghijklmnop"], 3),  # hard breaks mid-word
        (["ab\r", "\ncd\r", "ef\r\r\n\rgh\r"], 4),  # \r ends a block, \n starts one
        (["ab \u0301cd", "abcd\u0301\u0301ef", "abcd \u0301x"], 4),  # marks at row starts
        (["\u0301\n\u200dx\u0301\n", "\u0301"], 3),  # lone marks, joiners
        (["ab\tc\tdefg\t\th\ti"], 5),  # tabs from the row start, at a full row
        (["你好世界 a你 😀😀 x\u0301"], 1),  # width 1: wide characters replaced
        (["ab 你好世", "界 x\ud800 \x1b[1m"], 3),  # wide characters never straddle
        (["x\u2028y\u2029\u2028z\x85"], 2),
        # One character ends two rows: the row before the break point, then the carried
        # word's (it does not fit with the carried word either) ...
        (["abcd  ééé你", "好 x"], 4),
        (["abc", "  é\u0301é", "😀 a"], 3),
        # ... or the carried word and the start of a word hard-broken after it.
        (["xxxx  éé", "abcdef gh"], 4),
    ],
)
def test_every_kind_of_block_start_is_re_wrapped_exactly(pieces: list[str], width: int) -> None:
    for shift in range(3):
        for lead in range(1 << shift):  # shifts the rows so each row boundary is a block's
            text = "\n" * lead + "".join(pieces)
            with _small_storage(shift):
                sourced = WrappedText(width, source=lambda text=text: text + "\n")
                for piece in ["\n" * lead, *pieces]:
                    sourced.append(piece)
                expected = wrap(text, width)
                assert sourced._sealed >= len(expected) - (1 << shift)
                rows = [sourced.row(i) for i in reversed(range(len(expected)))]
                assert rows == expected[::-1]
                assert list(sourced.rows) == expected


def test_many_rows_re_wrapped_from_the_source_in_real_blocks() -> None:
    rng = random.Random(11)
    choices = [*"ab xy", "\n", "你", "  ", "é", "’", "\r", "\r\n", "\t", "\u0301", "abcdefghijk"]
    text = "".join(rng.choice(choices) for _ in range(12_000))
    for width in (1, 7, 23, 40):
        sourced = WrappedText(width, source=lambda: text)
        _append_in_pieces(sourced, text, rng, 80)
        expected = wrap(text, width)
        assert sourced._sealed >= 3 * BLOCK_ROWS
        sample = rng.sample(range(len(expected)), 200)  # ~200 re-wraps: a cache miss each
        assert [sourced.row(i) for i in sample] == [expected[i] for i in sample]
        assert _all_rows_every_way(sourced) == expected
        assert len(sourced._cache) <= CACHED_BLOCKS


def test_random_texts_re_wrap_from_the_source_like_the_full_pass() -> None:
    # Longer texts than the property test draws, so that rare row starts meet a block
    # start: e.g. a row of one space and a word filling it, ended together with the
    # carried word's row by a wide character that fits on neither.
    rng = random.Random(7)
    tokens = [*"ab xy", "  ", "abc", "\n", "\n ", "你", "😀", "é", "\u0301", "\t", "\r", "\x1b"]
    for _ in range(150):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(50, 400)))
        width = rng.choice([rng.randint(1, 6), rng.randint(1, 30)])
        with _small_storage(rng.randint(1, 3)):
            sourced = WrappedText(width, source=lambda text=text: text)
            _append_in_pieces(sourced, text, rng, 30)
            expected = wrap(text, width)
            order = list(range(len(expected)))
            rng.shuffle(order)
            assert _read_in_order(sourced, order) == expected, (text, width)


class _CountingSource:
    """A source that counts how often the text is asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.text


def test_the_newest_rows_never_call_the_source() -> None:
    text = "".join(f"word{n} " + ("\n" if n % 7 == 0 else "") for n in range(3000))
    source = _CountingSource(text)
    wrapped, kept = WrappedText(20, source=source), Owned(20)
    expected = wrap(text, 20)
    position = 0
    while position < len(text):  # streaming, the view reads only the tail
        wrapped.append(text[position : position + 13])
        kept.append(text[position : position + 13])
        position += 13
        count = wrapped.row_count
        tail = range(wrapped._sealed, count)
        assert [wrapped.row(i) for i in tail] == [kept.row(i) for i in tail]
        assert wrapped.rows[-1] == kept.row(count - 1)
        assert wrapped.length == min(position, len(text))
    assert wrapped._sealed >= 4 * BLOCK_ROWS
    assert source.calls == 0
    # A row of a sealed block re-wraps that block from the source, once.
    assert [wrapped.row(i) for i in range(BLOCK_ROWS)] == expected[:BLOCK_ROWS]
    assert source.calls == 1
    assert wrapped.row(BLOCK_ROWS + 3) == expected[BLOCK_ROWS + 3]
    assert source.calls == 2
    for number in range(2, 2 + CACHED_BLOCKS):  # evicts the least recently read, block 0
        assert wrapped.row(number * BLOCK_ROWS) == expected[number * BLOCK_ROWS]
    assert source.calls == 2 + CACHED_BLOCKS
    assert wrapped.row(3 * BLOCK_ROWS - 1) == expected[3 * BLOCK_ROWS - 1]  # still cached
    assert source.calls == 2 + CACHED_BLOCKS
    assert wrapped.row(5) == expected[5]
    assert source.calls == 3 + CACHED_BLOCKS


def _held_after(build: Callable[[], WrappedText]) -> tuple[WrappedText, int]:
    """What `build` returns, and the bytes it newly holds (tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        wrapped = build()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return wrapped, held


def test_sealed_blocks_of_a_source_backed_text_hold_no_text() -> None:
    # A second copy of every answer's text cost 1.2x the text; with a source, sealed
    # blocks keep 8 bytes each and no text: only the rows not sealed yet (fewer than
    # BLOCK_ROWS, however long the text) are kept as str.
    rng = random.Random(3)
    words = ["the", "model", "streams", "tokens", "into", "each", "column", "while", "waits"]
    text = "".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(5, 20))) + "\n" for _ in range(1500)
    )
    assert len(text) > 100 * 1024
    source = _CountingSource(text)
    sourced, held = _held_after(lambda: WrappedText(31, text, source=source))
    assert sourced._sealed > 20 * BLOCK_ROWS
    unsealed = sys.getsizeof(sourced._recent) + sum(map(sys.getsizeof, sourced._recent))
    assert held - unsealed < 4096  # the object, its arrays: not a function of the text
    with _small_storage(None):  # every row kept as a str: the measure sees them
        kept, held_kept = _held_after(lambda: WrappedText(31, text, source=source))
    assert held_kept > len(text) / 2
    assert sourced.row(0) == kept.row(0)
    assert source.calls == 1


def test_a_source_that_lost_the_appended_text_is_an_error() -> None:
    owned = ["ab cd ef gh"]
    with _small_storage(0):
        wrapped = WrappedText(3, owned[0], source=lambda: owned[0])
        owned[0] = "ab"
        with pytest.raises(RuntimeError):
            wrapped.row(0)
