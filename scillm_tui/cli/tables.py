"""Plain aligned text tables for the read-only commands (`history`, `leaderboard`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len


def printable(text: str, width: int | None = None) -> str:
    """`text` on one line with control characters shown as "?" (model output and prompts
    are untrusted: an escape sequence must not reach the terminal), cut to `width`."""
    line = "".join(c if c.isprintable() else "?" for c in text.replace("\n", " "))
    if width is not None and len(line) > width:
        line = line[: max(width - 1, 0)] + "…"
    return line


def render_table(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> str:
    """Rows (the first is the heading) padded to their columns' widths; columns in
    `right` aligned right. Ends with a newline."""
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (width - cell_len(cell))
            cells.append(pad + cell if i in right else cell + pad)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
