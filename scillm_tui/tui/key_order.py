"""Actions that see every key pressed before theirs, however fast the keys came.

A priority binding (ctrl+r, ctrl+j, ...) runs as the app takes its key from the app's
queue, but the keys before it were only forwarded to the focused widget's own queue:
typed in one burst (a fast typist, a paste of keystrokes, a script), the editor may not
have handled them yet. An action decorated with `after_pending_keys` first waits until
the focused widget (or the screen, with nothing focused) has handled the messages
queued before it, so `run.json` holds exactly the prompt on screen.

The same burst reorders keys inside an input: printable keys are handled in the
widget's queue, but its bound keys (backspace, end, ...) bubble up to the app's queue
and run there, after the printable keys behind them (`End BSpace 4` left N empty).
`KeysInOrder` runs a widget's own bindings in its own queue, in the order typed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from textual import events
from textual.app import App
from textual.widget import Widget
from textual.widgets import Input, TextArea

__all__ = [
    "KeysInOrder",
    "OrderedInput",
    "OrderedTextArea",
    "after_pending_keys",
    "pending_keys_handled",
]

SETTLE_TIMEOUT_S = 1.0  # a widget that never gets to its queue does not hold the key up
_MAX_HOPS = 4  # keys may move the focus (tab): follow it a few times

AppT = TypeVar("AppT", bound=App[Any])


async def pending_keys_handled(app: App[Any]) -> None:
    """Return once the widget keys go to has handled everything queued before now."""
    loop = asyncio.get_running_loop()
    for _ in range(_MAX_HOPS):
        target = app.focused or app.screen
        handled: asyncio.Future[None] = loop.create_future()

        def done(future: asyncio.Future[None] = handled) -> None:
            if not future.done():
                future.set_result(None)

        if not target.call_later(done):  # closing: it takes no more keys either
            return
        try:
            await asyncio.wait_for(handled, SETTLE_TIMEOUT_S)
        except TimeoutError:
            return
        # A key among them may have moved the focus (deferred to the app's queue, which
        # this action holds): the keys after it are the new widget's to handle.
        await asyncio.sleep(0)
        if (app.focused or app.screen) is target:
            return


def after_pending_keys(
    action: Callable[[AppT], Awaitable[None] | None],
) -> Callable[[AppT], Awaitable[None]]:
    """Decorate an app action so it runs after the keys pressed before it are handled."""

    @functools.wraps(action)
    async def settled(app: AppT) -> None:
        await pending_keys_handled(app)
        result = action(app)
        if inspect.isawaitable(result):
            await result

    return settled


class KeysInOrder:
    """Mixed into a focusable widget: its own key bindings run in its queue, in typing
    order. (A plain mixin: a `Widget` base would hide the widget's component classes.)"""

    async def _on_key(self, event: events.Key) -> None:
        widget = cast(Widget, self)
        for binding in widget._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await widget.app.run_action(binding.action, widget):
                event.stop()
                event.prevent_default()  # the widget's own key handler is not called
                return


class OrderedInput(KeysInOrder, Input):
    """An `Input` that handles a burst of keys in the order they were typed, and shows
    the start of its value once it loses focus (a value as wide as the field had stayed
    scrolled by the cursor's cell, its first character hidden)."""

    def _on_blur(self, event: events.Blur) -> None:
        # After `Input`'s own blur handling, which may scroll to the cursor.
        self.call_later(self.scroll_to, x=0, animate=False)


class OrderedTextArea(KeysInOrder, TextArea):
    """A `TextArea` that handles a burst of keys in the order they were typed."""
