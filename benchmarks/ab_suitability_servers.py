"""``POST /suitability`` on several live servers side by side: the same load, interleaved, so that a shared, loaded
machine changes every variant alike.

``python -m benchmarks.ab_suitability_servers [--rounds 4] [--seconds 8] [--clients 32]`` starts one uvicorn worker
(``parkplan serve``'s server, warm-up off: the park context is built by the first requests) per variant over the
benchmark dataset (20,000 enterprises, 200 parks), checks that every variant answers the 4,096 requests of
``benchmarks/bench_api.py`` with the same bytes (CRC-32), then runs the light client (``benchmarks/_loadgen.py``,
pinned to the last core) at ``--clients`` for ``--seconds`` on each variant in turn, ``--rounds`` times, and prints
each run and the medians: server CPU per request (psutil, user+system), p50, p99, requests per second.

Variants (environment of the server): ``served`` (as served), ``thread`` (``PARKPLAN_SUITABILITY_INLINE=0``: the
scoring hops to a thread), ``before`` (also ``PARKPLAN_SUITABILITY_FAST=0``: FastAPI's dependencies and body
validation for every request, and the thread hop: the route as it was before the fast path).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

VARIANTS = {
    "served": {},
    "thread": {"PARKPLAN_SUITABILITY_INLINE": "0"},
    "before": {"PARKPLAN_SUITABILITY_INLINE": "0", "PARKPLAN_SUITABILITY_FAST": "0"},
}
N_ENT = 20_000


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all")
    args = ap.parse_args(argv)

    from . import _loadgen
    from ._data import dataset, free_port, gpkg
    from .bench_api import HOST, Server, _client_cpu, _expects, _light_requests, _token

    data = gpkg(N_ENT)
    ids = dataset(N_ENT).enterprises["enterprise_id"].astype(str).to_numpy()
    pick = np.random.default_rng(0).choice(ids, size=4096)

    def make(i):
        return "POST", "/suitability", {"enterprise_id": str(pick[i % len(pick)]), "top": 5}

    names = args.variant or list(VARIANTS)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'ab.sqlite'}"
        headers = {"Authorization": f"Bearer {_token(db_url)}"}
        servers = {k: Server(data, db_url, free_port(HOST), workers=1, env=VARIANTS[k], warm=False) for k in names}
        try:
            for s in servers.values():
                s.wait()
            requests = _light_requests(make, len(pick), headers)
            expects = None
            for k, s in servers.items():
                e = _expects(s, requests, "crc32")
                if expects is None:
                    expects = e
                elif [x.crc32 for x in e] != [x.crc32 for x in expects]:
                    raise RuntimeError(f"variant {k} answers other bytes than {names[0]}")
            assert expects is not None
            print(f"all {len(names)} variants gave the same {len(requests)} answers (CRC-32)")
            cpu = _client_cpu()
            runs: dict[str, list] = {k: [] for k in servers}
            for _ in range(args.rounds):
                for k, s in servers.items():
                    load = os.getloadavg()[0]
                    c0 = s.cpu_s()
                    res = _loadgen.run(HOST, s.port, requests, expects, concurrency=args.clients, total=10**9,
                                       seconds=args.seconds, cpu=cpu)
                    per = (s.cpu_s() - c0) / res["ok"] * 1e3
                    runs[k].append((per, res["p50_ms"], res["p99_ms"], res["rps"]))
                    print(f"{time.strftime('%H:%M:%S UTC', time.gmtime())} {k:8s} server CPU {per:.3f} ms/request, "
                          f"p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, {res['rps']:.0f} req/s, "
                          f"errors {res['errors'] or 0}, load {load:.1f}", flush=True)
            print(f"\n| variant | server CPU/req | p50 | p99 | req/s |\n| --- | --- | --- | --- | --- |")
            for k, v in runs.items():
                a = np.array(v)
                print(f"| {k} | {np.median(a[:, 0]):.3f} ms | {np.median(a[:, 1]):.1f} ms | {np.median(a[:, 2]):.1f} ms "
                      f"| {np.median(a[:, 3]):.0f} |")
        finally:
            for s in servers.values():
                s.stop()


if __name__ == "__main__":
    main()
