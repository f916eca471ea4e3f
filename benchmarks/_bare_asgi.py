"""The limit row of ``python -m benchmarks api``: a bare ASGI app (no FastAPI, no routing, no authentication)
answering every request with the same pre-built bytes (a page of parks the real server served), under the same
uvicorn and the same client: the fastest this stack can answer on this machine.

The body is read once from the file named by ``PARKPLAN_BARE_BODY``.
"""

from __future__ import annotations

import os

with open(os.environ["PARKPLAN_BARE_BODY"], "rb") as _f:
    BODY = _f.read()
HEADERS = [(b"content-type", b"application/geo+json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
