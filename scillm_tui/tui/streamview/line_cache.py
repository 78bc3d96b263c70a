"""`LineCache`: a widget mixin that reuses drawn lines until the widget is repainted.

Textual asks every widget under a frame's changed area for its lines, and answers each
request through its generic per-line pipeline (background colours, region look-ups, the
styles cache, line filters) even when nothing about the widget changed. With many
columns streaming side by side, the columns' frames, headers, stats and scrollbars were
asked ~25 times a second and cost as much as the text. Every change to what a widget
draws reaches Textual through `_set_dirty` (repaints and resizes) or
`notify_style_update` (CSS, theme, pseudo-classes), so dropping the lines there keeps
the picture exact; the tests compare against Textual's own drawing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["LineCache"]

# Not a Widget subclass at run time: Textual takes a widget's CSS type names (what
# `Static { ... }` rules and `query(Static)` match) from the first DOMNode base only, so a
# Widget-based mixin put first would hide the real base's default CSS and type.
if TYPE_CHECKING:
    _Base = Widget
else:
    _Base = object


class LineCache(_Base):
    """Mix in before a widget class: ``class Header(LineCache, Static)``."""

    _drawn: list[Strip] | None = None

    def _set_dirty(self, *regions: Region) -> None:
        self._drawn = None
        super()._set_dirty(*regions)

    def notify_style_update(self) -> None:
        self._drawn = None
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        width, height = self.outer_size
        drawn = self._drawn
        if drawn is None or len(drawn) != height or (drawn and drawn[0].cell_length != width):
            drawn = self._drawn = super().render_lines(Region(0, 0, width, height))
        lines = drawn[crop.y : crop.bottom]
        if crop.x or crop.width != width:
            lines = [line.crop(crop.x, crop.right) for line in lines]
        return lines
