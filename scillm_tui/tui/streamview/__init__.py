"""The streaming view engine: many columns of fast streamed text, cheap per chunk.

What it is: `StreamView`, a line-API scroll view that shows plain text as it streams in,
wrapped incrementally (`wrap.WrappedText`), drawn from per-row strip caches
(`rows.RowPainter`) with its own scrollbar in its last column (`bar.StreamBar`); and the
drawing helpers the rest of the dashboard shares: `LineCache` (reuse drawn lines until a
repaint), `OffscreenQuiet` (columns scrolled out of sight do not repaint),
`CachedScrollbars` (scrollbars drawn only when they change) and `plain_left_padding`
(when a widget may draw its own lines).

Why not stock widgets: re-rendering the whole text per chunk (``Static.update``,
``TextArea``, ``Markdown``) grows with the text, ``Log`` does not wrap, and a growing
``virtual_size`` lays out the whole screen on every new row. On 8 columns × 2,000 chunks
at 100 chunks/s the first stock-widget dashboard spent its event loop in layout (loop lag
p99 52 ms, max 131 ms, arrival → screen p99 108 ms); this engine holds 11 / 28 ms and
51 ms at about 2.8 × the CPU of a consumer that only reads the streams
(``python -m bench``, docs/performance.md).

Public surface: `StreamView` (`append`, `flush`, `clear`, `text`, `placeholder`,
`following`), `WrappedText`, `LineCache`, `OffscreenQuiet`, `CachedScrollbars`.
Everything else is internal to the package.
"""

from scillm_tui.tui.streamview.line_cache import LineCache
from scillm_tui.tui.streamview.offscreen import OffscreenQuiet
from scillm_tui.tui.streamview.scrollbars import CachedScrollbars
from scillm_tui.tui.streamview.view import StreamView
from scillm_tui.tui.streamview.wrap import WrappedText

__all__ = ["CachedScrollbars", "LineCache", "OffscreenQuiet", "StreamView", "WrappedText"]
