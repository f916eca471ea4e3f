"""Each benchmark runs end to end on a tiny input and reports figures (no timing is asserted)."""

from __future__ import annotations

import os
import re

import pytest

from benchmarks import Report, median_time, peak_rss_mb
from benchmarks import __main__ as runner


@pytest.fixture(autouse=True)
def tiny_inputs(raw_dataset, tmp_path_factory, monkeypatch):
    """Benchmarks read the session's small dataset (3,000 enterprises) and cache in a temp directory."""
    from benchmarks import _data

    monkeypatch.setenv("PARKPLAN_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "bench-cache"))
    monkeypatch.setitem(_data.PRELOADED, 3000, raw_dataset)


def _check(rep: Report, name: str) -> None:
    assert isinstance(rep, Report) and rep.name == name
    assert "| --- |" in rep.body  # a results table


def test_join_runs_and_both_paths_agree():
    from benchmarks import bench_join

    rep = bench_join.run("tiny")
    _check(rep, "join")
    assert rep.data["n"] == 3000
    assert rep.data["same_county"] == 1.0 and rep.data["same_park"] == 1.0
    assert rep.data["same_hand"] == 1.0  # the limit row answers the same question
    assert rep.data["parkplan_s"] > 0 and rep.data["geopandas_s"] > 0 and rep.data["hand_s"] > 0


def test_ripley_runs_and_matches_pointpats():
    from benchmarks import bench_ripley

    rep = bench_ripley.run("tiny")
    _check(rep, "ripley")
    assert rep.data["sizes"][0]["max_rel_diff"] < 1e-9
    assert rep.data["n_alone"] == 3000
    assert rep.data["envelope_sims"] == 3 and rep.data["plain_count_cpu_per_pattern_s"] > 0
    assert "Ripley's L with CSR envelopes" in rep.body


def test_suitability_runs_and_loop_agrees():
    from benchmarks import bench_suitability

    rep = bench_suitability.run("tiny")
    _check(rep, "suitability")
    assert rep.data["same_parks"] is True
    assert rep.data["max_score_diff"] < 1e-9
    assert "extrapolated" in rep.body


def test_api_runs_on_loopback():
    import api.routes.suitability  # noqa: F401 - the benchmark serves it
    from benchmarks import bench_api

    rep = bench_api.run("tiny")
    _check(rep, "api")
    results = rep.data["results"]
    assert {r["concurrency"] for r in results} == {1, 4}
    assert all(r["ok"] > 0 and not r["errors"] for r in results), results
    light = [r for r in results if r["client"].startswith("light")]  # the light client's rows, every server
    assert {(r["server"], r["concurrency"]) for r in light} == {
        (s, c) for s in ("parkplan, 1 worker", "limit: bare ASGI app, same bytes") for c in (1, 4)}
    assert all(r["client_cpu_ms"] > 0 and r["server_cpu_ms"] is not None for r in light), light


def test_scale_runs_on_a_local_cluster():
    from benchmarks import bench_scale

    rep = bench_scale.run("tiny")
    _check(rep, "scale")
    assert rep.data["n"] == 6000 and rep.data["partitions"] == 4
    assert len(rep.data["worker_peak_bytes"]) == 2
    # per core: every step measured with both engines (CPU seconds; no figure asserted)
    assert set(rep.data["cpu_memory"]) == set(rep.data["cpu_dask"]) == {"join", "context", "batch", "capture"}
    assert rep.data["cpu_dask"]["batch"] > 0 and "Per core" in rep.body


def test_runner_keeps_other_sections(tmp_path, monkeypatch):
    out = tmp_path / "RESULTS.md"
    out.write_text("# results\n\n## Maps\n\nwritten by the maps benchmark\n", encoding="utf-8")
    fake = Report("join", "Join", "| a |\n| --- |\n| 1 |")
    monkeypatch.setattr(runner, "run_one", lambda name, size, **kw: fake)
    monkeypatch.setattr(runner, "available", lambda name: name == "join")
    assert runner.main(["join", "--tiny", "--out", str(out)]) == 0
    assert runner.main(["join", "--tiny", "--out", str(out)]) == 0  # replaced, not appended twice
    text = out.read_text(encoding="utf-8")
    assert "written by the maps benchmark" in text
    assert text.count("<!-- bench:join -->") == 1
    assert re.search(r"Command: `python -m benchmarks join --tiny --out .*RESULTS.md`", text)


def test_runner_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit):
        runner.main(["joins"])
    assert "unknown benchmark(s) joins; accepted: join, ripley" in capsys.readouterr().err


def test_timing_and_memory_helpers():
    import numpy as np

    med, times, result = median_time(lambda: 41 + 1, repeat=3)
    assert result == 42 and len(times) == 3 and med >= 0
    grow = peak_rss_mb(lambda: np.ones(50 * 2**20 // 8).sum())  # allocates and touches 50 MiB
    idle = peak_rss_mb(lambda: 41 + 1)
    if hasattr(os, "fork"):  # measured in a forked child
        assert grow is not None and idle is not None
        assert grow > 30 and idle < 10, (grow, idle)
    else:  # documented: None where fork is unavailable
        assert grow is None and idle is None
