"""The API under load on loopback: ``GET`` a page of parks and ``POST /suitability``.

A uvicorn server (one worker process, the ``parkplan serve`` default) is started on 127.0.0.1 on a free
port over a built-in dataset, with an analyst token created in its own review database. An httpx
async client then sends requests at 1 and at 32 concurrent clients; each scenario is bounded both in
count (``REQUESTS``) and in time (``SECONDS``) and stops by itself. Latency p50/p99 are over the
completed requests, requests per second = completed / wall time. Client and server share the
machine's 2 cores, so these are lower bounds for a server with the machine to itself.

Only loopback is ever addressed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import Report, check_size, table
from ._data import cache_dir, dataset

N_ENT = {"full": 20_000, "quick": 20_000, "tiny": 3_000}
REQUESTS = {"full": (2000, 400), "quick": (400, 100), "tiny": (20, 6)}  # (GET, POST) per scenario
SECONDS = {"full": 60.0, "quick": 20.0, "tiny": 20.0}
CONCURRENCY = {"full": (1, 32), "quick": (1, 32), "tiny": (1, 4)}
HOST = "127.0.0.1"
PAGE = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _gpkg(n: int) -> Path:
    from geodata.dataset import save_dataset

    path = cache_dir() / f"api-{n}.gpkg"
    if not path.exists():
        save_dataset(dataset(n), path)
    return path


def _token(db_url: str) -> str:
    from api.auth import create_token
    from api.db import init_db, make_engine, session_factory

    engine = make_engine(db_url)
    init_db(engine)
    with session_factory(engine)() as db:
        raw, _ = create_token(db, "analyst", label="benchmark")
        db.commit()
    engine.dispose()
    return raw


class Server:
    """``uvicorn api.app:create_app --factory`` on loopback, started and stopped by this process."""

    def __init__(self, data: Path, db_url: str, port: int):
        self.port = port
        env = dict(os.environ, PARKPLAN_DATA=str(data), PARKPLAN_DB_URL=db_url)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", HOST, "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(Path(__file__).resolve().parent.parent),
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"API server exited ({self.proc.returncode}): {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"API server did not answer /health within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def _load(url: str, headers: dict, make_request, concurrency: int, total: int, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    issued = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60.0, limits=limits) as client:
        async def worker():
            nonlocal issued
            while issued < total and time.perf_counter() < deadline:
                i = issued
                issued += 1
                method, path, body = make_request(i)
                t = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body)
                    code = r.status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                dt = time.perf_counter() - t
                if code == 200:
                    latencies.append(dt)
                else:
                    errors[code] = errors.get(code, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    lat = np.array(latencies)
    return {
        "concurrency": concurrency, "ok": len(lat), "errors": errors, "wall_s": wall,
        "p50_ms": float(np.percentile(lat, 50) * 1e3) if len(lat) else None,
        "p99_ms": float(np.percentile(lat, 99) * 1e3) if len(lat) else None,
        "rps": len(lat) / wall if wall > 0 else None,
    }


def run(size: str = "full") -> Report:
    check_size(size)
    n = N_ENT[size]
    data = _gpkg(n)
    ids = dataset(n).enterprises["enterprise_id"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    pick = rng.choice(ids, size=4096)
    n_parks = 200
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        token = _token(db_url)
        headers = {"Authorization": f"Bearer {token}"}
        server = Server(data, db_url, _free_port())
        try:
            t = time.perf_counter()
            server.wait()
            startup = time.perf_counter() - t
            scenarios = {
                f"GET /collections/parks/items?limit={PAGE}&offset=...":
                    lambda i: ("GET", f"/collections/parks/items?limit={PAGE}&offset={(i * PAGE) % n_parks}", None),
                "POST /suitability (enterprise id, top 5)":
                    lambda i: ("POST", "/suitability", {"enterprise_id": str(pick[i % len(pick)]), "top": 5}),
            }
            # warm up: first suitability call builds the park context
            warm = asyncio.run(_load(server.url, headers, scenarios["POST /suitability (enterprise id, top 5)"], 1, 2, 120))
            results = []
            for (label, make), total in zip(scenarios.items(), REQUESTS[size]):
                for c in CONCURRENCY[size]:
                    res = asyncio.run(_load(server.url, headers, make, c, total, SECONDS[size]))
                    res["label"] = label
                    results.append(res)
        finally:
            server.stop()
    rows = [[r["label"], r["concurrency"], f"{r['ok']:,}", _ms(r["p50_ms"]), _ms(r["p99_ms"]),
             f"{r['rps']:,.1f}" if r["rps"] else "n/a",
             ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"] for r in results]
    body = (
        f"uvicorn, one worker, on {HOST} over the built-in dataset ({n:,} enterprises, {n_parks} parks), "
        f"analyst bearer token, httpx async clients on the same machine. Each scenario stops after "
        f"{REQUESTS[size][0]:,} GET / {REQUESTS[size][1]:,} POST requests or {SECONDS[size]:.0f} s, whichever "
        f"comes first. Server start (load + join the dataset) took {startup:.1f} s; the first "
        f"`POST /suitability` (builds the park context) {_ms(warm['p99_ms'])}.\n\n"
        + table(["request", "clients", "completed", "p50", "p99", "req/s", "errors"], rows)
    )
    return Report("api", "API under load on loopback", body, {"n": n, "startup_s": startup, "results": results,
                                                               "warmup": warm})


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} ms"
