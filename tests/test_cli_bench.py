"""``parkplan bench`` runs ``python -m benchmarks`` in a child process with the options it was given."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()

FAKE_RUNNER = '''
import json, sys
with open("argv.json", "w") as f:
    json.dump(sys.argv[1:], f)
raise SystemExit(3 if "nosuch" in sys.argv else 0)
'''


def _fake_benchmarks(tmp_path, monkeypatch):
    """A stand-in ``benchmarks`` package in the working directory (``python -m`` looks there first)
    that records its arguments: the real runner is tested in tests/benchmarks."""
    pkg = tmp_path / "benchmarks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(FAKE_RUNNER)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "argv.json"


def test_bench_passes_options_to_the_runner(tmp_path, monkeypatch):
    seen = _fake_benchmarks(tmp_path, monkeypatch)
    out = tmp_path / "RESULTS.md"
    r = runner.invoke(app, ["bench", "join", "scale", "--quick", "--out", str(out), "--scheduler", "tcp://127.0.0.1:8786"])
    assert r.exit_code == 0, r.output
    assert json.loads(seen.read_text()) == ["join", "scale", "--quick", "--out", str(out), "--scheduler",
                                            "tcp://127.0.0.1:8786", "--engine", "dask"]


def test_bench_returns_the_runners_exit_code_and_rejects_exclusive_sizes(tmp_path, monkeypatch):
    _fake_benchmarks(tmp_path, monkeypatch)
    r = runner.invoke(app, ["bench", "nosuch", "--no-write"])
    assert r.exit_code == 3
    r = runner.invoke(app, ["bench", "join", "--quick", "--tiny"], env={"LC_ALL": "en_US.UTF-8"})  # the locale's language
    assert r.exit_code == 2 and "exclude each other" in r.output


def test_bench_runs_the_real_runner_to_its_argument_check(tmp_path):
    r = runner.invoke(app, ["bench", "nosuch", "--no-write"])
    assert r.exit_code == 2  # argparse: unknown benchmark
