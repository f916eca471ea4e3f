"""The light load generator of ``python -m benchmarks api`` (``benchmarks/_loadgen.py``) against a real uvicorn
server: it completes and verifies correct answers (``Content-Length`` and chunked bodies, POST bodies, keep-alive
and ``Connection: close``), and counts as errors a wrong status, a body cut short, a wrong length, a wrong checksum
and a timeout. The reference answers it fetches are the bytes httpx receives for the same requests."""

from __future__ import annotations

import asyncio
import threading
import time
import zlib

import pytest

from benchmarks import _loadgen
from benchmarks._data import free_port
from benchmarks._loadgen import Expect, Request

HOST = "127.0.0.1"
BODY = bytes(range(256)) * 8  # 2,048 bytes, every byte value
COUNTS: dict[str, int] = {}


def _n(path: str) -> int:
    COUNTS[path] = COUNTS.get(path, 0) + 1
    return COUNTS[path]


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        m = await receive()
        chunks.append(m.get("body", b""))
        if not m.get("more_body"):
            return b"".join(chunks)


async def app(scope, receive, send):
    """A test app: each path answers one way (right, or wrong in a known way)."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = await _read_body(receive)

    async def answer(status: int, data: bytes, length: int | None = None, extra=()):
        headers = [(b"content-type", b"application/octet-stream"), *extra]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    if path == "/ok":
        await answer(200, BODY, len(BODY))
    elif path == "/echo":  # POST: the body reversed
        await answer(200, body[::-1], len(body))
    elif path == "/chunked":  # no Content-Length: uvicorn sends chunked transfer encoding
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(0, len(BODY), 700):
            await send({"type": "http.response.body", "body": BODY[i:i + 700], "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/close":  # a correct answer that closes the connection each time
        await answer(200, BODY, len(BODY), extra=[(b"connection", b"close")])
    elif path == "/flaky":  # every third answer is a 500
        n = _n(path)
        await answer(500 if n % 3 == 0 else 200, BODY, len(BODY))
    elif path == "/vary":  # every second answer has other bytes of the same length
        n = _n(path)
        await answer(200, BODY if n % 2 else BODY[::-1], len(BODY))
    elif path == "/short":  # announces the full length, sends 100 bytes and stops: the body is cut
        await answer(200, BODY[:100], len(BODY))
    elif path == "/slow":
        await asyncio.sleep(2.0)
        await answer(200, BODY, len(BODY))
    else:
        await answer(404, b"not found", 9)


@pytest.fixture(scope="module")
def server():
    """The test app on a real uvicorn server (httptools, uvloop when installed) in a thread of this process."""
    import uvicorn

    port = free_port(HOST)
    srv = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="critical", lifespan="off"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    th.join(10)


def _ok(path: str, body: bytes = BODY) -> Expect:
    return Expect(200, len(body), zlib.crc32(body))


def test_correct_answers_are_completed_and_verified(server):
    reqs = [Request("GET", "/ok"), Request("GET", "/chunked"), Request("POST", "/echo", b"abc" * 50,
                                                                        (("Content-Type", "text/plain"),))]
    exps = [_ok("/ok"), _ok("/chunked"), _ok("/echo", (b"abc" * 50)[::-1])]
    res = _loadgen.closed_loop(HOST, server, reqs, exps, concurrency=4, total=300, seconds=30)
    assert res["errors"] == {} and res["ok"] == 300, res
    assert sum(res["per_client"]) <= 300 and 0 < res["per_client"][0] <= res["per_client"][1], res
    assert 0 < res["p50_ms"] <= res["p99_ms"] and res["rps"] > 0 and res["client_cpu_ms"] > 0


def test_connection_close_answers_reconnect(server):
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/close")], [_ok("/close")], concurrency=2, total=40,
                               seconds=30)
    assert res["errors"] == {} and res["ok"] == 40, res


def test_wrong_status_is_an_error(server):
    COUNTS.pop("/flaky", None)
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/flaky")], [_ok("/flaky")], concurrency=3, total=90,
                               seconds=30)
    assert res["errors"] == {"status 500": 30} and res["ok"] == 60, res


def test_cut_body_is_an_error_and_the_connection_is_reopened(server):
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/short")], [_ok("/short")], concurrency=2, total=20,
                               seconds=30)
    assert res["ok"] == 0 and res["errors"] == {"truncated body": 20}, res


def test_wrong_bytes_are_an_error_by_checksum_and_by_length(server):
    COUNTS.pop("/vary", None)
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/vary")], [_ok("/vary")], concurrency=1, total=40,
                               seconds=30)
    assert res["errors"] == {"body checksum": 20} and res["ok"] == 20, res
    wrong_length = Expect(200, len(BODY) + 1, None)  # length only: checked without a checksum
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/ok")], [wrong_length], concurrency=1, total=5,
                               seconds=30)
    assert res["errors"] == {"body length": 5} and res["ok"] == 0, res


def test_timeout_and_refused_connection_are_errors(server):
    res = _loadgen.closed_loop(HOST, server, [Request("GET", "/slow")], [_ok("/slow")], concurrency=2, total=2,
                               seconds=30, timeout=0.3)
    assert res["errors"] == {"timeout": 2} and res["ok"] == 0, res
    closed_port = free_port(HOST)
    res = _loadgen.closed_loop(HOST, closed_port, [Request("GET", "/ok")], [_ok("/ok")], concurrency=1, total=3,
                               seconds=30)
    assert res["ok"] == 0 and res["errors"] == {"connect: ConnectionRefusedError": 3}, res


def test_reference_is_what_httpx_receives(server):
    import httpx

    reqs = [Request("GET", "/ok"), Request("GET", "/chunked"), Request("POST", "/echo", b"hello"),
            Request("GET", "/nothing")]
    ref = _loadgen.reference(HOST, server, reqs)
    for r, got in zip(reqs, ref):
        h = httpx.request(r.method, f"http://{HOST}:{server}{r.path}", content=r.body or None)
        assert (got["status"], got["length"], got["crc32"], got["error"]) == (
            h.status_code, len(h.content), zlib.crc32(h.content), None)
    assert ref[3]["status"] == 404


def test_child_process_pinned_to_one_core(server):
    import os

    cpu = sorted(os.sched_getaffinity(0))[-1] if hasattr(os, "sched_getaffinity") else None
    COUNTS.pop("/flaky", None)
    res = _loadgen.run(HOST, server, [Request("GET", "/ok"), Request("GET", "/flaky")], [_ok("/ok"), _ok("/flaky")],
                       concurrency=4, total=120, seconds=30, cpu=cpu)
    assert res["pinned_cpu"] == cpu
    assert res["ok"] == 100 and res["errors"] == {"status 500": 20}, res
    assert res["client_cpu_ms"] > 0 and res["p50_ms"] > 0
