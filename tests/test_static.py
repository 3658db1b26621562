"""The code passes ruff's lint rules and strict mypy (style guide, section 9), as installed: a type error or
an unused import fails the suite like any other regression."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def test_ruff_lint_passes() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_mypy_passes() -> None:
    done = subprocess.run([str(ROOT / "scripts" / "typecheck.sh")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
