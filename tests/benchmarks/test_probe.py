"""The browser benchmark's limit (``benchmarks/_probe.py``): a bare server answering fixed bytes, and a probe that
asks it at a fixed interval and records each answer's first byte, or an error."""

from __future__ import annotations

import time

import httpx

from benchmarks._data import free_port
from benchmarks._probe import Limit

HOST = "127.0.0.1"


def test_the_probe_asks_at_its_interval_and_records_answers_then_errors():
    body = "<html>登录</html>".encode()
    limit = Limit(body, free_port(HOST), HOST, None, interval_s=0.05)
    try:
        limit.wait()
        assert httpx.get(f"http://{HOST}:{limit.port}/anything").content == body  # the same bytes for every path
        limit.start_probe()
        time.sleep(1.5)
        answers = limit.stop_probe()
        # about 30 in 1.5 s at 0.05 s (the probe's own start-up takes some of it); none failed
        assert 5 <= len(answers["ms"]) <= 32, answers
        assert answers["errors"] == 0
        assert all(0 < ms < 1500 for ms in answers["ms"])
        # a server gone: the probe counts errors, not answers
        limit.server.kill()
        limit.server.wait()
        limit.start_probe()
        time.sleep(1.0)
        gone = limit.stop_probe()
        assert gone["errors"] >= 3 and gone["ms"] == [], gone
    finally:
        limit.close()
