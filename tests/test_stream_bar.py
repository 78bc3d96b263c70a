"""The scrollbar a StreamView draws in its own last column: Textual's picture, its mouse."""

from __future__ import annotations

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region, Size
from textual.pilot import Pilot
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from scillm_tui.tui.streamview.view import StreamView
from tests.tui_support import screen_strips

WIDTH, HEIGHT = 24, 10
BAR_X = WIDTH - 1  # the bar's column, from the widget's left edge


class Reference(ScrollView):
    """A stock scroll view with Textual's own scrollbar widget: the bar to match."""

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width, self.rich_style)


class BarApp(App[None]):
    """A view, and beside it a reference of the same size and style."""

    CSS = f"""
    Horizontal > * {{
        width: {WIDTH};
        height: {HEIGHT};
        padding: 0 0 0 1;
        scrollbar-background: $primary 50%;  /* blended with the widget's background */
    }}
    Reference {{ overflow-x: hidden; overflow-y: scroll; scrollbar-size-vertical: 1; }}
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield StreamView(id="view")
            yield Reference(id="ref")

    @property
    def view(self) -> StreamView:
        return self.query_one(StreamView)

    @property
    def ref(self) -> Reference:
        return self.query_one(Reference)


def bar_column(app: App[None], widget: Widget) -> list[list[tuple[str, object]]]:
    """What the screen shows in `widget`'s last column, segment by segment (mouse
    actions left out: Textual's bar puts them in its styles, the view handles presses)."""
    region = widget.region
    column = Region(region.right - 1, region.y, 1, region.height)
    return [
        [
            (segment.text, segment.style and segment.style.clear_meta_and_links())
            for segment in Segment.simplify(strip)
        ]
        for strip in screen_strips(app, column)
    ]


async def show(app: BarApp, pilot: Pilot[None], lines: int, scroll_y: float | None = None) -> None:
    """Give the view `lines` rows (following them, or scrolled to `scroll_y`), and the
    reference the same scrollable height and position."""
    view, ref = app.view, app.ref
    view.set_text("".join(f"row {n}\n" for n in range(lines - 1)) + f"row {lines - 1}")
    view.flush()
    if scroll_y is not None:
        view.scroll_to(y=scroll_y, animate=False)
    ref.virtual_size = Size(ref.size.width, view.virtual_size.height)
    await pilot.pause()
    ref.scroll_to(y=view.scroll_y, animate=False)
    await pilot.pause()


def thumb_line(view: StreamView) -> int:
    """The first line of the view's thumb."""
    (_, start, _), _, _ = view._bar._current()
    assert start >= 0
    return start // 8


async def test_the_bar_draws_what_textuals_scrollbar_draws() -> None:
    app = BarApp()
    async with app.run_test(size=(2 * WIDTH, HEIGHT)) as pilot:
        for lines, scroll_y in [(3, None), (10, None), (60, None), (60, 17.0), (400, 123.0)]:
            await show(app, pilot, lines, scroll_y)
            assert bar_column(app, app.view) == bar_column(app, app.ref), (lines, scroll_y)

        # Hovered and grabbed (the reference's bar reacts to the mouse as ours does).
        await show(app, pilot, 60, 20.0)
        pictures: dict[str, list[object]] = {}
        for widget in (app.view, app.ref):
            await pilot.hover(widget, offset=(BAR_X, 0))
            hovered = bar_column(app, widget)
            await pilot.mouse_down(widget, offset=(BAR_X, thumb_line(app.view)))
            grabbed = bar_column(app, widget)
            await pilot.mouse_up(widget, offset=(BAR_X, thumb_line(app.view)))
            await pilot.hover(widget, offset=(1, 0))
            pictures[widget.id or ""] = [hovered, grabbed, bar_column(app, widget)]
        assert pictures["view"] == pictures["ref"]
        hovered, grabbed, left = pictures["view"]
        assert len({repr(hovered), repr(grabbed), repr(left)}) == 3  # three colourings


async def test_a_press_on_the_track_pages_as_on_textuals_bar() -> None:
    app = BarApp()
    async with app.run_test(size=(2 * WIDTH, HEIGHT)) as pilot:
        await show(app, pilot, 200, 100.0)  # a one-cell thumb in the middle
        for line in (HEIGHT - 1, HEIGHT - 1, 0):  # below the thumb twice, then above it
            for widget in (app.view, app.ref):
                await pilot.click(widget, offset=(BAR_X, line))
                await pilot.wait_for_scheduled_animations()
            assert app.view.scroll_y == app.ref.scroll_y
        assert app.view.scroll_y == 100 + HEIGHT  # down two pages, up one
        assert not app.view.following


async def test_dragging_the_thumb_scrolls_in_proportion_and_the_end_follows_again() -> None:
    app = BarApp()
    async with app.run_test(size=(2 * WIDTH, HEIGHT)) as pilot:
        await show(app, pilot, 200, 0.0)
        view, ref = app.view, app.ref
        await pilot.mouse_down(ref, offset=(BAR_X, 0))
        await pilot.hover(ref, offset=(BAR_X, 3))
        await pilot.mouse_up(ref, offset=(BAR_X, 3))
        await pilot.wait_for_scheduled_animations()
        await pilot.mouse_down(view, offset=(BAR_X, 0))
        await pilot.hover(view, offset=(BAR_X, 3))
        assert view._bar.grabbed
        assert view.scroll_y == ref.scroll_y == 3 * 200 / HEIGHT
        assert not view.following

        # The pointer may leave the view while dragging: the view keeps the mouse.
        await pilot.hover(ref, offset=(5, HEIGHT - 1))
        assert view.scroll_y == (HEIGHT - 1) * 200 / HEIGHT
        await pilot.mouse_up(ref, offset=(5, HEIGHT - 1))
        assert not view._bar.grabbed
        assert app.mouse_captured is None

        # Dragged to the end, the view follows its text again.
        await pilot.mouse_down(view, offset=(BAR_X, thumb_line(view)))
        await pilot.hover(view, offset=(BAR_X, HEIGHT - 1))
        await pilot.mouse_up(view, offset=(BAR_X, HEIGHT - 1))
        assert view.following
        view.append("\nmore")
        view.flush()
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        assert view.render_line(HEIGHT - 1).text.startswith("more")


async def test_a_press_on_the_text_is_not_a_press_on_the_bar() -> None:
    app = BarApp()
    async with app.run_test(size=(2 * WIDTH, HEIGHT)) as pilot:
        await show(app, pilot, 200, 50.0)
        await pilot.click(app.view, offset=(BAR_X - 1, 0))
        await pilot.wait_for_scheduled_animations()
        assert app.view.scroll_y == 50
        assert app.view.has_focus


async def test_the_view_puts_no_scrollbar_widget_on_screen() -> None:
    """The point of drawing the bar in the view: one widget fewer on each of its lines."""
    app = BarApp()
    async with app.run_test(size=(2 * WIDTH, HEIGHT)) as pilot:
        await show(app, pilot, 200)
        view, ref = app.view.region, app.ref.region
        assert view.width == WIDTH  # the bar is inside it
        for y in range(view.y, view.bottom):  # what a press on the bar's column lands on
            assert app.screen.get_widget_at(view.right - 1, y)[0] is app.view
            bar = app.screen.get_widget_at(ref.right - 1, y)[0]
            assert isinstance(bar, ScrollBar) and bar.parent is app.ref
