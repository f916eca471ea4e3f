"""The API under load on loopback: ``GET`` a page of parks and ``POST /suitability``.

A uvicorn server (one worker process, the ``parkplan serve`` default; then 2 workers, as ``parkplan serve
--workers 2``) is started on 127.0.0.1 on a free port over a built-in dataset, with an analyst token created in
its own review database. An httpx async client then sends requests (the rows labelled ``httpx``):

* closed loop at 1 and 32 concurrent clients; each scenario is bounded both in count (``REQUESTS``) and in time
  (``SECONDS``) and stops by itself;
* open loop: 32 users, each sending one request every 0.5 s on average (Poisson arrivals, 64 requests/s
  offered), latency counted from the scheduled send time;
* the **limit**: a bare ASGI app (``benchmarks/_bare_asgi.py``, no FastAPI) answering the same pre-built page bytes
  under the same uvicorn and client: the fastest this stack answers on this machine;
* the same closed loops (1 and 32 clients, each server, the limit too) with the **light client**
  (``benchmarks/_loadgen.py``: raw asyncio/uvloop HTTP/1.1 keep-alive connections, request bytes built beforehand,
  httptools parsing, in its own process pinned to the last CPU core), whose CPU per request is a small fraction of
  the server's, so the server, not the client, sets the rate. Every answer is checked against a reference answer
  of the same request fetched before the run: the status, and the body's CRC-32 (``POST /suitability``: the same
  enterprise always gets the same document) or its length (pages carry a ``timeStamp`` of fixed width). A wrong
  status, a cut or wrong body is an error in the table.

Latency p50/p99 are over the completed requests, requests per second = completed / wall time, server CPU per
request = the server processes' user+system CPU (psutil) over the scenario / completed requests, client CPU per
request = the client process's own CPU time over the scenario / completed requests. Client and server share the
machine's 2 cores, so these are lower bounds for a server with the machine to itself.

Only loopback is ever addressed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import Report, check_size, table
from . import _loadgen
from ._data import dataset, free_port, gpkg, wait_idle

N_ENT = {"full": 20_000, "quick": 20_000, "tiny": 3_000}
REQUESTS = {"full": (2000, 400), "quick": (400, 100), "tiny": (20, 6)}  # (GET, POST) per scenario
SECONDS = {"full": 60.0, "quick": 20.0, "tiny": 20.0}
CONCURRENCY = {"full": (1, 32), "quick": (1, 32), "tiny": (1, 4)}
LIGHT_REQUESTS = {"full": (10_000, 4000), "quick": (2000, 800), "tiny": (20, 6)}  # light client: (GET, POST)
WORKERS = {"full": (1, 2), "quick": (1, 2), "tiny": (1,)}
OPEN_INTERVAL_S = 0.5  # each open-loop user sends one request per 0.5 s on average (32 users: 64 requests/s)
OPEN_SECONDS = {"full": 30.0, "quick": 10.0, "tiny": 3.0}
HOST = "127.0.0.1"
PAGE = 50


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
    """``uvicorn api.app:create_app --factory [--workers N]`` on loopback (or ``app`` given as ``module:attr``, for the
    bare limit app), started and stopped by this process; ``cpu_s()`` is the CPU time of the server's processes."""

    def __init__(self, data: Path | None, db_url: str | None, port: int, workers: int = 1,
                 app: str = "api.app:create_app", env: dict | None = None, warm: bool = True,
                 cores: set[int] | None = None):
        """``cores``: the CPU cores the server's processes may use (all when None)."""
        self.port = port
        self.workers = workers
        env = dict(os.environ, **(env or {}))
        if data is not None:
            # as ``parkplan serve`` runs it: the start-up warm-up on (its last step freezes the long-lived objects
            # out of the garbage collector's walk), awaited by :meth:`wait_idle` before anything is measured. One
            # difference: no access log (``parkplan serve`` writes a line per request at log level info, about
            # 11 us of CPU each, measured writing to /dev/null), so the log file does not grow by millions of lines
            env.update(PARKPLAN_DATA=str(data), PARKPLAN_DB_URL=db_url or "", PARKPLAN_WARM="1" if warm else "0")
        self.log = tempfile.TemporaryFile()
        factory = ["--factory"] if app == "api.app:create_app" else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, *factory, "--host", HOST, "--port", str(port),
             "--log-level", "warning", "--no-access-log", "--workers", str(workers),
             "--timeout-worker-healthcheck", "120"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(Path(__file__).resolve().parent.parent),
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait(self, timeout: float = 300.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"API server exited ({self.proc.returncode}): {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2.0).status_code == 200 and \
                        len(self._procs()) >= self.workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"API server did not answer /health within {timeout:.0f} s")

    def wait_idle(self, timeout: float = 900.0) -> float:
        """Seconds until the server's processes are idle (the background warm-up done)."""
        waited = wait_idle(self.cpu_s, timeout)
        if waited is None:
            raise RuntimeError(f"API server still busy after {timeout:.0f} s (its warm-up)")
        return waited

    def _procs(self) -> list:
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            kids = root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [root, *kids] if self.workers == 1 else kids  # with workers, the parent only supervises

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process(es) so far (the supervisor included)."""
        import psutil

        total = 0.0
        try:
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _summary(latencies: list[float], errors: dict, wall: float) -> dict:
    lat = np.array(latencies)
    return {
        "ok": len(lat), "errors": errors, "wall_s": wall,
        "p50_ms": float(np.percentile(lat, 50) * 1e3) if len(lat) else None,
        "p99_ms": float(np.percentile(lat, 99) * 1e3) if len(lat) else None,
        "rps": len(lat) / wall if wall > 0 else None,
    }


async def _load(url: str, headers: dict, make_request, concurrency: int, total: int, seconds: float) -> dict:
    """Closed loop: ``concurrency`` clients, each sending its next request when the last one is answered."""
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
                    code: int | str = r.status_code
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
    return {"concurrency": concurrency, **_summary(latencies, errors, wall)}


async def _open_load(url: str, headers: dict, make_request, users: int, interval_s: float, seconds: float,
                     seed: int = 0) -> dict:
    """Open loop: ``users`` users, each sending a request at Poisson times (mean gap ``interval_s``) whether or not
    its last one was answered, for ``seconds``. Latency counts from the scheduled send time (a request delayed by
    the client's own backlog is not forgiven), so a server slower than the offered rate shows growing latency."""
    import httpx

    rng = np.random.default_rng(seed)
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    limits = httpx.Limits(max_connections=4 * users, max_keepalive_connections=4 * users)
    counter = 0

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60.0, limits=limits) as client:
        async def one(scheduled: float, i: int):
            method, path, body = make_request(i)
            try:
                r = await client.request(method, path, json=body)
                code: int | str = r.status_code
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            if code == 200:
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors[code] = errors.get(code, 0) + 1

        async def user(times: np.ndarray):
            nonlocal counter
            tasks = []
            for at in times:
                delay = t0 + at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                counter += 1
                tasks.append(asyncio.create_task(one(t0 + at, counter)))
            await asyncio.gather(*tasks)

        schedules = []
        for _ in range(users):
            gaps = rng.exponential(interval_s, size=int(seconds / interval_s * 3) + 10)
            at = np.cumsum(gaps)
            schedules.append(at[at < seconds])
        t0 = time.perf_counter()
        await asyncio.gather(*(user(s) for s in schedules))
        wall = time.perf_counter() - t0
    offered = sum(len(s) for s in schedules)
    return {"concurrency": users, "offered": offered, "offered_rps": offered / seconds,
            **_summary(latencies, errors, wall)}


def _measure(server: Server, coro) -> dict:
    """Run a scenario; add the server's and this client's CPU per completed request (the client shares the cores:
    where its CPU per request is well above the server's, the client, not the server, sets the rate)."""
    cpu0, client0 = server.cpu_s(), time.process_time()
    res = asyncio.run(coro)
    ok = res["ok"]
    res["server_cpu_ms"] = (server.cpu_s() - cpu0) / ok * 1e3 if ok else None
    res["client_cpu_ms"] = (time.process_time() - client0) / ok * 1e3 if ok else None
    return res


def _totals(counts: tuple[int, int], scenarios: dict) -> list[int]:
    """Each scenario's request count: ``counts`` is (GET, POST); a scenario's method is that of its first request."""
    return [counts[0] if make(0)[0] == "GET" else counts[1] for make, _, _ in scenarios.values()]


def _scenarios(server_label: str, server: Server, headers: dict, scenarios: dict, size: str) -> list[dict]:
    """The httpx rows: closed loop at each concurrency, then the open loop, for each scenario."""
    out = []
    for (label, (make, _, _)), total in zip(scenarios.items(), _totals(REQUESTS[size], scenarios)):
        for c in CONCURRENCY[size]:
            res = _measure(server, _load(server.url, headers, make, c, total, SECONDS[size]))
            out.append({**res, "label": label, "server": server_label, "client": "httpx",
                        "load": f"closed, {c} clients"})
        users = CONCURRENCY[size][-1]
        res = _measure(server, _open_load(server.url, headers, make, users, OPEN_INTERVAL_S, OPEN_SECONDS[size]))
        out.append({**res, "label": label, "server": server_label, "client": "httpx",
                    "load": f"open, {users} users x 1 per {OPEN_INTERVAL_S:g} s (Poisson, {res['offered_rps']:.0f}/s)"})
    return out


def _client_cpu() -> int | None:
    """The CPU core the light client is pinned to (the last one this process may use), or None (no pinning)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return cpus[-1] if len(cpus) > 1 else None


def _light_requests(make, n: int, headers: dict) -> list[_loadgen.Request]:
    """The first ``n`` requests of a scenario as raw requests for the light client (``i % n`` repeats them)."""
    import json

    out = []
    for i in range(n):
        method, path, body = make(i)
        h = tuple(headers.items())
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            h += (("Content-Type", "application/json"),)
        out.append(_loadgen.Request(method, path, data, h))
    return out


def _expects(server: Server, requests: list[_loadgen.Request], check: str) -> list[_loadgen.Expect]:
    """Each request's reference answer, fetched once from ``server`` (one request after the other): status 200 and
    the body's CRC-32 (``check="crc32"``) or only its length (``"length"``)."""
    ref = _loadgen.reference(HOST, server.port, requests)
    bad = [(r.method, r.path, a) for r, a in zip(requests, ref) if a["error"] or a["status"] != 200]
    if bad:
        raise RuntimeError(f"reference answers are not 200 ({len(bad)} of {len(requests)}), first: {bad[0]}")
    return [_loadgen.Expect(200, a["length"], a["crc32"] if check == "crc32" else None) for a in ref]


def _light_scenarios(server_label: str, server: Server, headers: dict, scenarios: dict, size: str,
                     references: dict) -> list[dict]:
    """The light client's closed loops (``benchmarks/_loadgen.py`` in its own process, pinned to one core) at each
    concurrency; every answer checked against the scenario's reference answers (fetched from the first server that
    runs the scenario, so a later server must answer byte for byte as it did where a checksum is checked)."""
    out = []
    cpu = _client_cpu()
    for (label, (make, period, check)), total in zip(scenarios.items(), _totals(LIGHT_REQUESTS[size], scenarios)):
        requests = _light_requests(make, min(period, total), headers)
        if label not in references:
            references[label] = _expects(server, requests, check)
        for c in CONCURRENCY[size]:
            cpu0 = server.cpu_s()
            res = _loadgen.run(HOST, server.port, requests, references[label], concurrency=c, total=total,
                               seconds=SECONDS[size], cpu=cpu)
            ok = res["ok"]
            res["server_cpu_ms"] = (server.cpu_s() - cpu0) / ok * 1e3 if ok else None
            pinned = f", pinned to CPU {cpu}" if cpu is not None else ""
            lo, hi = res["per_client"]
            spread = f" (each {lo:,}-{hi:,})" if c > 1 else ""
            out.append({**res, "label": label, "server": server_label, "client": f"light ({check} checked{pinned})",
                        "load": f"closed, {c} clients{spread}"})
    return out


def run(size: str = "full", only: str | None = None, workers: tuple[int, ...] | None = None,
        clients: tuple[str, ...] = ("httpx", "light"), limit: bool = True) -> Report:
    """The benchmark; ``only`` (``"page"`` or ``"suitability"``), ``workers`` (e.g. ``(1,)``), ``clients`` and
    ``limit`` narrow it for a focused run (``python -m benchmarks.bench_api --help``); the defaults run it all."""
    check_size(size)
    n = N_ENT[size]
    data = gpkg(n)
    ids = dataset(n).enterprises["enterprise_id"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    pick = rng.choice(ids, size=4096)
    n_parks = 200
    page_label = f"GET /collections/parks/items?limit={PAGE}&offset=..."
    suit_label = "POST /suitability (enterprise id, top 5)"
    # label -> (request i, period of the request sequence, what the light client checks of each body)
    scenarios = {
        page_label: (lambda i: ("GET", f"/collections/parks/items?limit={PAGE}&offset={(i * PAGE) % n_parks}", None),
                     n_parks // PAGE, "length"),  # each page carries a timeStamp (fixed width): length checked
        suit_label: (lambda i: ("POST", "/suitability", {"enterprise_id": str(pick[i % len(pick)]), "top": 5}),
                     len(pick), "crc32"),  # the same enterprise always gets the same document
    }
    if only is not None:
        wanted = {"page": page_label, "suitability": suit_label}[only]
        scenarios = {k: v for k, v in scenarios.items() if k == wanted}
    results: list[dict] = []
    startups: dict[str, float] = {}
    warmups: dict[str, float] = {}
    references: dict[str, list] = {}
    warm: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        token = _token(db_url)
        headers = {"Authorization": f"Bearer {token}"}
        body_path = Path(tmp) / "page.json"
        for nworkers in workers or WORKERS[size]:
            label = "parkplan, 1 worker" if nworkers == 1 else f"parkplan, {nworkers} workers"
            server = Server(data, db_url, free_port(HOST), workers=nworkers)
            try:
                t = time.perf_counter()
                server.wait()
                startups[label] = time.perf_counter() - t
                warmups[label] = server.wait_idle()
                # warm up: the first suitability call of each worker builds its park context; pages their bytes
                if suit_label in scenarios:
                    warm = asyncio.run(_load(server.url, headers, scenarios[suit_label][0], nworkers * 2, nworkers * 8,
                                             300))
                if page_label in scenarios:
                    asyncio.run(_load(server.url, headers, scenarios[page_label][0], nworkers * 2, nworkers * 16, 120))
                if limit and not body_path.exists():
                    import httpx

                    r = httpx.get(f"{server.url}/collections/parks/items?limit={PAGE}", headers=headers, timeout=60)
                    body_path.write_bytes(r.content)
                if "httpx" in clients:
                    results += _scenarios(label, server, headers, scenarios, size)
                if "light" in clients:
                    results += _light_scenarios(label, server, headers, scenarios, size, references)
            finally:
                server.stop()
        bare = None if not limit or page_label not in scenarios else Server(None, None, free_port(HOST), app="benchmarks._bare_asgi:app",
                      env={"PARKPLAN_BARE_BODY": str(body_path)})
        try:
            if bare is not None:
                bare.wait()
                lim = {f"{page_label} (pre-built bytes)": (scenarios[page_label][0], 1, "crc32")}
                if "httpx" in clients:
                    results += _scenarios("limit: bare ASGI app, same bytes", bare, {}, lim, size)
                if "light" in clients:
                    results += _light_scenarios("limit: bare ASGI app, same bytes", bare, {}, lim, size, references)
        finally:
            if bare is not None:
                bare.stop()
    rows = [[r["label"], r["server"], r["client"], r["load"], f"{r['ok']:,}", _ms(r["p50_ms"]), _ms(r["p99_ms"]),
             f"{r['rps']:,.1f}" if r["rps"] else "n/a", _ms(r["server_cpu_ms"]), _ms(r["client_cpu_ms"]),
             ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"] for r in results]
    load = os.getloadavg()
    body = (
        f"uvicorn (httptools, uvloop when installed) on {HOST} over the built-in dataset ({n:,} enterprises, "
        f"{n_parks} parks), analyst bearer token, clients on the same machine: httpx async clients (what a Python "
        f"client sees) and the light client (`benchmarks/_loadgen.py`: raw asyncio/uvloop HTTP/1.1 keep-alive, one "
        f"connection per client, request bytes built beforehand, its own process pinned to one core; each answer's "
        f"status and body CRC-32 or length checked against a reference answer of the same request; a mismatch is an "
        f"error). Closed loop: each client sends its next request when the last is answered; each httpx scenario "
        f"stops after {REQUESTS[size][0]:,} GET / {REQUESTS[size][1]:,} POST requests, each light-client scenario "
        f"after {LIGHT_REQUESTS[size][0]:,} GET / {LIGHT_REQUESTS[size][1]:,} POST, or {SECONDS[size]:.0f} s. "
        f"POST /suitability asks for {len(pick):,} enterprise ids drawn from the dataset in turn (the server keeps no "
        f"answer cache: every request is scored). For the light client, 'each a-b' is the fewest and the most requests "
        f"one client completed (a client whose connection a less busy worker serves completes more, and the "
        f"percentiles, taken over requests, lean towards it). Open loop (httpx): "
        f"{CONCURRENCY[size][-1]} users each send a request at Poisson times, one per {OPEN_INTERVAL_S:g} s on "
        f"average, for {OPEN_SECONDS[size]:.0f} s, latency counted from the scheduled time. The limit rows are a bare "
        f"ASGI app (no FastAPI) answering the same page bytes under the same uvicorn and clients. Server CPU = "
        f"user+system CPU of the server's processes (psutil) per completed request; client CPU = the client process's "
        f"own CPU per completed request (where it is well above the server's, the client sets the rate). Server "
        f"start (load + join the dataset): " + ", ".join(f"{k} {v:.1f} s" for k, v in startups.items())
        + "; the parkplan servers run as `parkplan serve` does, with the start-up warm-up (its last step freezes the "
        "long-lived objects out of the garbage collector's walk), awaited until the server is idle: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in warmups.items()) + f"; load average after "
        f"{load[0]:.1f}. Client and server share the machine's cores.\n\n"
        + table(["request", "server", "client", "load", "completed", "p50", "p99", "req/s", "server CPU/req",
                 "client CPU/req", "errors"], rows)
    )
    return Report("api", "API under load on loopback", body, {"n": n, "startup_s": startups, "warm_s": warmups, "results": results,
                                                               "warmup": warm})


def _ms(v: float | None) -> str:
    """Milliseconds: two decimals under 10 ms (the light client's CPU per request is a few hundredths), else one."""
    if v is None:
        return "n/a"
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"


def main(argv: list[str] | None = None) -> None:
    """A focused run, printed (RESULTS.md is written only by ``python -m benchmarks api``), e.g. ``python -m
    benchmarks.bench_api --only suitability --workers 1 --client light``."""
    import argparse

    from . import machine

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_api", description=main.__doc__)
    ap.add_argument("--size", choices=("full", "quick", "tiny"), default="full")
    ap.add_argument("--only", choices=("page", "suitability"))
    ap.add_argument("--workers", type=int, action="append", help="worker processes (repeat: 1 and 2); default: both")
    ap.add_argument("--client", choices=("httpx", "light"), action="append", help="default: both")
    ap.add_argument("--no-limit", action="store_true", help="skip the bare ASGI limit rows")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rep = run(args.size, only=args.only, workers=tuple(args.workers) if args.workers else None,
              clients=tuple(args.client or ("httpx", "light")), limit=not args.no_limit)
    info = machine()
    print(f"Command: `python -m benchmarks.bench_api {' '.join(argv if argv is not None else sys.argv[1:])}` "
          f"({started}, {time.perf_counter() - t:.0f} s; load average before {load0[0]:.2f})  \n"
          f"Machine: {info}\n\n{rep.body}")


if __name__ == "__main__":
    main()
