"""When a widget may draw its own lines instead of going through Textual's pipeline.

`StreamView` and the cached scrollbars build their screen lines themselves (Textual's
per-line pipeline was most of their cost). That is only the same picture for styles the
pipeline would add nothing to but a left padding and the background.
"""

from __future__ import annotations

from textual.widget import Widget

__all__ = ["plain_left_padding"]


def plain_left_padding(widget: Widget) -> int | None:
    """`widget`'s left padding if its styles are plain (no border, outline, other
    padding, tint, hatch or opacity); None if Textual's pipeline must draw it."""
    styles = widget.styles
    top, right, bottom, left = styles.padding
    if (
        top
        or right
        or bottom
        or any(edge for edge, _ in styles.border)
        or any(edge for edge, _ in styles.outline)
        or styles.tint.a
        or widget.opacity != 1.0
        or styles.text_opacity != 1.0
        or (styles.has_rule("hatch") and styles.hatch != "none")
    ):
        return None
    return left
