"""Where the server's CPU goes in one ``POST /suitability`` by enterprise id, part by part, before and after.

``python -m benchmarks.profile_suitability_request [--n 300] [--rounds 5] [--profile]`` builds the app over the
benchmark dataset (20,000 enterprises, 200 parks) with an analyst token, as ``profile_api_request`` does, and
measures the process CPU per request (median of ``rounds`` interleaved rounds of ``n`` requests, distinct
enterprise ids) of:

* the route as served (ASGI call: middleware, routing, the token from the cache, body parsing and validation, the
  thread-pool hop, scoring, encoding);
* the route as it was before issue 15's last step (the state through the ``StateDep`` dependency, which FastAPI
  runs in the thread pool: a second hop; the document through ``SuitabilityResult.to_dict`` and orjson), mounted
  beside it on the same app;
* the framework's share: a route with the same parameters and dependencies answering a constant;
* in this thread, without the app: ``score_enterprise`` alone, ``to_dict`` + orjson (before), ``result_bytes``
  (after).

``--transformer`` runs the older before/after instead (docs/performance.md): ``score_enterprise`` on fresh threads,
with and without the context's ``lon``/``lat`` columns (without them a pyproj transformer is built per thread).
``--profile`` prints cProfile's top functions of ``n`` requests of the route as served (the thread-pool hop
replaced by a direct call, so cProfile sees the handler).

``--server`` measures the whole server instead: a real uvicorn worker (``parkplan serve``'s server, warm-up off
unless ``--warm``: the suitability context is built by the first requests) under the light client
(``benchmarks/_loadgen.py``, its own process pinned to the last core) at ``--clients`` (32) for ``--seconds``:
the server's CPU per request (psutil) and p50/p99, then the same load with py-spy attached (``--gil``: only the
thread holding the interpreter lock is sampled, so the samples split the server's Python CPU), each sample given
to the first part its stack meets from the innermost frame out (scoring, the answer's bytes, body validation,
FastAPI's dependencies, authentication, the thread hop, routing, middleware, uvicorn's HTTP, the event loop...).
``--general`` runs the server with the fast path switched off (``PARKPLAN_SUITABILITY_FAST=0``: every request
through FastAPI's dependencies, as before the fast path). py-spy is not a dependency: ``pip install py-spy``.
"""

import argparse  # no ``from __future__ import annotations``: the mounted routes' annotations are read by FastAPI
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

N_ENT = 20_000


def _transformer_before_after() -> None:
    import dataclasses
    import threading

    from parks.joins import prepare
    from parks.suitability import context_from_dataset, score_enterprise

    from ._data import dataset

    ctx = context_from_dataset(prepare(dataset(N_ENT)))
    ids = list(ctx.enterprises.index[:50])
    old = dataclasses.replace(ctx, enterprises=ctx.enterprises.drop(columns=["lon", "lat"]))

    def one(c, eid, out):
        t = time.perf_counter()
        score_enterprise(c, eid, top=5)
        out.append(time.perf_counter() - t)

    for name, c in (("before (no lon/lat in the context; transformer per new thread)", old),
                    ("after (lon/lat in the context)", ctx)):
        times: list[float] = []
        for eid in ids:  # each request on a fresh thread, as the thread pool's threads come and go
            th = threading.Thread(target=one, args=(c, eid, times))
            th.start()
            th.join()
        print(f"## {name}: median {np.median(times) * 1e3:.2f} ms per request, "
              f"p90 {np.percentile(times, 90) * 1e3:.2f} ms ({len(ids)} requests)")


# (part, substrings of a py-spy frame "function (file:line)"), tried from the innermost frame out; first match wins
_PARTS = [
    ("gc (garbage collector)", ("(garbage collection)", "gc_collect")),
    ("scoring: score_enterprise", ("score_enterprise (",)),
    ("answer bytes: result_bytes", ("result_bytes (",)),
    ("fast path: parse + validate body", ("model_validate (", "json/__init__.py", "json/decoder.py")),
    ("fast path: token from the cache", ("cached_principal (",)),
    ("FastAPI: dependencies, body validation, auth", ("solve_dependencies", "request_body_to_args",
                                                     "_authenticate (", "current_user (", "fastapi/dependencies")),
    ("thread hop (anyio to_thread, worker threads)", ("to_thread", "anyio/_backends", "threading.py",
                                                      "concurrent/futures", "queue.py")),
    ("scoring other (suitability route)", ("api/routes/suitability.py",)),
    ("routing, request/response objects (Starlette, FastAPI)", ("starlette/", "fastapi/")),
    ("middleware (api/app.py, api/problems.py)", ("api/app.py", "api/problems.py")),
    ("uvicorn HTTP (httptools protocol)", ("uvicorn/",)),
    ("event loop (asyncio/uvloop)", ("asyncio/", "uvloop", "selectors.py")),
]


def _split(raw: str) -> list[tuple[str, int]]:
    """py-spy's raw (collapsed) stacks -> samples per part (see ``_PARTS``)."""
    counts: dict[str, int] = {}
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        part = "other"
        for frame in reversed(frames):
            hit = next((name for name, keys in _PARTS if any(k in frame for k in keys)), None)
            if hit is not None:
                part = hit
                break
        counts[part] = counts.get(part, 0) + int(n)
    return sorted(counts.items(), key=lambda kv: -kv[1])


def _server_profile(args) -> None:
    import os
    import shutil
    import subprocess
    import sys

    from . import _loadgen
    from ._data import dataset, free_port, gpkg
    from .bench_api import HOST, Server, _client_cpu, _expects, _light_requests, _token

    data = gpkg(N_ENT)
    ids = dataset(N_ENT).enterprises["enterprise_id"].astype(str).to_numpy()
    pick = np.random.default_rng(0).choice(ids, size=4096)  # as benchmarks/bench_api.py asks

    def make(i):
        return "POST", "/suitability", {"enterprise_id": str(pick[i % len(pick)]), "top": 5}

    env = {"PARKPLAN_SUITABILITY_FAST": "0"} if args.general else {}
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'profile.sqlite'}"
        headers = {"Authorization": f"Bearer {_token(db_url)}"}
        server = Server(data, db_url, free_port(HOST), workers=1, env=env, warm=args.warm)
        try:
            server.wait()
            if args.warm:
                server.wait_idle()
            requests = _light_requests(make, len(pick), headers)
            expects = _expects(server, requests, "crc32")  # every id scored once: warm
            cpu = _client_cpu()
            started = time.strftime("%H:%M:%S UTC", time.gmtime())
            load = os.getloadavg()[0]
            c0 = server.cpu_s()
            res = _loadgen.run(HOST, server.port, requests, expects, concurrency=args.clients, total=10**9,
                               seconds=args.seconds, cpu=cpu)
            per = (server.cpu_s() - c0) / res["ok"] * 1e3
            print(f"## server {'general path only' if args.general else 'as served'}, {args.clients} clients, "
                  f"{args.seconds:g} s from {started} (load average {load:.1f}): {res['ok']} requests, "
                  f"{res['errors'] or 'no'} errors, p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, "
                  f"{res['rps']:.0f} req/s, server CPU {per:.3f} ms per request")
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            if not Path(spy).exists():
                print("(py-spy not installed: no split)")
                return
            out = Path(tmp) / "spy.txt"
            rec = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--rate", "250", "--gil",
                                    "--nonblocking", "--format", "raw", "--output", str(out),
                                    "--duration", str(int(args.seconds) + 1)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            c0 = server.cpu_s()
            res = _loadgen.run(HOST, server.port, requests, expects, concurrency=args.clients, total=10**9,
                               seconds=args.seconds, cpu=cpu)
            per = (server.cpu_s() - c0) / res["ok"] * 1e3
            rec.wait(60)
            if not out.exists():
                print(f"(py-spy failed: {rec.stderr.read().decode()[-500:] if rec.stderr else ''})")
                return
            if args.raw:
                shutil.copy(out, args.raw)
            parts = _split(out.read_text())
            total = sum(n for _, n in parts)
            print(f"\n## where the server's CPU goes (py-spy --gil, {total} samples under the same load; "
                  f"{res['ok']} requests at {per:.3f} ms CPU each, p50 {res['p50_ms']:.1f} ms)\n")
            print("| part | share | ms per request |\n| --- | --- | --- |")
            for name, n in parts:
                print(f"| {name} | {n / total:.1%} | {per * n / total:.3f} |")
        finally:
            server.stop()


def _mount_variants(app) -> None:
    """The route as it was before, and a constant answer with the route's parameters, beside the real route."""
    import orjson
    from fastapi import Request
    from fastapi.responses import Response

    from api.deps import AnalystUser, StateDep
    from api.routes.suitability import SuitabilityIn, _weights
    from geodata.jsonable import json_default
    from parks.suitability import score_enterprise

    constant = b'{"ranked": []}'

    def before(state: StateDep, body: SuitabilityIn, _user: AnalystUser) -> Response:
        ctx = state.suitability_context()
        res = score_enterprise(ctx, body.target(), _weights(body.weights), body.constraint_mapping(), top=body.top)
        return Response(orjson.dumps(res.to_dict(), default=json_default, option=orjson.OPT_SERIALIZE_NUMPY),
                        media_type="application/json")

    def framework(request: Request, body: SuitabilityIn, _user: AnalystUser) -> Response:
        return Response(constant, media_type="application/json")

    app.router.add_api_route("/_profile/before", before, methods=["POST"], response_class=Response)
    app.router.add_api_route("/_profile/framework", framework, methods=["POST"], response_class=Response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="requests per round and part")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of the route")
    parser.add_argument("--transformer", action="store_true", help="the older before/after (pyproj per thread)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--server", action="store_true", help="the whole server under load, split by py-spy")
    parser.add_argument("--general", action="store_true", help="--server: the fast path off (as before)")
    parser.add_argument("--warm", action="store_true", help="--server: the start-up warm-up on, awaited")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--raw", type=Path, help="--server: keep py-spy's raw stacks in this file")
    args = parser.parse_args(argv)
    if args.server:
        _server_profile(args)
        return
    if args.transformer:
        _transformer_before_after()
        return

    import orjson

    from api.app import create_app
    from api.routes.suitability import result_bytes
    from api.settings import Settings
    from geodata.jsonable import json_default
    from parks.suitability import score_enterprise

    from ._data import dataset, gpkg
    from .bench_api import _token
    from .profile_api_request import _call, _inline_threadpool

    data = gpkg(N_ENT)
    ids = dataset(N_ENT).enterprises["enterprise_id"].astype(str).to_numpy()
    pick = np.random.default_rng(0).choice(ids, size=args.n, replace=False)
    bodies = [json.dumps({"enterprise_id": str(e), "top": 5}).encode() for e in pick]
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'profile.sqlite'}"
        token = _token(db_url)
        app = create_app(data, db_url, settings=Settings.from_env(warm=False))
        _mount_variants(app)
        headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"127.0.0.1:8000"),
                   (b"content-type", b"application/json")]
        ctx = app.state.parkplan.suitability_context()
        results = {str(e): score_enterprise(ctx, str(e), top=5) for e in pick}

        def asgi(path):
            async def go():
                for body in bodies:
                    status, out = await _call(app, "POST", path, "", headers, body)
                    if status != 200:
                        raise RuntimeError(f"POST {path}: {status} {out[:300]!r}")
            return lambda: asyncio.run(go())

        parts = {
            "route as served (after)": asgi("/suitability"),
            "route as before (StateDep hop, to_dict)": asgi("/_profile/before"),
            "framework: same parameters, constant answer": asgi("/_profile/framework"),
            "score_enterprise alone": lambda: [score_enterprise(ctx, str(e), top=5) for e in pick],
            "to_dict + orjson (before)": lambda: [orjson.dumps(r.to_dict(), default=json_default,
                                                               option=orjson.OPT_SERIALIZE_NUMPY)
                                                  for r in results.values()],
            "result_bytes (after)": lambda: [result_bytes(r) for r in results.values()],
        }
        same = all(result_bytes(r) == orjson.dumps(r.to_dict(), default=json_default,
                                                   option=orjson.OPT_SERIALIZE_NUMPY) for r in results.values())
        for f in parts.values():  # warm: caches, token, first calls
            f()
        cpu: dict[str, list[float]] = {k: [] for k in parts}
        for _ in range(args.rounds):
            for label, f in parts.items():
                c0 = time.process_time()
                f()
                cpu[label].append((time.process_time() - c0) / len(pick) * 1e3)
        print(f"{'part (CPU ms per request, median of ' + str(args.rounds) + ' rounds)':56s} {'median':>8s} "
              f"{'min':>8s}")
        for label, v in cpu.items():
            print(f"{label:56s} {statistics.median(v):8.3f} {min(v):8.3f}")
        print(f"result_bytes == orjson(to_dict) for all {len(results)} documents: {same}")
        if args.profile:
            _inline_threadpool()
            prof = cProfile.Profile()
            prof.enable()
            parts["route as served (after)"]()
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
            print(f"\n## POST /suitability: cProfile, {len(pick)} requests, cumulative\n")
            print("\n".join(line for line in buf.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
