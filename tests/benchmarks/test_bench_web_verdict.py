"""How ``python -m benchmarks web`` judges the goal (no server, no browser): every page on its server answer's p95
(the decision's: submit to the next page's first byte), an error counting as a miss; and the placements."""

from __future__ import annotations

import os

import pytest

from benchmarks import bench_web


def _page(name, server_p95, dcl_p95=None, errors=0):
    return {"page": name, "server_p95": server_p95, "dcl_p95": dcl_p95, "errors": errors}


def test_each_page_is_judged_on_its_server_answer():
    # "decisions Excel" is a download (no DOMContentLoaded): judged on its answer like every page
    assert bench_web._page_ok(_page("decisions Excel", 50.0))
    assert not bench_web._page_ok(_page("decisions Excel", 301.0))
    assert bench_web._page_ok(_page("decision (submit to next page)", 120.0, dcl_p95=900.0))
    assert not bench_web._page_ok(_page("decision (submit to next page)", None, dcl_p95=100.0))
    assert not bench_web._page_ok(_page("plan", 20.0, errors=1))


def test_verdict_names_the_pages_that_miss():
    runs = [{"placement": "pinned", "workers": 2,
             "pages": [_page("home", 10.0), _page("plan", 400.0), _page("parks", 20.0, errors=2)]}]
    text = bench_web._verdict(runs)
    assert "pinned, 2 workers: misses on 2 of 3 pages (plan, parks), 2 errors" in text


def test_the_goal_is_judged_pinned_and_shared_is_reported():
    met = [_page("home", 10.0), _page("decision (submit to saved state shown)", 250.0)]
    missed = [_page("home", 10.0), _page("review sheet PDF", 900.0)]
    runs = [{"placement": "shared", "workers": 1, "pages": missed},
            {"placement": "pinned", "workers": 1, "pages": met}, {"placement": "pinned", "workers": 2, "pages": met}]
    text = bench_web._verdict(runs)
    assert "shared cores, 1 worker: misses on 1 of 2 pages (review sheet PDF)" in text
    assert "**The goal is judged pinned**" in text and "met on every page with 1 worker and 2 workers." in text
    runs[2]["pages"] = missed
    assert "not met with 2 workers; met with 1 worker." in bench_web._verdict(runs)
    assert "No pinned run: the goal is not judged" in bench_web._verdict(runs[:1])


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
def test_pinned_placement_puts_server_and_browser_on_different_cores():
    server, client = bench_web._cores("pinned")
    assert len(server) == len(client) == 1 and not server & client
    assert server | client <= os.sched_getaffinity(0)
    assert bench_web._cores("shared") == (None, None)
    with pytest.raises(ValueError, match="accepted: shared, pinned"):
        bench_web._cores("apart")
