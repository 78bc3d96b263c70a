"""The service layer is headless: importing it must not pull in textual or rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import scillm_tui.core
import scillm_tui.demo

HEADLESS_PACKAGES = [scillm_tui.core, scillm_tui.demo]
HEADLESS_MODULES = ["scillm_tui.cli", "scillm_tui.headless", "scillm_tui.session"]


def _modules() -> list[str]:
    names = list(HEADLESS_MODULES)
    for package in HEADLESS_PACKAGES:
        names.append(package.__name__)
        names += [
            f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
        ]
    return names


def test_every_core_module_is_checked() -> None:
    names = _modules()
    assert "scillm_tui.core.client" in names
    assert "scillm_tui.core.runs" in names
    assert len(names) >= 20


def test_importing_the_headless_layer_leaves_textual_and_rich_out() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"headless modules imported: {result.stdout.strip()}"


def test_the_check_itself_detects_a_textual_import() -> None:
    code = "import sys, scillm_tui.tui.app\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr
