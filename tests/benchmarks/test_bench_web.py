"""``python -m benchmarks web`` runs end to end: ``parkplan serve`` on loopback, two users in headless Debian
chromium, one round over every page a county office may open, a table and no error (no timing is asserted)."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def tiny_inputs(raw_dataset, tmp_path_factory, monkeypatch):
    """The session's small dataset (3,000 enterprises), cached in a temp directory."""
    from benchmarks import _data

    monkeypatch.setenv("PARKPLAN_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "bench-cache"))
    monkeypatch.setitem(_data.PRELOADED, 3000, raw_dataset)


def test_web_benchmark_runs_in_chromium_without_errors():
    from benchmarks import bench_web

    try:
        chromium = bench_web.chromium_path()
    except RuntimeError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Debian chromium is not installed (set PARKPLAN_CHROMIUM)")
    assert os.path.exists(chromium)
    rep = bench_web.run("tiny")  # 2 users (a county office, a planner), 1 round, 1 worker, no warm-up
    assert rep.name == "web" and "| --- |" in rep.body
    [run] = rep.data["runs"]
    pages = {p["page"]: p for p in run["pages"]}
    # the county office walks every page of the workspace, the decision and both downloads included
    assert set(pages) == {name for name, _ in bench_web.PAGES}, sorted(pages)
    problems = {name: p["error"] for name, p in pages.items() if p["errors"]}
    assert not problems, problems
    for name, p in pages.items():
        assert p["visits"] >= 1, name
        assert p["server_p50"] is not None and p["server_p50"] > 0, name
    assert pages["home"]["visits"] == 2  # both users, one measured round
    assert pages["decision (submit to next page)"]["dcl_p50"] > 0
    assert pages["decision (submit to saved state shown)"]["dcl_p50"] > 0  # in place: fetch, the card swapped in
    for mode in ("decision (submit to next page)", "decision (submit to saved state shown)"):
        # the reviewer read the candidate's map before deciding: it was drawn every time
        assert pages[mode]["map_read_p50"] is not None and pages[mode]["map_unread"] == 0, pages[mode]
    assert run["server_cpu_s"] > 0
    # the browsers keep their HTTP cache (as users' do): in the measured round, every page's scripts, stylesheet and
    # font chunks (a dozen requests a page without it) come from the cache, not the server
    assert run["asset_fetches"] < run["visits"], (run["asset_fetches"], run["visits"])
    # the limit: a server that does no work, probed from the browsers' side during the measured round
    lim = run["limit"]
    assert lim["errors"] == 0 and set(lim["by_cpu"]) == set(bench_web.CPU_MS), lim
    for cpu, v in lim["by_cpu"].items():
        assert v["answers"] > 0 and v["p95"] >= cpu, (cpu, v)
    assert "**Limit**" in rep.body and "after 30 ms of CPU" in rep.body
