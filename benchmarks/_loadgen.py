"""A light HTTP/1.1 load generator for ``python -m benchmarks api``: costs the client far less CPU per request than
the server it measures (as wrk or h2load would), so on a shared 2-core machine the server, not the client, sets the
rate.

* one keep-alive connection per simulated client (asyncio protocol, uvloop's event loop when installed);
* every request's bytes built once, before the clock starts;
* responses parsed by httptools (the C parser uvicorn uses): ``Content-Length`` and chunked bodies, keep-alive;
* every answer checked: the status, and the body's length or CRC-32 against a reference answer of the same
  request (given, or fetched once before the run); a wrong status, a short or cut body (the connection closed
  before the message completed), a wrong length or checksum, a timeout or a refused connection is an error,
  counted by kind, and the connection is opened again;
* closed loop: each client sends its next request when its last one is answered; the run stops after ``total``
  requests or ``seconds``, whichever comes first.

``run(spec)`` runs the load in a child process (``python -m benchmarks._loadgen``, spec as JSON on standard input,
results as JSON on standard output), optionally pinned to one CPU core, and reports the child's own CPU time per
completed request; :func:`closed_loop` runs it in this process. Only the given host (loopback in the benchmarks)
is addressed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Sequence

__all__ = ["Request", "Expect", "build", "reference", "closed_loop", "run"]


@dataclass(frozen=True)
class Request:
    """One request: method, path with query, body bytes and extra headers (``Host``, ``Content-Length`` and
    ``Connection: keep-alive`` are added by :func:`build`)."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Expect:
    """What a correct answer is: its status, and (when given) the body's length and CRC-32 (``zlib.crc32``).
    ``crc32=None`` checks the length only (for bodies that carry a timestamp of fixed width)."""

    status: int = 200
    length: int | None = None
    crc32: int | None = None


def build(req: Request, host: str, port: int) -> bytes:
    """The raw HTTP/1.1 request bytes."""
    lines = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in req.headers]
    if req.body or req.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(req.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + req.body


class _Answer:
    __slots__ = ("status", "length", "crc", "done", "keep_alive", "error", "t_end")

    def __init__(self) -> None:
        self.status = 0
        self.length = 0
        self.crc = 0
        self.done = False
        self.keep_alive = True
        self.error: str | None = None
        self.t_end = 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection; ``send`` writes a request and returns a future of its :class:`_Answer`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, with_crc: bool) -> None:
        import httptools

        self._httptools = httptools
        self.loop = loop
        self.with_crc = with_crc
        self.transport: asyncio.Transport | None = None
        self.parser: Any = None
        self.answer: _Answer | None = None
        self.waiter: asyncio.Future | None = None
        self.lost = False

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.parser is None:  # bytes nobody asked for
            self._finish("unexpected data")
            return
        try:
            self.parser.feed_data(data)
        except self._httptools.HttpParserError:
            self._finish("malformed response")

    def connection_lost(self, exc) -> None:
        self.lost = True
        if self.answer is not None and not self.answer.done:
            self._finish("truncated body" if self.answer.status else "connection closed")

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self.answer.status = self.parser.get_status_code()  # type: ignore[union-attr]

    def on_body(self, body: bytes) -> None:
        a = self.answer
        a.length += len(body)  # type: ignore[union-attr]
        if self.with_crc:
            a.crc = zlib.crc32(body, a.crc)  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        a = self.answer
        a.t_end = time.perf_counter()  # type: ignore[union-attr]
        a.status = self.parser.get_status_code()  # type: ignore[union-attr]
        a.keep_alive = self.parser.should_keep_alive()  # type: ignore[union-attr]
        a.done = True  # type: ignore[union-attr]
        self.parser = None
        self._resolve()

    # own
    def _finish(self, error: str) -> None:
        if self.answer is not None and not self.answer.done:
            self.answer.error = error
            self.answer.done = True
            self.answer.t_end = time.perf_counter()
        self.parser = None
        self._resolve()

    def _resolve(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(self.answer)

    def send(self, raw: bytes) -> asyncio.Future:
        self.answer = _Answer()
        self.parser = self._httptools.HttpResponseParser(self)
        self.waiter = self.loop.create_future()
        self.transport.write(raw)  # type: ignore[union-attr]
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _check(a: _Answer, exp: Expect) -> str | None:
    """The kind of error of an answer, or ``None`` when it is the expected one."""
    if a.error is not None:
        return a.error
    if a.status != exp.status:
        return f"status {a.status}"
    if exp.length is not None and a.length != exp.length:
        return "body length"
    if exp.crc32 is not None and a.crc != exp.crc32:
        return "body checksum"
    return None


async def _connect(loop, host: str, port: int, with_crc: bool) -> _Connection:
    _, conn = await loop.create_connection(lambda: _Connection(loop, with_crc), host, port)
    return conn


async def _reference(host: str, port: int, raws: Sequence[bytes], timeout: float) -> list[dict]:
    loop = asyncio.get_running_loop()
    conn: _Connection | None = None
    out = []
    for raw in raws:
        if conn is None or conn.lost:
            conn = await _connect(loop, host, port, True)
        a = await asyncio.wait_for(conn.send(raw), timeout)
        out.append({"status": a.status, "length": a.length, "crc32": a.crc, "error": a.error})
        if a.error or not a.keep_alive:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return out


def reference(host: str, port: int, requests: Sequence[Request], timeout: float = 60.0) -> list[dict]:
    """Each request sent once, one after the other on one connection: its status, body length and CRC-32 (the
    reference the load is checked against; ``error`` is set when the answer itself was broken)."""
    return _run_loop(_reference(host, port, [build(r, host, port) for r in requests], timeout))


async def _closed(host: str, port: int, raws: Sequence[bytes], expects: Sequence[Expect], concurrency: int,
                  total: int, seconds: float, timeout: float) -> dict:
    loop = asyncio.get_running_loop()
    with_crc = any(e.crc32 is not None for e in expects)
    n = len(raws)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0
    deadline = time.perf_counter() + seconds

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    per_client: list[int] = []

    async def client() -> None:
        nonlocal issued
        conn: _Connection | None = None
        done = 0
        while issued < total and time.perf_counter() < deadline:
            i = issued
            issued += 1
            if conn is None or conn.lost:
                try:
                    conn = await _connect(loop, host, port, with_crc)
                except OSError as exc:
                    error(f"connect: {type(exc).__name__}")
                    conn = None
                    await asyncio.sleep(0.01)
                    continue
            raw, exp = raws[i % n], expects[i % n]
            t = time.perf_counter()
            fut = conn.send(raw)
            timer = loop.call_later(timeout, conn._finish, "timeout")
            a = await fut
            timer.cancel()
            kind = _check(a, exp)
            if kind is None:
                latencies.append(a.t_end - t)
                done += 1
            else:
                error(kind)
            if kind is not None or not a.keep_alive:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        per_client.append(done)

    c0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    res = _summary(latencies, errors, wall, cpu, concurrency)
    res["per_client"] = [min(per_client), max(per_client)]  # completed requests of the least and most served client
    return res


def _summary(latencies: list[float], errors: dict, wall: float, cpu: float, concurrency: int) -> dict:
    lat = sorted(latencies)
    ok = len(lat)

    def pct(q: float) -> float | None:  # numpy's default (linear) percentile, without importing numpy here
        if not lat:
            return None
        pos = (len(lat) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(lat) - 1)
        return (lat[lo] + (lat[hi] - lat[lo]) * (pos - lo)) * 1e3

    return {"concurrency": concurrency, "ok": ok, "errors": errors, "wall_s": wall, "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "rps": ok / wall if wall > 0 else None, "client_cpu_s": cpu,
            "client_cpu_ms": cpu / ok * 1e3 if ok else None}


def _run_loop(coro):
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of parkplan
        return asyncio.run(coro)
    return uvloop.run(coro)


def closed_loop(host: str, port: int, requests: Sequence[Request], expects: Sequence[Expect], *, concurrency: int,
                total: int, seconds: float, timeout: float = 60.0) -> dict:
    """Closed loop in this process: ``concurrency`` connections, request ``i`` is ``requests[i % len]`` checked
    against ``expects[i % len]``. Returns ``ok``, ``errors`` (kind -> count), ``p50_ms``, ``p99_ms``, ``rps``,
    ``wall_s``, this process's CPU (``client_cpu_s``, ``client_cpu_ms`` per completed request) and ``per_client``
    (the fewest and the most requests one client completed: in a closed loop a client whose connection a less busy
    worker serves completes more, and the percentiles, taken over requests, lean towards it)."""
    if len(requests) != len(expects) or not requests:
        raise ValueError(f"requests ({len(requests)}) and expects ({len(expects)}) must be non-empty and of one length")
    if concurrency < 1 or total < 1 or seconds <= 0:
        raise ValueError(f"concurrency, total and seconds must be positive, got {concurrency}, {total}, {seconds}")
    raws = [build(r, host, port) for r in requests]
    return _run_loop(_closed(host, port, raws, list(expects), concurrency, total, seconds, timeout))


def run(host: str, port: int, requests: Sequence[Request], expects: Sequence[Expect], *, concurrency: int,
        total: int, seconds: float, timeout: float = 60.0, cpu: int | None = None) -> dict:
    """:func:`closed_loop` in a child process (``python -m benchmarks._loadgen``), pinned to CPU ``cpu`` when
    given (Linux); its CPU time per completed request is the client's cost. The child's start-up is not counted."""
    spec = {"host": host, "port": port, "concurrency": concurrency, "total": total, "seconds": seconds,
            "timeout": timeout, "cpu": cpu,
            "requests": [{"method": r.method, "path": r.path, "body": r.body.decode("latin-1"),
                          "headers": [list(h) for h in r.headers]} for r in requests],
            "expects": [asdict(e) for e in expects]}
    proc = subprocess.run([sys.executable, "-m", "benchmarks._loadgen"], input=json.dumps(spec).encode(),
                          capture_output=True, timeout=seconds + timeout + 120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return json.loads(proc.stdout)


def _main() -> None:
    spec = json.loads(sys.stdin.buffer.read())
    if spec.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(spec["cpu"])})
    requests = [Request(r["method"], r["path"], r["body"].encode("latin-1"), tuple(tuple(h) for h in r["headers"]))
                for r in spec["requests"]]
    expects = [Expect(**e) for e in spec["expects"]]
    res = closed_loop(spec["host"], spec["port"], requests, expects, concurrency=spec["concurrency"],
                      total=spec["total"], seconds=spec["seconds"], timeout=spec["timeout"])
    res["pinned_cpu"] = spec.get("cpu")
    sys.stdout.write(json.dumps(res))


if __name__ == "__main__":
    _main()
