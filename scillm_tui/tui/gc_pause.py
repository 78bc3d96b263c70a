"""Full garbage collections wait while a run streams.

A full (generation 2) collection walks every long-lived object: 30-40 ms with the
dashboard up, on top of a frame, in the middle of a stream (the bench's worst event-loop
stalls and key delays). Young collections keep running and free short-lived cycles;
what survives into the oldest generation during a run waits, and the first full
collection after the run (Python's own trigger, restored when the run ends) frees it.
The app also freezes its start-up objects (``gc.freeze``) so that collections skip them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DEFERRED_THRESHOLD", "full_collections_deferred"]

DEFERRED_THRESHOLD = 1_000_000
"""Generation-2 threshold while deferred: young collections before a full one."""

_saved: list[int] = []  # the threshold to restore; empty when nothing is deferred
_depth = 0


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """Defer full collections until every `with` block using this has exited.

    Nested and overlapping uses (a new run starting while the cancelled one winds down)
    restore Python's threshold once, when the last one ends.
    """
    global _depth
    if _depth == 0:
        threshold = gc.get_threshold()
        _saved[:] = [threshold[2]]
        gc.set_threshold(threshold[0], threshold[1], DEFERRED_THRESHOLD)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, _saved.pop())
