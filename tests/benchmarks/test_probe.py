"""The browser benchmark's limit (``benchmarks/_probe.py``): a bare server answering fixed bytes, at once or after
spending a fixed CPU time, and a probe that asks it at a fixed interval, each kind in turn, and records each
answer's first byte, or an error."""

from __future__ import annotations

import time

import httpx

from benchmarks._data import free_port
from benchmarks._probe import Limit

HOST = "127.0.0.1"


def test_the_probe_asks_each_kind_in_turn_and_records_answers_then_errors():
    body = "<html>登录</html>".encode()
    limit = Limit(body, free_port(HOST), HOST, None, interval_s=0.05, cpu_ms=(0, 40))
    try:
        limit.wait()
        assert httpx.get(f"http://{HOST}:{limit.port}/anything").content == body  # the same bytes for every path
        assert httpx.get(f"http://{HOST}:{limit.port}/cpu/5").content == body
        limit.start_probe()
        time.sleep(2.0)
        answers = limit.stop_probe()
        at_once, spent = answers["ms"][0], answers["ms"][40]
        # about 40 in 2 s at 0.05 s (the probe's own start-up and the 40 ms answers take some of it), in turn
        assert 5 <= len(at_once) <= 21 and abs(len(at_once) - len(spent)) <= 1, answers
        assert answers["errors"] == 0
        assert all(0 < ms < 2000 for ms in at_once)
        # an answer after 40 ms of the server's CPU time takes at least 40 ms
        assert min(spent) >= 40.0, spent
        # a server gone: the probe counts errors, not answers
        limit.server.proc.kill()
        limit.server.proc.wait()
        limit.start_probe()
        time.sleep(1.0)
        gone = limit.stop_probe()
        assert gone["errors"] >= 3 and gone["ms"] == {0: [], 40: []}, gone
    finally:
        limit.close()
