"""`StreamView`: a scrolling view of streamed plain text that stays cheap as text grows.

Why not a stock widget: re-rendering the full text per chunk (``Static.update``,
``TextArea``, ``Markdown``) costs grow with the text, ``Log`` does not wrap, and any
widget whose growth goes through ``virtual_size``'s reactive setter triggers a layout of
the *whole screen* on every new row (see :meth:`StreamView._sync_virtual_size`).

Design:

* Writers call :meth:`append` per chunk; it only buffers (call it on the app's thread:
  from an async worker, or via ``App.call_from_thread``). One app-level timer calls
  :meth:`flush` on every view at ~20-30 Hz, which wraps the new text incrementally
  (:class:`~scillm_tui.tui.streamview.wrap.WrappedText`), grows the virtual size without a
  relayout and repaints only rows that changed (or the whole view if it scrolled).
* The scrollbar is drawn by the view itself, as its rows' last cell (`StreamBar`: one
  widget fewer on every line of the column), repainted only when its thumb visibly moves,
  and always shown so that the wrap width never changes mid-stream.
* Optional jump scrolling (``follow_step``) trades "last row always on the bottom line"
  for far fewer whole-view repaints.
* Line API: only visible rows are drawn, from per-row ``Strip`` caches (`RowPainter`),
  as plain ``Segment``s: text is never parsed as markup, and control characters arrive
  already replaced by visible placeholders.
* ``following``: pinned to the end while True. Any user scroll whose target is above the
  end turns it off; reaching the end (``end`` key, wheel, scrollbar) turns it back on.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.geometry import Region, Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from scillm_tui.tui.streamview.bar import BAR_WIDTH, StreamBar
from scillm_tui.tui.streamview.offscreen import OffscreenQuiet, in_last_frame
from scillm_tui.tui.streamview.rows import RowPainter
from scillm_tui.tui.streamview.wrap import TextBuffer, WrappedText

__all__ = ["StreamView"]

_INITIAL_WIDTH = 80
"""Wrap width used before the first layout tells us the real one."""


class StreamView(OffscreenQuiet, ScrollView, can_focus=True):
    """Literal, wrapped, append-only text that follows its tail while streaming."""

    ALLOW_SELECT = False
    """Line-API text selection is not implemented; the app exports `text` instead."""

    COMPONENT_CLASSES = {"stream-view--control", "stream-view--placeholder"}
    """
    | Class | Description |
    | :- | :- |
    | `stream-view--control` | Stand-ins for control characters (e.g. `␛` for ESC). |
    | `stream-view--placeholder` | The `placeholder` text shown while empty. |
    """

    DEFAULT_CSS = """
    StreamView {
        overflow-x: hidden;
        /* Scrollable, with the bar drawn by the view itself (`StreamBar`). */
        overflow-y: scroll;
    }
    StreamView > .stream-view--control {
        color: $text-warning;
    }
    StreamView > .stream-view--placeholder {
        color: $text-muted;
        text-style: italic;
    }
    """

    following: var[bool] = var(True, init=False)
    """True while the view is pinned to the end of the text."""

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "",
        follow_step: int = 1,
        follow_phase: int = 0,
        text_source: Callable[[], str] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Create a view, optionally with initial text and a placeholder for when empty.

        `follow_step` > 1 turns on jump scrolling while following (see `follow_step`);
        `follow_phase` (0 to step - 1) makes the first jump that many rows shorter, so
        views streaming at the same pace side by side take turns to jump instead of all
        scrolling (a repaint of the whole view each) in the same frame.
        `text_source`: for a view of text its owner keeps anyway (a variant's text is in
        the run's state), a callable that returns everything appended so far (appended
        text included as soon as it is appended). The view then keeps no copy of its
        own: `text` is the source's, and a re-wrap on resize, or drawing rows older than
        the newest 128 or so, reads the source (see `WrappedText`).
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._text_source = text_source
        # Without a source the view keeps its flushed text itself.
        self._own_text: TextBuffer | None = None
        if text_source is None:
            text_source = self._own_text = TextBuffer(text)
        self._wrapped = WrappedText(_INITIAL_WIDTH, text, source=text_source)
        self._pending: list[str] = []
        self._pending_reset = False  # set_text() called: the next flush replaces all
        self._bar = StreamBar(self)
        self._painter = RowPainter(self, self._wrapped, self._bar)
        self._auto_scrolling = False  # our own scroll: must not change `following`
        self._batching = False  # inside _rows_changed: scrollbar updated once at the end
        self._placeholder = placeholder
        self.follow_step = max(1, follow_step)
        """Rows to scroll at a time while following (capped at half the view height).

        1 keeps the last row on the bottom line. N > 1 scrolls only when the text reaches
        the bottom, and then so that N - 1 blank rows are left to fill, like a terminal's
        jump scroll: a scroll repaints every line of the view (and with many columns
        streaming at once that is most of a frame's cost), while filling blank rows
        repaints only the row being written.
        """
        self._floor = 0  # minimum virtual height: keeps jump-scroll's blank rows scrollable
        self.follow_phase = follow_phase % self.follow_step
        self._phase = self.follow_phase  # still to apply, on the next first jump

    # -- public API ---------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything appended so far, including text not flushed yet."""
        if self._text_source is not None:
            return self._text_source()
        pending = self._pending
        if len(pending) > 1:
            pending[:] = ["".join(pending)]
        buffered = pending[0] if pending else ""
        if self._pending_reset:
            return buffered
        return self._wrapped.text + buffered

    @property
    def placeholder(self) -> str:
        """Shown (dim) in the first row while there is no text; not part of `text`."""
        return self._placeholder

    @placeholder.setter
    def placeholder(self, text: str) -> None:
        if text == self._placeholder:
            return
        self._placeholder = text
        if self._blank:
            self.refresh(Region(0, 0, self.outer_size.width, 1))  # its row alone

    @property
    def _blank(self) -> bool:
        """No text drawn: the view shows its placeholder row and blank rows below."""
        return not self._wrapped.row_count and self.scroll_offset.y == 0

    @property
    def appended(self) -> str:
        """What was appended so far (flushed or not). With a `text_source` this is the
        source's text up to what reached the view: the source may already hold more
        (e.g. a run's state, ahead of the deltas still queued for the view)."""
        if self._text_source is None or self._pending_reset:
            return self.text if self._text_source is None else "".join(self._pending)
        pending = sum(map(len, self._pending))
        return self._text_source()[: self._wrapped.length + pending]

    @property
    def has_pending(self) -> bool:
        """Text (or a `set_text`) waits for the next `flush`."""
        return bool(self._pending) or self._pending_reset

    @property
    def has_text(self) -> bool:
        """Any text received (flushed or not): `received` > 0 without summing chunks."""
        if self._pending_reset:
            return bool(self._pending)  # `set_text` keeps no empty piece, nor `append`
        return bool(self._wrapped.length or self._pending)

    @property
    def received(self) -> int:
        """How many characters reached the view (flushed or not): unlike `appended`, it
        does not read the `text_source`, which may since have changed (a variant's
        answer moved to its thinking, see `VariantColumn.rethink`)."""
        pending = sum(map(len, self._pending))
        return pending if self._pending_reset else self._wrapped.length + pending

    @property
    def row_count(self) -> int:
        """Number of wrapped rows currently displayed (flushed text only)."""
        return self._wrapped.row_count

    def append(self, text: str) -> None:
        """Buffer text; cheap enough to call per chunk. Shown on the next `flush`.

        Not thread-safe (like all widget methods): call it on the app's thread.
        """
        if text:
            self._pending.append(text)

    def set_text(self, text: str) -> None:
        """Replace all text; applied on the next `flush` (no blank frame in between)."""
        self._pending[:] = [text] if text else []
        self._pending_reset = True

    def clear(self) -> None:
        """Remove all text now and pin the view to the end again.

        A view with nothing drawn yet is not repainted: the grid clears all its columns
        as a run starts, and repainting blank views was most of that first frame.
        """
        blank = self._blank
        self._pending.clear()
        self._pending_reset = False
        self._wrapped.clear()
        if self._own_text is not None:
            self._own_text.clear()
        self._forget()
        self._floor = 0
        self._phase = self.follow_phase
        self._sync_virtual_size()
        self.following = True
        self._scroll_to_end()
        if not blank:
            self.refresh()

    def flush(self) -> bool:
        """Apply buffered text. Returns True if anything changed.

        Meant to be called for every view from one app-level timer (~20-30 Hz), so the
        wrap, virtual-size and repaint work happen once per frame, not once per chunk.
        """
        if not self._pending and not self._pending_reset:
            return False
        text = "".join(self._pending)
        self._pending.clear()
        wrapped = self._wrapped
        own = self._own_text
        if self._pending_reset:
            self._pending_reset = False
            wrapped.clear()
            if own is not None:
                own.clear()
                own.append(text)
            wrapped.append(text)
            self._forget()
            self._floor = 0
            self._rows_changed(0, everything=True)
            return True
        old_rows = wrapped.row_count
        if own is not None:
            own.append(text)
        wrapped.append(text)
        # Rows before the old last row are final (WrappedText never edits them); the old
        # last row may have changed; rows after it were never cached.
        first_changed = max(0, old_rows - 1)
        self._forget(first_changed)
        self._rows_changed(first_changed)
        return True

    # -- scrolling and following ---------------------------------------------------

    def action_scroll_end(self) -> None:
        """Jump to the end immediately and follow (the stock action animates for 1s,
        which would chase a moving end)."""
        self.following = True
        self._scroll_to_end()

    def watch_following(self, following: bool) -> None:
        """Snap to the end when following is switched on."""
        if following:
            self._scroll_to_end()

    def watch_scroll_target_y(self, _old: float, new: float) -> None:
        """Every user scroll (keys, wheel, scrollbar, animated or not) sets the target
        first, so this is where the intent to leave or reach the end shows up."""
        if not self._auto_scrolling:
            self.following = round(new) >= self.max_scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Repaint for the new position; re-attach when the view arrives at the end.

        Replaces ``ScrollView.watch_scroll_y``, which also assigns the scrollbar's
        ``position`` reactive and so repaints the scrollbar on every row scrolled (see
        `_update_scrollbar`). Intermediate positions of an animation never detach: the
        target already said where the user is going.
        """
        if round(old_value) != round(new_value) and self._on_screen():
            self.refresh()  # first: a full repaint draws the scrollbar as it is then
        self._update_scrollbar()
        if not self._auto_scrolling and round(new_value) >= self.max_scroll_y:
            self.following = True

    def _scroll_to_end(self) -> None:
        """Scroll to the last row without animation and without touching `following`."""
        if not self.is_mounted:
            return
        end = self.max_scroll_y
        if self.scroll_y == end and self.scroll_target_y == end:
            return
        self._auto_scrolling = True
        try:
            # Stops any scroll animation, and moves scroll_target_y too so that a later
            # wheel step is relative to the end.
            self.scroll_to(y=end, animate=False, force=True)
        finally:
            self._auto_scrolling = False

    def _update_scrollbar(self, *, growing: bool = False) -> None:
        """Repaint the scrollbar if its thumb moved (`StreamBar`); inside `_rows_changed`,
        once at its end."""
        if not self._batching:
            self._bar.update(growing=growing)

    # -- Textual's scrollbar widgets, left out: the view draws its own bar ---------------

    @property
    def scrollbar_size_vertical(self) -> int:
        """No room for a scrollbar widget: the view draws its bar itself (`StreamBar`)."""
        return 0

    def _refresh_scrollbars(self) -> None:
        """Allow vertical scrolling, without Textual's scrollbar widgets.

        Textual's version also shows and hides the widgets, and `_scroll_update` gives
        them their range and repaints them: hidden widgets whose repaints make Textual
        rebuild its map of the whole screen (private API, pinned;
        `tests/test_textual_private_effects.py` counts the rebuilds at a run's start).
        """
        self.show_horizontal_scrollbar = False
        self.show_vertical_scrollbar = self.styles.overflow_y != "hidden"

    def _scroll_update(self, virtual_size: Size) -> None:
        """What Textual does on a layout, but for its scrollbar widgets (see above)."""
        self._refresh_scrollbars()
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _set_dirty(self, *regions: Region) -> None:
        """A repaint of the whole view draws the bar too: it then shows the bar as it is."""
        if not regions:
            self._bar.forget()
        super()._set_dirty(*regions)

    # -- the scrollbar's mouse handling (see `StreamBar`) -----------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button == 1 and self._bar.press(event):
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._bar.drag(event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._bar.release()

    def on_mouse_release(self, event: events.MouseRelease) -> None:
        self._bar.release()

    def on_leave(self, event: events.Leave) -> None:
        self._bar.hover(False)

    def on_hide(self, event: events.Hide) -> None:
        self._bar.release()

    def _sync_virtual_size(self) -> None:
        """Make the scrollable area match the rows, without a screen relayout.

        Assigning ``virtual_size`` (a ``Reactive(layout=True)``) calls
        ``refresh(layout=True)``, which posts ``Layout`` to the screen and makes it
        ``reflow`` every widget on screen -- once per growing column per frame, which is
        what made scroll views cost 44 ms/frame at 8 columns and 120 ms at 16. Our own
        size never depends on the virtual size (unless ``height: auto``), so we store it
        with ``set_reactive`` and do what ``ScrollView._size_updated`` would for us:
        update the scrollbar (`_update_scrollbar`) and clamp the scroll position.
        ``tests/test_textual_private_effects.py`` asserts that growth does not trigger a layout.
        """
        size = Size(self._wrapped.width, max(self._wrapped.row_count, self._floor))
        if size == self.virtual_size:
            return
        if not self.is_mounted or self.styles.is_auto_height:
            # Not laid out yet, or our height depends on our content: layout is needed.
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._update_scrollbar()
        if self.scroll_y > self.max_scroll_y:  # the text got shorter
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def _rows_changed(self, first_changed: int, everything: bool = False) -> None:
        """Update scroll state and repaint after rows from `first_changed` on changed.

        Only visible changed rows are repainted: while the user reads further up,
        streaming into this view costs no painting at all.
        """
        top = self.scroll_offset.y
        height = self.window_height()
        self._batching = True  # one scrollbar update below, not one per step
        try:
            if self.following:
                rows = self._wrapped.row_count
                step = min(self.follow_step, max(1, height // 2))
                if step > 1 and rows > top + height:
                    # Jump scroll: leave step - 1 blank rows below the last one (fewer on
                    # the first jump, by the phase).
                    self._floor = rows + step - 1 - self._phase % step
                    self._phase = 0
                self._sync_virtual_size()
                self._scroll_to_end()
            else:
                self._sync_virtual_size()
        finally:
            self._batching = False
        self._update_scrollbar(growing=not everything)
        if not self._on_screen():
            return  # drawn in full, from the rows, when it comes into view
        if everything:
            self.refresh()
            return
        if self.scroll_offset.y != top:
            return  # watch_scroll_y already repainted the whole view
        start = max(first_changed, top)
        end = min(self._wrapped.row_count, top + height)
        if start < end:
            self.refresh(Region(0, start - top, self.outer_size.width, end - start))

    def window_height(self) -> int:
        """Rows of text the view shows (what ``scrollable_content_region.height`` gives,
        without looking the widget up in the compositor's map: see `_on_screen`)."""
        return max(0, self.container_size.height - self.scrollbar_size_horizontal)

    def _on_screen(self) -> bool:
        """Was the view in the last frame? Views scrolled out of sight are not repainted
        (see `offscreen`): one scrolled into view is drawn in full by the compositor, from
        the rows as they are then. Tests cover both sides (`tests/test_stream_view.py`).
        """
        return in_last_frame(self)

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap once for a new width; keep following, or keep the relative position."""
        self._painter.resize(event.size.height)
        width = self.size.width - BAR_WIDTH
        if width >= 1 and width != self._wrapped.width:
            old_rows = self._wrapped.row_count
            old_top = self.scroll_y
            wrapped = self._wrapped
            if self._text_source is None:
                wrapped.rewrap(width)
            else:  # the flushed part of the source: pending text is added by flush
                wrapped.rewrap(width, self._text_source()[: wrapped.length])
            self._floor = 0
            self._sync_virtual_size()
            if not self.following and old_rows:
                self._auto_scrolling = True
                try:
                    ratio = self._wrapped.row_count / old_rows
                    self.scroll_to(y=round(old_top * ratio), animate=False, force=True)
                finally:
                    self._auto_scrolling = False
        if self.following:
            self._scroll_to_end()
        self.refresh()

    # -- rendering (see `RowPainter`) -------------------------------------------------

    def notify_style_update(self) -> None:
        """Cached strips carry the old colours; drop them when styles (or theme) change."""
        super().notify_style_update()
        self._painter.restyle()
        self._bar.restyle()

    def _forget(self, row: int | None = None) -> None:
        """Drop cached strips: of one row, or all of them."""
        self._painter.forget(row)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the visible rows from finished-line caches (Textual's generic path for
        styles `RowPainter` does not draw itself)."""
        return self._painter.render_lines(crop, super().render_lines)

    def render_line(self, y: int) -> Strip:
        """Render line `y` of the view: its row, then the scrollbar's cell."""
        return self._painter.line(y)
