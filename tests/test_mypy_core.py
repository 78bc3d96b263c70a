"""`scillm_tui/core/` type-checks with zero mypy errors under its strict settings
(`[tool.mypy]` in pyproject.toml).

`.ci/run` runs mypy over the whole project; this test keeps the service layer's half
enforced by the README's test command on its own, whatever the state of the UI packages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_type_checks_strictly() -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert mypy is not None, "mypy is missing: pip install -e '.[test]'"
    result = subprocess.run(
        [mypy, "scillm_tui/core"],  # the strict overrides and plugins come from pyproject
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
