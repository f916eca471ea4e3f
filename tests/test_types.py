"""The type checker over geodata/, parks/ and maps/ (configuration: [tool.mypy] in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_errors():
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                          "--no-color-output", "--no-error-summary"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert out.returncode == 0 and not errors, "\n".join(errors) or out.stdout + out.stderr


def test_mypy_sees_a_type_error(tmp_path):
    """The same command fails on a real error (so the test above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x: int) -> str:\n    return x\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary",
                          "--config-file", str(ROOT / "pyproject.toml"), str(bad)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 1 and "Incompatible return value type" in out.stdout, out.stdout + out.stderr
