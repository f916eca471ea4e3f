"""``parkplan bench`` hands its options to the benchmark runner and records the section."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app
from benchmarks import Report
from benchmarks import __main__ as bench_main

runner = CliRunner()


def test_bench_passes_options_and_writes_the_results_file(tmp_path, monkeypatch):
    seen = {}

    def fake(name, size, **options):
        seen[name] = (size, options)
        return Report(name, name.title(), "| figure |\n| --- |\n| 1 |")

    monkeypatch.setattr(bench_main, "run_one", fake)
    monkeypatch.setattr(bench_main, "available", lambda name: name in ("join", "scale"))
    out = tmp_path / "RESULTS.md"
    r = runner.invoke(app, ["bench", "join", "scale", "--quick", "--out", str(out), "--scheduler", "tcp://127.0.0.1:8786"])
    assert r.exit_code == 0, r.output
    assert seen == {"join": ("quick", {}), "scale": ("quick", {"scheduler": "tcp://127.0.0.1:8786", "engine": "dask"})}
    text = out.read_text(encoding="utf-8")
    assert "<!-- bench:join -->" in text and "<!-- bench:scale -->" in text


def test_bench_rejects_unknown_names_and_exclusive_sizes():
    r = runner.invoke(app, ["bench", "nosuch", "--no-write"])
    assert r.exit_code != 0
    r = runner.invoke(app, ["bench", "join", "--quick", "--tiny"])
    assert r.exit_code == 2 and "exclude each other" in r.output
