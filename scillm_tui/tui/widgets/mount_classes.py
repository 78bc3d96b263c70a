"""Classes that Textual's stock widgets give themselves as they mount, given up front.

A class added to a mounted widget restyles it (and its children). The form's inputs add
``-valid`` and its checkbox ``-on`` while the dashboard builds its first frame: given at
construction, those adds find the class already there and do nothing (about 6 ms of
restyling before the first frame). ``compact=True`` cannot be helped this way: its
reactive first removes its class, then adds it. The names are Textual's (pinned
version); were one renamed, the widget would just be restyled once more, as before.
"""

from __future__ import annotations

__all__ = ["ON", "VALID"]

VALID = "-valid"
"""Added by ``Input`` when its value validates (always, without validators)."""

ON = "-on"
"""Added by a ``Checkbox`` whose value is True."""
