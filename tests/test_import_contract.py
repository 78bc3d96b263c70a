"""The service layer is headless: importing it must not pull in textual or rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import scillm_tui.core
import scillm_tui.demo

HEADLESS_PACKAGES = [scillm_tui.core, scillm_tui.demo]
HEADLESS_MODULES = ["scillm_tui.cli.main", "scillm_tui.cli.run", "scillm_tui.session"]


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


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_headless_layer_leaves_textual_out() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    assert _run(code) == "", "headless modules imported textual"


def test_the_headless_layer_imports_without_textual_or_rich_installed() -> None:
    """Block both packages outright: every headless module must still import.

    (httpx imports rich for its optional command-line client when rich happens to be
    installed, and falls back quietly without it; so we prove independence by blocking.)
    """
    code = (
        "import importlib, importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('textual', 'rich'):\n"
        "            raise ImportError(f'blocked: {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    assert _run(code) == ""


def test_rich_is_only_pulled_in_by_httpx_itself() -> None:
    code = (
        "import importlib, sys\n"
        "import httpx\n"
        "before = {m for m in sys.modules if m.split('.')[0] == 'rich'}\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "after = {m for m in sys.modules if m.split('.')[0] == 'rich'}\n"
        "print(','.join(sorted(after - before)))\n"
    )
    assert _run(code) == "", "a headless module imports rich"


def test_the_check_itself_detects_a_textual_import() -> None:
    assert _run("import sys, scillm_tui.tui.app\nprint('textual' in sys.modules)") == "True"


def test_the_dashboard_imports_without_the_http_stack() -> None:
    """Everything up to the dashboard's first frame imports without httpx, uvicorn or
    starlette (~0.15 s of start-up): the clients and the demo backend come after it."""
    code = (
        "import sys\n"
        "import scillm_tui.cli.main, scillm_tui.session, scillm_tui.tui.app\n"
        "heavy = ('httpx', 'httpcore', 'uvicorn', 'starlette')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    assert _run(code) == "", "the dashboard's imports pulled in the HTTP stack"
