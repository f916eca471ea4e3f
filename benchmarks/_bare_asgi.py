"""The limit row of ``python -m benchmarks api``: a bare ASGI app (no FastAPI, no routing, no authentication)
answering every request with the same pre-built bytes (a page of parks the real server served), under the same
uvicorn and the same client: the fastest this stack can answer on this machine.

The body is read once, at start-up, from the file named by ``PARKPLAN_BARE_BODY`` (not at import: the test
suite imports every module for its doctests).

``GET /cpu/N`` (the browser benchmark's limit, :mod:`benchmarks._probe`) first spends ``N`` milliseconds of its
thread's CPU time, then answers the same bytes: what a page that costs ``N`` ms of CPU is answered in, where the
placement gives it a share of a core.
"""

from __future__ import annotations

import os
import time

_ANSWER: dict[str, object] = {}


def _load() -> None:
    with open(os.environ["PARKPLAN_BARE_BODY"], "rb") as f:
        body = f.read()
    _ANSWER["body"] = body
    _ANSWER["headers"] = [(b"content-type", b"application/geo+json"), (b"content-length", str(len(body)).encode())]


def _spend(seconds: float) -> None:
    """Busy until this thread has used ``seconds`` of CPU time (not wall time: a share of a core stretches it)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _load()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if not _ANSWER:  # a server without the lifespan protocol
        _load()
    path = scope.get("path", "")
    if path.startswith("/cpu/"):
        _spend(float(path[5:]) / 1000.0)
    await send({"type": "http.response.start", "status": 200, "headers": _ANSWER["headers"]})
    await send({"type": "http.response.body", "body": _ANSWER["body"]})
