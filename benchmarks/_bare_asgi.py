"""The limit row of ``python -m benchmarks api``: a bare ASGI app (no FastAPI, no routing, no authentication)
answering every request with the same pre-built bytes (a page of parks the real server served), under the same
uvicorn and the same client: the fastest this stack can answer on this machine.

The body is read once, at start-up, from the file named by ``PARKPLAN_BARE_BODY`` (not at import: the test
suite imports every module for its doctests).
"""

from __future__ import annotations

import os

_ANSWER: dict[str, object] = {}


def _load() -> None:
    with open(os.environ["PARKPLAN_BARE_BODY"], "rb") as f:
        body = f.read()
    _ANSWER["body"] = body
    _ANSWER["headers"] = [(b"content-type", b"application/geo+json"), (b"content-length", str(len(body)).encode())]


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
    await send({"type": "http.response.start", "status": 200, "headers": _ANSWER["headers"]})
    await send({"type": "http.response.body", "body": _ANSWER["body"]})
