"""The import rules in pyproject.toml ([tool.importlinter]) hold: `lint-imports` passes.

`.ci/run` runs it too; this test makes the README's test command enforce the layers
(core < demo < session < tui < cli) as well. tests/test_import_contract.py checks the
run-time half (importing core pulls in no Textual or Rich).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert found is not None, "lint-imports is missing: pip install -e '.[test]'"
    return found


def test_the_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [_lint_imports(), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert " 0 broken" in result.stdout
    # Inside tui: app above screens above widgets above streamview (docs/architecture.md).
    assert "tui: the app above its screens, above the widgets" in result.stdout
