"""The server's own CPU per request of the API's hot paths, measured in process (no HTTP client, no sockets).

``python -m benchmarks.profile_api_request [--n 400] [--profile]`` builds the app (``api.app.create_app``)
over the benchmark dataset (20,000 enterprises, 200 parks: the one ``python -m benchmarks api`` serves) with
an analyst token in a temporary review database, then calls the ASGI app directly, one request after the
other, for each path:

* ``GET /collections/parks/items?limit=50&offset=...`` (the pages the load benchmark asks for),
* ``POST /suitability`` with an enterprise id and ``top=5``,

and prints the process CPU time and wall time per request (medians of 3 rounds of ``n`` requests). The
request path is the real one: routing, dependencies (the token lookup), the handler in the thread pool,
serialisation. What uvicorn adds (HTTP parsing on a socket) is not here; ``python -m benchmarks api``
measures that under load.

``--profile`` also prints cProfile's top functions (cumulative) of ``n`` requests of each path. cProfile
sees only the thread it runs in, so for the profile the thread pool hop is replaced by a direct call (for
the profile only, never for the timings).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ._data import gpkg
from .bench_api import PAGE, _token

N_ENT = 20_000


async def _call(app, method: str, path: str, query: str, headers: list, body: bytes = b"") -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    done = False
    status = 0
    chunks: list[bytes] = []

    async def receive():
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never: no client disconnects here

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _requests(ids: np.ndarray, n_parks: int):
    import json

    def page(i):
        return "GET", "/collections/parks/items", f"limit={PAGE}&offset={(i * PAGE) % n_parks}", b""

    def suit(i):
        return "POST", "/suitability", "", json.dumps({"enterprise_id": str(ids[i % len(ids)]), "top": 5}).encode()

    return {"GET /collections/parks/items (50)": page, "POST /suitability (id, top 5)": suit}


async def _round(app, make, headers, n: int) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(n):
        method, path, query, body = make(i)
        h = headers + ([(b"content-type", b"application/json")] if body else [])
        status, out = await _call(app, method, path, query, h, body)
        if status != 200:
            raise RuntimeError(f"{method} {path}?{query}: {status} {out[:300]!r}")
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


def _inline_threadpool() -> None:
    """For cProfile only: run sync handlers and dependencies in the event loop's thread."""
    import fastapi.dependencies.utils as deps_utils
    import fastapi.routing as routing
    from contextlib import asynccontextmanager

    async def run_inline(func, *args, **kwargs):
        return func(*args, **kwargs)

    @asynccontextmanager
    async def cm_inline(cm):
        with cm as value:
            yield value

    routing.run_in_threadpool = run_inline
    deps_utils.run_in_threadpool = run_inline
    if hasattr(deps_utils, "contextmanager_in_threadpool"):
        deps_utils.contextmanager_in_threadpool = cm_inline


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="requests per round and path")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions per path")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from api.app import create_app
    from api.settings import Settings

    from ._data import dataset

    data = gpkg(N_ENT)
    ids = dataset(N_ENT).enterprises["enterprise_id"].astype(str).to_numpy()
    pick = np.random.default_rng(0).choice(ids, size=4096)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'profile.sqlite'}"
        token = _token(db_url)
        app = create_app(data, db_url, settings=Settings.from_env(warm=False))
        n_parks = len(app.state.parkplan.dataset.parks)
        headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"127.0.0.1:8000")]
        paths = _requests(pick, n_parks)

        async def measure():
            for make in paths.values():  # first calls build the contexts and caches
                await _round(app, make, headers, 8)
            out = {}
            for label, make in paths.items():
                rounds = [await _round(app, make, headers, args.n) for _ in range(3)]
                out[label] = (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))
            return out

        results = asyncio.run(measure())
        print(f"{'path':40s} {'CPU ms/request':>15s} {'wall ms/request':>16s}")
        for label, (cpu, wall) in results.items():
            print(f"{label:40s} {cpu * 1e3:15.3f} {wall * 1e3:16.3f}")
        if args.profile:
            _inline_threadpool()
            for label, make in paths.items():
                prof = cProfile.Profile()

                async def profiled(make=make):
                    prof.enable()
                    await _round(app, make, headers, args.n)
                    prof.disable()

                asyncio.run(profiled())
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
                print(f"\n## {label}: cProfile, {args.n} requests, cumulative\n")
                print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:20000])


if __name__ == "__main__":
    main()
