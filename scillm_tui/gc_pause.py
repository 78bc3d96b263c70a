"""No collections while the dashboard starts; full ones wait while a run streams.

Start-up allocates ~120 000 objects, and Python collected ~165 times on the way to the
first frame (~50 ms: one full collection, 15 middle and ~150 young ones, measured with
``gc.callbacks`` for ``scillm-tui --demo``). `collections_held` (the entry point, around
the dashboard) turns collecting off; `settle_start_up`, after the first frame, frees
start-up's garbage in one collection, freezes what lives on (``gc.freeze``: later
collections skip it) and turns collecting back on. Only inside `collections_held`: an app
mounted anywhere else (the tests, the bench's in-process apps) neither collects nor freezes,
so a test suite's garbage is not kept frozen for the rest of the process.

A full (generation 2) collection walks every long-lived object: 30-40 ms with the
dashboard up, on top of a frame, in the middle of a stream (the bench's worst event-loop
stalls and key delays). Young collections keep running and free short-lived cycles;
what survives into the oldest generation during a run waits, and the first full
collection after the run (Python's own trigger, restored when the run ends) frees it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "DEFERRED_THRESHOLD",
    "collections_held",
    "full_collections_deferred",
    "settle_start_up",
]

DEFERRED_THRESHOLD = 1_000_000
"""Generation-2 threshold while deferred: young collections before a full one."""

_held = False  # collections_held turned collecting off; settle_start_up turns it on
_entry_point = False  # inside collections_held: the real start-up, where freezing pays
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


@contextmanager
def collections_held() -> Iterator[None]:
    """No garbage collection inside the block until `settle_start_up` (enter it before
    importing the TUI). Leaving the block without a first frame (a configuration error,
    a crash) turns collecting back on."""
    global _held, _entry_point
    _entry_point = True
    if gc.isenabled():
        gc.disable()
        _held = True
    try:
        yield
    finally:
        _entry_point = False
        if _held:
            _held = False
            gc.enable()


def settle_start_up() -> None:
    """After the first frame, when started from the entry point (`collections_held`):
    free start-up's garbage (if collections were held), then freeze the objects that live
    on and collect as usual from here. Anywhere else: nothing."""
    global _held
    if not _entry_point:
        return
    held, _held = _held, False
    if held:
        gc.collect()  # before freezing: frozen garbage would never be freed
    gc.freeze()
    if held:
        gc.enable()
