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
    args = parser.parse_args(argv)
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
