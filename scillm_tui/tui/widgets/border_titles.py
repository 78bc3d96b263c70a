"""Border titles set literally, and only when they change.

A ``str`` given to ``Widget.border_title`` is parsed as Textual markup, so a model named
``[red]x`` (from a gateway's ``/v1/models`` or typed by the user) would lose its
brackets. Every assignment also repaints the whole bordered widget, even with the same
title: for a variant column at a run's start that was ~3 ms each.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from scillm_tui.tui import textual_private as private

__all__ = ["set_border_title"]


def set_border_title(widget: Widget, title: str) -> None:
    """Show `title` as it is (no markup) on `widget`'s border; no repaint if unchanged."""
    content = Content(title).expand_tabs(4).split()[0]  # as Textual stores it
    if private.border_title(widget) != content:
        widget.border_title = content
