"""The README's list of rebindable binding ids is the dashboard's, no more and no less."""

from __future__ import annotations

import re
from pathlib import Path

from scillm_tui.tui.user_choices import binding_ids
from tests.tui_support import Script, make_app

README = Path(__file__).resolve().parents[1] / "README.md"


def _documented() -> set[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("Binding ids:")
    paragraph = text[start : text.index("\n\n", start)]
    return set(re.findall(r"`([a-z][a-z-]*)`", paragraph))


async def test_every_binding_id_is_in_the_readme_and_no_other(tmp_path: Path) -> None:
    app = make_app(Script(), tmp_path, poll_health=False)
    async with app.run_test(size=(120, 36)):
        ids = binding_ids(app)
    assert "run" in ids and "zoom-close" in ids  # the app's and a screen's
    assert _documented() == ids
