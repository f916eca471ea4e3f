"""benchmarks/bench_maps.py runs end to end on the session's small dataset (figures reported, no
timing asserted)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_bench_maps_tiny(raw_dataset, browser, monkeypatch):
    from benchmarks import _data, bench_maps

    n = len(raw_dataset.enterprises)
    monkeypatch.setitem(_data.PRELOADED, n, raw_dataset)
    monkeypatch.setitem(bench_maps.SIZES_BY_RUN, "tiny", (n,))
    monkeypatch.setattr(bench_maps, "_LOADS", 1)
    rep = bench_maps.run("tiny", browser=browser)  # the session's browser: one Playwright per process
    rows = rep.data["rows"]
    assert [r["renderer"] for r in rows] == ["points", "circlemarkers"]
    for r in rows:
        assert r["points"] == n and r["blocked"] == 0 and r["errors"] == 0
        assert r["inlined_bytes"] > r["html_bytes"] > 0
    assert f"| {n:,} | **points** (default) |" in rep.body
    limits = rep.data["limits"]
    assert [x["what"].split(":")[0] for x in limits] == ["limit", "peer"]
    assert all(x["bytes"] > 0 and x["build_cpu_s"] >= 0 for x in limits)
    assert limits[0]["bytes"] < rows[0]["html_bytes"]  # the coordinates alone are less than the page
    assert f"| {n:,} | limit: the coordinate arrays alone to JSON (orjson) |" in rep.body
