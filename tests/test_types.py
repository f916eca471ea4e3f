"""The type checker over geodata/, parks/, maps/, api/ and benchmarks/ (configuration: [tool.mypy] in pyproject.toml)."""

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


def _debt() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [m for o in config["tool"]["mypy"].get("overrides", []) if o.get("ignore_errors")
            for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])]


def test_every_package_is_checked():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert sorted(config["tool"]["mypy"]["files"]) == ["api", "benchmarks", "geodata", "maps", "parks"]


def test_the_debt_list_names_modules_that_exist():
    missing = [m for m in _debt() if not (ROOT / (m.replace(".", "/") + ".py")).exists()
               and not (ROOT / m.replace(".", "/") / "__init__.py").exists()]
    assert missing == []


@pytest.mark.slow
def test_every_module_on_the_debt_list_still_has_errors(tmp_path):
    """A module whose errors are fixed comes off the list (else new errors in it would pass unseen)."""
    import re

    debt = _debt()
    if not debt:
        return
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    without = re.sub(r"\[\[tool\.mypy\.overrides\]\].*?ignore_errors = true\n", "", text, flags=re.S)
    assert without != text
    config = tmp_path / "pyproject.toml"
    config.write_text(without, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--no-color-output",
                          "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    with_errors = {line.split(":", 1)[0].removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                   for line in out.stdout.splitlines() if ": error:" in line}
    assert [m for m in debt if m not in with_errors] == []
