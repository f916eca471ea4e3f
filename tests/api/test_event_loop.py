"""No blocking call on the event loop (issue 15): handlers that touch the database are plain ``def`` (FastAPI runs
them in its thread pool); a slow login does not stall other requests on a real uvicorn server."""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.web import pages_home

from .conftest import free_port

# async endpoints that do no I/O of their own: name -> why
NON_BLOCKING_ASYNC: dict[str, str] = {
    "suitability": "POST /suitability scores on the event loop only an enterprise given by id once the park context "
                   "is built (no I/O, a few tenths of a ms of CPU); the context's build and typed-in profiles (PROJ "
                   "database on a thread's first transformer) run on the route's scoring threads",
}


def _api_routes(app) -> list[APIRoute]:
    """Every API route of the app, included routers' too (FastAPI keeps an included router as one entry of
    ``app.routes``; ``iter_route_contexts`` walks into them)."""
    return [c.original_route for c in iter_route_contexts(app.router.routes) if isinstance(c.original_route, APIRoute)]


def test_no_route_handler_is_async_unless_known_not_to_block(api):
    routes = _api_routes(api.app)
    paths = {r.path for r in routes}
    assert {"/suitability", "/collections/{collection_id}/items", "/health"} <= paths, sorted(paths)[:20]
    async_routes = sorted(f"{sorted(r.methods)} {r.path}" for r in routes
                          if inspect.iscoroutinefunction(r.endpoint) and r.endpoint.__name__ not in NON_BLOCKING_ASYNC)
    assert async_routes == []
    assert not inspect.iscoroutinefunction(pages_home.login_submit)
    assert not inspect.iscoroutinefunction(pages_home.logout_submit)


@pytest.fixture
def live(api):
    """The module's app on a real uvicorn server in a thread of this process (so a test can slow a function)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_slow_login_does_not_stall_other_requests(api, live, monkeypatch):
    """The login's database write is made to take 1.5 s; /health, asked while it runs, answers at once."""
    import api.deps as deps

    real = deps.start_browser_session

    def slow(*args, **kwargs):
        time.sleep(1.5)  # blocking, as a database write on a busy disk
        return real(*args, **kwargs)

    monkeypatch.setattr(deps, "start_browser_session", slow)

    async def scenario():
        async with httpx.AsyncClient(base_url=live, timeout=30) as client:
            page = await client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            t0 = time.perf_counter()
            login = asyncio.create_task(client.post("/login", data={"csrf_token": csrf, "token": api.tokens["viewer"]}))
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=live, timeout=30) as other:
                health = await other.get("/health")
            health_at = time.perf_counter() - t0
            r = await login
            return health, health_at, r, time.perf_counter() - t0

    health, health_at, r, login_at = asyncio.run(scenario())
    assert r.status_code == 303 and "parkplan_session=" in r.headers["set-cookie"]
    assert health.status_code == 200
    assert login_at >= 1.5 and health_at < 1.2, (health_at, login_at)
