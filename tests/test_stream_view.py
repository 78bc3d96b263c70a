"""Pilot tests for StreamView: buffering, literal text, following, resize, alignment."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from pytest import MonkeyPatch
from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal, HorizontalScroll
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from scillm_tui.tui.streamview import bar as stream_bar
from scillm_tui.tui.streamview.bar import StreamBar
from scillm_tui.tui.streamview.rows import RowPainter
from scillm_tui.tui.streamview.view import StreamView
from tests.tui_support import screen_lines, screen_strips

LINES = [f"line {n:03d}" for n in range(60)]


class ViewApp(App[None]):
    """One or more StreamViews side by side."""

    CSS = "StreamView { width: 1fr; height: 1fr; }"

    def __init__(self, count: int = 1, placeholder: str = "", follow_step: int = 1) -> None:
        super().__init__()
        self.count = count
        self.placeholder = placeholder
        self.follow_step = follow_step

    def compose(self) -> ComposeResult:
        with Horizontal():
            for index in range(self.count):
                yield StreamView(
                    id=f"v{index}", placeholder=self.placeholder, follow_step=self.follow_step
                )

    def view(self, index: int = 0) -> StreamView:
        return self.query_one(f"#v{index}", StreamView)


def screen_rows(app: App[None], view: StreamView | None = None) -> list[str]:
    """The text the screen would show now (only `view`'s text area, if given).

    It goes through each widget's line cache, so a row we forgot to refresh shows up
    stale here.
    """
    if view is None:
        return screen_lines(app)
    region = view.scrollable_content_region
    # The text, without the scrollbar's column.
    text = Region(region.x, region.y, region.width - stream_bar.BAR_WIDTH, region.height)
    return screen_lines(app, text)


def view_rows(view: StreamView) -> list[str]:
    """Rows currently rendered by a view, trailing padding stripped."""
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def fill(app: ViewApp, pilot: Pilot[None], lines: list[str], view: int = 0) -> None:
    """Append lines one flush each, as the app's timer would."""
    for line in lines:
        app.view(view).append(line + "\n")
        app.view(view).flush()
    await pilot.pause()


# -- buffering -----------------------------------------------------------------------


async def test_text_appears_only_after_flush() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view()
        view.append("hello ")
        view.append("world")
        await pilot.pause()
        assert "hello" not in "\n".join(screen_rows(app))
        assert view.text == "hello world"
        assert view.row_count == 0

        assert view.flush() is True
        await pilot.pause()
        assert screen_rows(app)[0].startswith("hello world")
        assert view.flush() is False


async def test_streaming_into_the_last_row_updates_it_in_place() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 6)) as pilot:
        view = app.view()
        for chunk in ("hel", "lo wo", "rld"):
            view.append(chunk)
            view.flush()
            await pilot.pause()
            assert screen_rows(app, view)[0].rstrip() == view.text
        assert view.row_count == 1


async def test_set_text_replaces_on_flush_and_clear_empties_now() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view()
        await fill(app, pilot, LINES[:30])
        view.set_text("fresh")
        assert view.text == "fresh"
        await pilot.pause()
        assert "line 029" in "\n".join(screen_rows(app))  # not applied before flush
        assert view.flush() is True
        await pilot.pause()
        assert view_rows(view) == ["fresh"] + [""] * 9
        assert screen_rows(app)[0].startswith("fresh")
        assert screen_rows(app)[1].strip() == ""

        view.append("unflushed")
        view.clear()
        await pilot.pause()
        assert view.text == ""
        assert view.row_count == 0
        assert view.following
        assert all(row.strip() == "" for row in screen_rows(app))


async def test_placeholder_only_while_empty() -> None:
    app = ViewApp(placeholder="waiting for first token…")
    async with app.run_test(size=(40, 5)) as pilot:
        view = app.view()
        assert screen_rows(app)[0].startswith("waiting for first token…")
        assert view.text == ""
        view.append("hi")
        view.flush()
        await pilot.pause()
        assert screen_rows(app)[0].rstrip() == "hi"


def recorded_refreshes(monkeypatch: MonkeyPatch, view: StreamView) -> list[tuple[Region, ...]]:
    """The regions of each `view.refresh` call from now on (``()``: the whole view)."""
    calls: list[tuple[Region, ...]] = []
    refresh = view.refresh

    def recording(*regions: Region, **options: Any) -> StreamView:
        calls.append(regions)
        return refresh(*regions, **options)

    monkeypatch.setattr(view, "refresh", recording)
    return calls


async def test_a_new_placeholder_repaints_its_row_alone(monkeypatch: MonkeyPatch) -> None:
    app = ViewApp(placeholder="ctrl+r runs the prompt")
    async with app.run_test(size=(40, 5)) as pilot:
        view = app.view()
        await pilot.pause()
        refreshes = recorded_refreshes(monkeypatch, view)
        view.placeholder = "waiting for first token…"
        assert refreshes == [(Region(0, 0, view.outer_size.width, 1),)]
        await pilot.pause()
        assert screen_rows(app, view)[0].rstrip() == "waiting for first token…"

        await fill(app, pilot, ["text"])
        view.placeholder = "unused while there is text"
        await pilot.pause()
        assert screen_rows(app, view)[0].rstrip() == "text"


async def test_clearing_a_blank_view_repaints_nothing_and_a_full_one_everything(
    monkeypatch: MonkeyPatch,
) -> None:
    # A run's start clears every column; the planned columns have nothing to erase.
    app = ViewApp()
    async with app.run_test(size=(40, 5)) as pilot:
        view = app.view()
        await pilot.pause()
        refreshes = recorded_refreshes(monkeypatch, view)
        view.clear()
        assert refreshes == []

        await fill(app, pilot, LINES[:8])
        view.clear()
        assert refreshes[-1] == ()
        await pilot.pause()
        assert all(row.strip() == "" for row in screen_rows(app, view))


# -- literal text ----------------------------------------------------------------------

MARKUP = "[bold red]x[/] [link=https://e.com]l[/] [@click=app.quit]q[/]"


async def test_markup_and_ansi_are_shown_literally_and_inert() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 6)) as pilot:
        view = app.view()
        view.append(MARKUP + "\n\x1b[31mred\x1b[0m \x1b]8;;http://x\x07osc\x1b]8;;\x07\n")
        view.flush()
        await pilot.pause()
        rows = screen_rows(app)
        assert rows[0].startswith(MARKUP)
        assert rows[1].startswith("␛[31mred␛[0m ␛]8;;http://x␇osc␛]8;;␇")
        # No segment carries a link, an action or any other metadata.
        for y in range(2):
            for segment in view.render_line(y):
                assert segment.style is None or not segment.style.link
                assert segment.style is None or not segment.style.meta
        # Clicking the "[@click=app.quit]q[/]" text does nothing.
        await pilot.click(view, offset=(MARKUP.index("@click") + 2, 0))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None


async def test_control_stand_ins_use_the_component_style() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 4)) as pilot:
        view = app.view()
        view.append("a\x1bb")
        view.flush()
        await pilot.pause()
        segments = list(view.render_line(0))
        by_text = {segment.text: segment.style for segment in segments}
        assert by_text["␛"] == view.get_component_rich_style("stream-view--control")
        assert by_text["a"] == view.rich_style
        assert by_text["␛"] != by_text["a"]


async def test_theme_change_rebuilds_cached_strips() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 4)) as pilot:
        view = app.view()
        view.append("a\x1bb")
        view.flush()
        await pilot.pause()
        before = [segment.style for segment in view.render_line(0)]
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        after = [segment.style for segment in view.render_line(0)]
        assert after != before
        assert after[0] == view.rich_style


# -- following -------------------------------------------------------------------------


async def test_following_keeps_the_tail_visible() -> None:
    app = ViewApp()
    async with app.run_test(size=(30, 10)) as pilot:
        view = app.view()
        for start in range(0, 60, 7):
            await fill(app, pilot, LINES[start : start + 7])
            last = LINES[min(start + 7, 60) - 1]
            assert view.following
            assert view.scroll_y == view.max_scroll_y
            shown = [row.rstrip() for row in screen_rows(app, view) if row.strip()]
            assert shown[-1] == last
        assert view.max_scroll_y == 61 - 10


async def test_follow_step_scrolls_in_jumps_and_keeps_the_tail_visible() -> None:
    app = ViewApp(follow_step=4)
    async with app.run_test(size=(30, 10)) as pilot:
        view = app.view()
        positions: list[float] = []
        for line in LINES[:45]:
            await fill(app, pilot, [line])
            shown = [row.rstrip() for row in screen_rows(app, view) if row.strip()]
            assert shown[-1] == line
            assert view.following
            assert view.scroll_y == view.max_scroll_y
            if not positions or positions[-1] != view.scroll_y:
                positions.append(view.scroll_y)
        # 46 rows in a 10-row view: one scroll per 4 rows instead of one per row.
        assert len(positions) <= 11
        assert all(b - a >= 4 for a, b in pairwise(positions))
        # Detaching and re-attaching still works with the blank rows below the text.
        view.focus()
        await pilot.press("up")
        await pilot.wait_for_scheduled_animations()
        assert not view.following
        await pilot.press("end")
        assert view.following
        assert view.scroll_y == view.max_scroll_y


class PhasedViewsApp(App[None]):
    CSS = "StreamView { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            for phase in range(4):
                yield StreamView(id=f"v{phase}", follow_step=4, follow_phase=phase)


async def test_views_with_different_phases_take_turns_to_jump() -> None:
    app = PhasedViewsApp()
    async with app.run_test(size=(80, 10)) as pilot:
        views = list(app.query(StreamView))
        jumps: list[set[int]] = []  # per line streamed: which views scrolled
        for line in LINES[:40]:
            before = [view.scroll_y for view in views]
            for view in views:  # the same text at the same pace into every view
                view.append(line + "\n")
                view.flush()
            await pilot.pause()
            jumps.append({i for i, view in enumerate(views) if view.scroll_y != before[i]})
            for view in views:
                assert view.scroll_y == view.max_scroll_y  # each still follows its tail
        # The first overflow scrolls every view (by different amounts); from then on
        # they never scroll in the same frame, and each keeps jumping every 4 rows.
        first = next(i for i, scrolled in enumerate(jumps) if scrolled)
        assert jumps[first] == {0, 1, 2, 3}
        later = jumps[first + 1 :]
        assert all(len(scrolled) == 1 for scrolled in later)
        assert all(later.count({i}) >= len(later) // 4 for i in range(4))


class CommitCount:
    """How many times a view's scrollbar changed its picture (`n`, settable), and how
    many of those repainted the bar's column alone (`columns`)."""

    def __init__(self) -> None:
        self.n = 0
        self.columns = 0


def count_commits(monkeypatch: MonkeyPatch, view: StreamView) -> CommitCount:
    """Count `view`'s scrollbar pictures from now on."""
    count = CommitCount()
    commit, update = StreamBar._commit, StreamBar.update

    def counting(self: StreamBar) -> None:
        count.n += self is view._bar
        commit(self)

    def column_repaints(self: StreamBar, *, growing: bool = False) -> None:
        before = count.n
        update(self, growing=growing)
        count.columns += count.n - before

    monkeypatch.setattr(StreamBar, "_commit", counting)
    monkeypatch.setattr(StreamBar, "update", column_repaints)
    return count


def bar_of(app: App[None], view: StreamView) -> list[str]:
    """What the screen shows in the view's scrollbar column, line by line, as segments."""
    region = view.region
    column = Region(region.right - 1, region.y, 1, region.height)
    return [repr(list(strip)) for strip in screen_strips(app, column)]


class HeldTimers:
    """Stands in for a view's `set_timer`: holds the callbacks until `run`."""

    def __init__(self, monkeypatch: MonkeyPatch, view: StreamView) -> None:
        self.callbacks: list[Callable[[], object]] = []
        monkeypatch.setattr(view, "set_timer", self.hold)

    def hold(self, _delay: float, callback: Callable[[], object]) -> object:
        self.callbacks.append(callback)
        return object()

    def run(self) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()


async def watched_bar(
    app: ViewApp, pilot: Pilot[None], monkeypatch: MonkeyPatch
) -> tuple[StreamView, CommitCount]:
    """The first view, holding 20 lines, and a count of its scrollbar's pictures."""
    view = app.view()
    await fill(app, pilot, LINES[:20])
    return view, count_commits(monkeypatch, view)


async def stream_rows(pilot: Pilot[None], view: StreamView, count: int) -> None:
    """Append and flush `count` rows, one per frame, as the repaint timer would."""
    for n in range(count):
        view.append(f"row {n}\n")
        view.flush()
        await pilot.pause()


async def assert_bar_is_exact(app: App[None], pilot: Pilot[None], view: StreamView) -> None:
    """What is on screen in the view's scrollbar column equals a forced full repaint."""
    shown = bar_of(app, view)
    view._bar.restyle()  # drop the picture: the next drawing builds it anew
    view.refresh()
    await pilot.pause()
    assert bar_of(app, view) == shown


async def test_scrollbar_is_rebuilt_only_when_its_thumb_moves(monkeypatch: MonkeyPatch) -> None:
    app = ViewApp()
    async with app.run_test(size=(30, 12)) as pilot:
        view, pictures = await watched_bar(app, pilot, monkeypatch)

        # 20 -> 140 rows: the thumb shrinks towards one cell, moving most rows. The view
        # scrolls with every row, so each frame draws the bar anew, never its column alone.
        await stream_rows(pilot, view, 120)
        assert 0 < pictures.n <= 120 and pictures.columns == 0
        await assert_bar_is_exact(app, pilot, view)

        # 140 -> 260 rows: a one-cell thumb pinned at the bottom does not move at all.
        pictures.n = 0
        await stream_rows(pilot, view, 120)
        assert view.following
        assert pictures.n <= 1
        await assert_bar_is_exact(app, pilot, view)


async def test_a_growing_text_read_further_up_repaints_its_scrollbar_at_a_bounded_rate(
    monkeypatch: MonkeyPatch,
) -> None:
    """While the user reads further up, the text's growth moves the thumb every few rows
    and only the bar's column is repainted: at most every GROWING_THUMB_INTERVAL_S, then
    once more when it settles, exactly."""
    now = [1000.0]
    monkeypatch.setattr(stream_bar, "monotonic", lambda: now[0])
    app = ViewApp()
    async with app.run_test(size=(30, 12)) as pilot:
        view, pictures = await watched_bar(app, pilot, monkeypatch)
        timers = HeldTimers(monkeypatch, view)
        view.scroll_to(y=0, animate=False)
        await pilot.pause()
        assert not view.following
        repainted: list[Region] = []  # the regions of the view asked to be repainted
        refresh = view.refresh

        def recording(*regions: Region, **options: Any) -> StreamView:
            repainted.extend(regions)
            return refresh(*regions, **options)

        monkeypatch.setattr(view, "refresh", recording)
        bar_column = Region(view.size.width - 1, 0, 1, view.size.height)

        now[0] += 10
        await stream_rows(pilot, view, 100)  # 20 -> 120 rows within one interval
        assert pictures.columns == 1 and view._bar.repaint_pending
        assert len(timers.callbacks) == 1 and view.scroll_y == 0
        assert repainted == [bar_column]  # the bar's column alone, the text stays
        now[0] += stream_bar.GROWING_THUMB_INTERVAL_S
        timers.run()  # the deferred repaint
        await pilot.pause()
        assert pictures.columns == 2 and not view._bar.repaint_pending
        assert repainted == [bar_column] * 2
        await assert_bar_is_exact(app, pilot, view)  # the settled bar is exact


async def _detach_with(pilot: Pilot[None], view: StreamView, how: str) -> None:
    """Scroll up the way a user would."""
    if how == "wheel":
        view.post_message(events.MouseScrollUp(view, 1, 1, 0, -1, 0, False, False, False))
    else:
        await pilot.press(how)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_scrolling_up_detaches_and_end_reattaches() -> None:
    for how in ("up", "pageup", "home", "wheel"):
        app = ViewApp()
        async with app.run_test(size=(30, 10)) as pilot:
            view = app.view()
            view.focus()
            await fill(app, pilot, LINES[:40])
            assert view.following
            await _detach_with(pilot, view, how)
            assert not view.following, how
            assert view.scroll_y < view.max_scroll_y
            parked = view.scroll_y
            shown = screen_rows(app, view)

            await fill(app, pilot, LINES[40:50])
            assert view.scroll_y == parked, how
            assert screen_rows(app, view) == shown, how
            assert not view.following

            await pilot.press("end")
            await pilot.pause()
            assert view.following, how
            assert view.scroll_y == view.max_scroll_y
            await fill(app, pilot, LINES[50:55])
            assert view.scroll_y == view.max_scroll_y
            assert screen_rows(app, view)[-2].startswith("line 054")


async def test_scrolling_back_to_the_bottom_reattaches() -> None:
    app = ViewApp()
    async with app.run_test(size=(30, 10)) as pilot:
        view = app.view()
        view.focus()
        await fill(app, pilot, LINES[:20])
        await pilot.press("up", "up")
        await pilot.wait_for_scheduled_animations()
        assert not view.following
        await pilot.press("down", "down")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        assert view.following
        await fill(app, pilot, LINES[20:25])
        assert view.scroll_y == view.max_scroll_y


async def test_append_while_detached_repaints_nothing_offscreen() -> None:
    app = ViewApp()
    async with app.run_test(size=(30, 10)) as pilot:
        view = app.view()
        view.focus()
        await fill(app, pilot, LINES[:40])
        await pilot.press("home")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        view.append("more\n")
        view.flush()
        assert not view._repaint_required  # nothing visible changed


class ScrolledViewsApp(App[None]):
    """Three 30-cell views in a 60-cell horizontal scroller: the third is out of sight."""

    CSS = "StreamView { width: 30; height: 1fr; }"

    def compose(self) -> ComposeResult:
        with HorizontalScroll():
            for index in range(3):
                yield StreamView(id=f"v{index}")


async def test_a_view_out_of_sight_is_not_repainted_but_shows_its_text_when_scrolled_to() -> None:
    app = ScrolledViewsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        hidden = app.query_one("#v2", StreamView)
        await pilot.pause()
        for line in LINES[:30]:  # far more rows than fit: it follows, scrolls, grows
            hidden.append(line + "\n")
            hidden.flush()
        # Repainting it would invalidate the compositor's map of the whole screen.
        assert not hidden._repaint_required
        assert hidden.scroll_y == hidden.max_scroll_y > 0  # still following the tail
        scroller = app.query_one(HorizontalScroll)
        scroller.scroll_to(x=scroller.max_scroll_x, animate=False)
        await pilot.pause()
        rows = screen_rows(app, hidden)
        assert rows[-2].strip() == LINES[29]  # the last row sits above the cursor row
        assert [r.strip() for r in rows[:-1]] == LINES[30 - len(rows) + 1 : 30]


class PaddedViewApp(App[None]):
    CSS = "StreamView { padding: 0 0 0 2; background: $boost; }"

    def compose(self) -> ComposeResult:
        yield StreamView(id="v0")


async def test_own_line_rendering_matches_textuals_generic_path() -> None:
    app = PaddedViewApp()
    async with app.run_test(size=(30, 8)) as pilot:
        view = app.query_one(StreamView)
        view.append("plain \x1b[31m ctl\n" + "\n".join(LINES[:12]))
        view.flush()
        await pilot.pause()
        crop = Region(0, 0, view.outer_size.width, view.outer_size.height)
        ours = view.render_lines(crop)
        generic = Widget.render_lines(view, crop)  # Textual's styles-cache pipeline
        assert [list(strip) for strip in ours] == [list(strip) for strip in generic]
        part = Region(3, 2, 10, 3)
        assert [list(s) for s in view.render_lines(part)] == [
            list(s) for s in Widget.render_lines(view, part)
        ]


async def test_blank_rows_and_the_placeholder_are_drawn_like_textual_and_blanks_once(
    monkeypatch: MonkeyPatch,
) -> None:
    """An empty view (placeholder, then blank rows) and the blank rows below a short text
    match Textual's drawing; blank rows, all alike, are finished once, not per row and
    frame (a run's start repaints every column's blank rows, twice)."""
    finished: list[Strip] = []
    finish = RowPainter._finish

    def counting(self: RowPainter, line: Strip, *args: Any) -> Strip:
        finished.append(line)
        return finish(self, line, *args)

    monkeypatch.setattr(RowPainter, "_finish", counting)
    app = PaddedViewApp()
    async with app.run_test(size=(30, 8)) as pilot:
        view = app.query_one(StreamView)
        view.placeholder = "waiting…"
        crop = Region(0, 0, view.outer_size.width, view.outer_size.height)
        for text in ("", "two\nrows"):
            view.set_text(text)
            view.flush()
            await pilot.pause()
            ours = [list(strip) for strip in view.render_lines(crop)]
            assert ours == [list(strip) for strip in Widget.render_lines(view, crop)]
        finished.clear()
        view.render_lines(crop)
        assert finished == []  # text rows and blank rows all came from the caches


# -- resize and alignment ---------------------------------------------------------------


async def test_resize_rewraps_and_keeps_following() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view()
        words = " ".join(f"w{n:02d}" for n in range(60))
        view.append(words)
        view.flush()
        await pilot.pause()
        gutter = stream_bar.BAR_WIDTH
        assert view._wrapped.width == 40 - gutter  # the scrollbar column is reserved
        assert all(len(row) <= 40 - gutter for row in view._wrapped.rows)
        wide_rows = view.row_count

        await pilot.resize_terminal(21, 10)
        await pilot.pause()
        assert view._wrapped.width == 21 - gutter
        assert view.row_count > wide_rows
        assert all(cell_len(row) <= 21 - gutter for row in view._wrapped.rows)
        assert view.following
        assert view.scroll_y == view.max_scroll_y
        assert screen_rows(app, view)[-1].rstrip().endswith("w59")
        assert all(view.render_line(y).cell_length == 21 for y in range(10))


class SourcedViewApp(App[None]):
    """A view that reads its text from its owner (as a variant column's view does)."""

    def __init__(self) -> None:
        super().__init__()
        self.owned: list[str] = []

    def compose(self) -> ComposeResult:
        yield StreamView(id="v0", text_source=lambda: "".join(self.owned))

    def add(self, text: str) -> None:
        self.owned.append(text)  # the owner has it first, then the view is told
        self.query_one(StreamView).append(text)


async def test_a_view_with_a_text_source_keeps_no_copy_and_rewraps_from_it() -> None:
    app = SourcedViewApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(StreamView)
        words = [f"w{n:02d} " for n in range(60)]
        for word in words[:50]:
            app.add(word)
        view.flush()
        app.add("".join(words[50:]))  # appended, not flushed yet
        assert view.text == "".join(words)
        await pilot.resize_terminal(21, 10)  # re-wraps the flushed part, from the source
        await pilot.pause()
        view.flush()
        await pilot.pause()
        assert view._own_text is None  # the owner's text is the only copy
        shown = " ".join(view._wrapped.rows).split()
        assert shown == [w.strip() for w in words]
        assert "w59" in " ".join(screen_rows(app, view)[-2:])  # following the tail


async def test_resize_while_detached_keeps_relative_position() -> None:
    app = ViewApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.view()
        view.focus()
        view.append(" ".join(f"w{n:03d}" for n in range(400)))
        view.flush()
        await pilot.pause()
        view.scroll_to(y=view.max_scroll_y // 2, animate=False)
        await pilot.pause()
        assert not view.following
        fraction = view.scroll_y / view.row_count
        await pilot.resize_terminal(25, 10)
        await pilot.pause()
        assert not view.following
        assert abs(view.scroll_y / view.row_count - fraction) < 0.05


async def test_wide_characters_keep_columns_aligned() -> None:
    app = ViewApp(count=2)
    async with app.run_test(size=(40, 6)) as pilot:
        left, right = app.view(0), app.view(1)
        left.append("你好世界你好世界你好世界😀😀😀 e\u0301\u0301 \u200b tab\tx")
        right.append("RIGHT")
        left.flush()
        right.flush()
        await pilot.pause()
        assert left._wrapped.width == 20 - stream_bar.BAR_WIDTH
        for strip in screen_strips(app):
            assert strip.cell_length == 40
        rows = screen_rows(app)
        for row in rows:
            assert cell_len(row) == 40
        # The right column starts at cell 20 on every row, whatever is on its left.
        assert screen_lines(app, Region(20, 0, 5, 1)) == ["RIGHT"]
        assert view_rows(left)[:3] == [
            "你好世界你好世界你",
            "好世界😀😀😀 e\u0301\u0301 \u200b tab",
            "x",
        ]
